"""The ``geogrid`` command as a user types it, on both backends."""

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

import geopandas as gpd

from geogrid.services.summary import database_summary
from geogrid.store.engine import make_engine
from tests.cli.conftest import invoke
from tests.conftest import SAMPLE
from tests.factories import COMMUNITY, X0, Y0, community_file, grid_file, write_geojson


@pytest.fixture
def run(cli_for: Callable[[str], CliRunner], database_url: str) -> CliRunner:
    return cli_for(database_url)


def test_import_then_export_boundaries(run: CliRunner, tmp_path: Path) -> None:
    community = invoke(
        run,
        "import",
        "boundaries",
        community_file(tmp_path / "c.geojson"),
        "--level",
        "community",
    )
    grid = invoke(
        run,
        "import",
        "boundaries",
        grid_file(tmp_path / "g.geojson"),
        "--level",
        "grid",
    )
    exported = invoke(run, "export", "grid", "-o", tmp_path / "grid.gpkg")

    assert (community.exit_code, grid.exit_code, exported.exit_code) == (0, 0, 0)
    assert "已导入 4 条网格" in grid.output
    assert "已导出 4 条网格" in exported.output
    frame = gpd.read_file(tmp_path / "grid.gpkg")
    assert frame["parent_code"].tolist() == [COMMUNITY] * 4


def test_rejected_import_exits_non_zero_and_lists_records(
    run: CliRunner, tmp_path: Path
) -> None:
    bad = write_geojson(
        tmp_path / "bad.geojson",
        [
            (
                {"code": "62089900100", "name": "短编码"},
                {"type": "Point", "coordinates": [X0, Y0]},
            ),
            (
                {"code": "", "name": "无编码"},
                {"type": "Point", "coordinates": [X0, Y0]},
            ),
        ],
    )

    result = invoke(run, "import", "boundaries", bad, "--level", "community")

    assert result.exit_code == 2  # bad input; 1 is kept for findings
    assert "62089900100" in result.output
    assert "#2" in result.output
    assert "geometry_type_wrong" in result.output
    assert "导入被拒绝" in result.output


def test_json_report_in_english(run: CliRunner, tmp_path: Path) -> None:
    bad = write_geojson(tmp_path / "bad.geojson", [({"code": "", "name": "x"}, None)])

    result = invoke(
        run,
        "--lang",
        "en",
        "import",
        "boundaries",
        bad,
        "--level",
        "community",
        "--format",
        "json",
    )

    report = json.loads(result.output)
    assert result.exit_code == 2
    assert {p["code"] for p in report["problems"]} == {
        "code_missing",
        "geometry_missing",
    }
    assert "Code is missing" in {p["message"] for p in report["problems"]}


def test_csv_without_crs_is_refused_with_a_hint(run: CliRunner, tmp_path: Path) -> None:
    csv = tmp_path / "a.csv"
    csv.write_text(f"code,text,lon,lat\nA1,东街1号,{X0},{Y0}\n", encoding="utf-8")

    result = invoke(run, "import", "addresses", csv)

    assert result.exit_code == 2
    assert "--crs" in result.output


def test_import_scheme_preset_and_file(run: CliRunner, tmp_path: Path) -> None:
    scheme = tmp_path / "s.yaml"
    scheme.write_text(
        "name: 我的方案\nroles:\n  - {key: keeper, title: 网格管家, attaches_to: grid}\n",
        encoding="utf-8",
    )

    preset = invoke(run, "import", "scheme", "三长")
    own = invoke(run, "import", "scheme", scheme)

    assert preset.exit_code == own.exit_code == 0
    assert "弄巷长" in preset.output
    assert "网格管家(keeper)" in own.output


