"""``geogrid serve``: the configured host, port and workers reach uvicorn."""

from typing import Any

import pytest
import uvicorn

from tests.cli.conftest import invoke


def test_serve_runs_the_configured_workers(
    cli_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(
        uvicorn, "run", lambda app, **kw: calls.append(kw | {"app": app})
    )
    monkeypatch.setenv("GEOGRID_WORKERS", "3")
    runner = cli_for("sqlite:///unused.sqlite")

    default = invoke(runner, "serve")
    given = invoke(runner, "serve", "--workers", "1", "--port", "8123")

    assert default.exit_code == given.exit_code == 0
    assert calls[0]["workers"] == 3
    assert calls[0]["factory"] is True
    assert (calls[1]["workers"], calls[1]["port"]) == (1, 8123)
