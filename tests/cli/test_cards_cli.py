"""``geogrid map cards`` writes a printable contact card per grid, and an index."""

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from geogrid.services.publishing import public_map_data
from geogrid.store.engine import Bind
from tests.cli.conftest import invoke

COMMUNITY = "620899001001"
GRID = "620899001001001"


@pytest.fixture
def run(cli_for: Callable[[str], CliRunner], sample_db: Engine) -> CliRunner:
    return cli_for(sample_db.url.render_as_string(hide_password=False))


def test_map_cards_writes_a_card_per_grid_and_an_index(
    run: CliRunner, sample_db: Bind, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEOGRID_PUBLIC_BASE_URL", "https://grid.example.gov.cn/")
    grids = [g.code for g in public_map_data(sample_db, COMMUNITY).grids]

    result = invoke(run, "map", "cards", "--community", COMMUNITY, "-o", tmp_path)

    assert result.exit_code == 0
    written = sorted(p.name for p in tmp_path.glob("*.html"))
    assert written == sorted(
        ["index.html", "print-all.html", *[f"{g}-card.html" for g in grids]]
    )
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert all(f"href='{g}-card.html'" in index for g in grids)
    card = (tmp_path / f"{GRID}-card.html").read_text(encoding="utf-8")
    assert "qr-code" in card


def test_map_cards_refuse_a_qr_a_phone_cannot_open(
    run: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GEOGRID_PUBLIC_BASE_URL", raising=False)

    refused = invoke(run, "map", "cards", "--community", COMMUNITY, "-o", tmp_path)

    assert refused.exit_code == 2
    assert "public_base_url_missing" in refused.output
    assert "--no-qr" in refused.output
    assert not list(tmp_path.glob("*.html"))  # nothing half-written

    plain = invoke(
        run, "map", "cards", "--community", COMMUNITY, "--no-qr", "-o", tmp_path
    )

    assert plain.exit_code == 0
    card = (tmp_path / f"{GRID}-card.html").read_text(encoding="utf-8")
    assert "qr-code" not in card
    assert "#grid=" not in card
    assert "网格便民联系卡" in card


def test_map_cards_unknown_community_exits_2(
    run: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEOGRID_PUBLIC_BASE_URL", "https://grid.example.gov.cn/")
    result = invoke(run, "map", "cards", "--community", "620899001099", "-o", tmp_path)

    assert result.exit_code == 2
    assert "area_not_found" in result.output


def test_map_cards_link_to_the_published_site(
    run: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEOGRID_PUBLIC_BASE_URL", "https://grid.example.gov.cn/")

    result = invoke(run, "map", "cards", "--community", COMMUNITY, "-o", tmp_path)

    card = (tmp_path / f"{GRID}-card.html").read_text(encoding="utf-8")
    assert result.exit_code == 0
    assert (
        f"https://grid.example.gov.cn/maps/public/{COMMUNITY}.html#grid={GRID}" in card
    )
    assert "GEOGRID_PUBLIC_BASE_URL" not in result.output
