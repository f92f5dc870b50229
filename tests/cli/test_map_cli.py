"""``geogrid map public`` writes a static site a person can open offline."""

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from tests.cli.conftest import invoke


@pytest.fixture
def run(cli_for: Callable[[str], CliRunner], sample_db: Engine) -> CliRunner:
    return cli_for(sample_db.url.render_as_string(hide_password=False))


def test_map_public_all_writes_an_index_and_a_page_per_community(
    run: CliRunner, tmp_path: Path
) -> None:
    result = invoke(run, "map", "public", "--all", "-o", tmp_path / "site")

    pages = sorted(p.name for p in (tmp_path / "site").glob("*.html"))
    assert result.exit_code == 0
    assert pages == sorted(
        ["index.html", *[f"62089900100{i}.html" for i in range(1, 9)]]
    )
    assert "620899001003.html" in (tmp_path / "site" / "index.html").read_text(
        encoding="utf-8"
    )
    assert (tmp_path / "site" / "static" / "leaflet" / "leaflet.css").exists()


@pytest.mark.parametrize(
    ("args", "code"),
    [([], "value_invalid"), (["--community", "620899001099"], "area_not_found")],
    ids=["no-community", "unknown"],
)
def test_map_public_bad_community_exits_2(
    run: CliRunner, tmp_path: Path, args: list[str], code: str
) -> None:
    result = invoke(run, "map", "public", "-o", tmp_path, *args)

    assert result.exit_code == 2
    assert code in result.output


def test_map_coverage_writes_the_staff_page(run: CliRunner, tmp_path: Path) -> None:
    result = invoke(
        run, "map", "coverage", "--community", "620899001006", "-o", tmp_path
    )

    assert result.exit_code == 0
    assert "620899001006-B0017" in (tmp_path / "620899001006-coverage.html").read_text(
        encoding="utf-8"
    )


def test_map_staff_writes_the_staff_page(run: CliRunner, tmp_path: Path) -> None:
    result = invoke(run, "map", "staff", "--community", "620899001005", "-o", tmp_path)

    assert result.exit_code == 0
    assert "户数 641" in (tmp_path / "620899001005-staff.html").read_text(
        encoding="utf-8"
    )
