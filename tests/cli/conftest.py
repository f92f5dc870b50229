"""Run the ``geogrid`` command against a test database."""

from collections.abc import Iterator

import pytest
from click.testing import Result
from typer.testing import CliRunner

from geogrid.cli import app
from geogrid.config import get_settings


@pytest.fixture
def cli_for(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Point the command at a database URL, with fresh settings each time."""

    def point_at(url: str) -> CliRunner:
        monkeypatch.setenv("GEOGRID_DATABASE_URL", url)
        monkeypatch.delenv("GEOGRID_LANG", raising=False)
        get_settings.cache_clear()
        return CliRunner()

    yield point_at
    get_settings.cache_clear()


def invoke(runner: CliRunner, *args: object) -> Result:
    """Run one command line as a user would type it."""
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