def test_demo_builds_the_sample_county_and_is_repeatable(
    run: CliRunner, database_url: str, tmp_path: Path
) -> None:
    summary = json.loads((SAMPLE / "defects.json").read_text(encoding="utf-8"))[
        "summary"
    ]

    first = invoke(run, "demo")
    again = invoke(run, "demo")

    assert first.exit_code == again.exit_code == 0
    engine = make_engine(database_url)
    counts = database_summary(engine)
    engine.dispose()
    assert counts == {
        "district": summary["districts"],
        "street": summary["streets"],
        "community": summary["communities"],
        "grid": summary["grids"],
        "estate": summary["estates"],
        "buildings": summary["buildings"],
        "lanes": summary["lanes"],
        "roads": 0,  # the sample county has none
        "addresses": summary["addresses"],
        "centres": summary["centres"],
        "people": summary["people"],
        "assignments": summary["assignments"],
    }
    for label in ("街道", "社区", "网格", "楼栋", "地址", "人员", "任职"):
        assert label in first.output
    assert str(summary["assignments"]) in first.output
    # The second run finds every area unchanged and every assignment kept.
    assert '"unchanged": 51' in again.output
    assert f'"unchanged": {summary["assignments"]}' in again.output
    # Every layer can be written out for QGIS with the stored counts.
    for layer, key in EXPORTS.items():
        suffix = ".csv" if layer == "people" else ".gpkg"
        out = tmp_path / f"{layer}{suffix}"
        assert invoke(run, "export", layer, "-o", out).exit_code == 0
        frame = pd.read_csv(out, dtype=str) if layer == "people" else gpd.read_file(out)
        assert len(frame) == summary[key], layer


EXPORTS = {
    "district": "districts",
    "street": "streets",
    "community": "communities",
    "grid": "grids",
    "estate": "estates",
    "buildings": "buildings",
    "lanes": "lanes",
    "addresses": "addresses",
    "centres": "centres",
    "people": "assignments",
}


def test_assign_reports_the_stray_building(run: CliRunner) -> None:
    invoke(run, "demo")

    result = invoke(run, "assign")

    assert result.exit_code == 0
    assert "620899001006-B0017" in result.output
    assert "1 栋不在任何网格" in result.output


def test_assign_names_a_few_buildings_and_counts_the_rest(
    run: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A city's thousands of split buildings are counted, listed only when asked."""
    from geogrid.cli import lookup

    def named(output: str) -> list[str]:
        return [
            line for line in output.splitlines() if "grid:" in line or "split:" in line
        ]

    invoke(run, "demo")
    monkeypatch.setattr(lookup, "LISTED", 0)  # the sample has one stray building
    short = invoke(run, "assign")
    full = invoke(run, "assign", "--full")

    assert short.exit_code == full.exit_code == 0
    assert named(short.output) == []
    assert named(full.output) == ["  不在网格 no grid: 620899001006-B0017"]
    assert "另有 1 栋未列出" in short.output
    assert "--full" not in full.output


def test_a_bug_exits_3_with_the_log_path_and_no_traceback(
    run: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import geogrid.services.summary

    def broken(_engine: object) -> dict[str, int]:
        raise ZeroDivisionError("a bug, not the user's data")

    monkeypatch.setattr(geogrid.services.summary, "database_summary", broken)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))

    result = invoke(run, "status")

    assert result.exit_code == 3
    assert "Traceback" not in result.output
    log = tmp_path / "state" / "geogrid" / "error.log"
    assert str(log) in result.output.replace("\n", "")
    assert "ZeroDivisionError: a bug" in log.read_text(encoding="utf-8")


def test_usage_errors_keep_exit_code_2(run: CliRunner) -> None:
    result = invoke(run, "import", "boundaries", "--no-such-option")
    assert result.exit_code == 2


def test_a_database_from_a_newer_geogrid_is_a_message_not_a_crash(
    cli_for: Callable[[str], CliRunner], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'newer.sqlite'}"
    run = cli_for(url)
    invoke(run, "init")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()

    result = invoke(run, "status")

    assert result.exit_code != 0
    assert "schema_newer" in result.output
    assert "Traceback" not in result.output
    assert "内部错误" not in result.output
