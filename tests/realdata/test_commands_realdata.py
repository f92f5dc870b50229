"""Every real dataset through the commands a user runs (issue 12), on both backends.

import → assign → check (every format) → map public / coverage → plan propose,
asserting exit codes (0 clean, 1 error findings, 2 bad input, never 3) and
that no output holds a Python traceback. The Beijing counts are checked
against an independent shapely computation made here.
"""

import csv
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import geopandas as gpd
import shapely

from geogrid.api.app import create_app
from geogrid.config import Settings
from geogrid.store.engine import make_engine
from tests.cli.conftest import invoke

pytestmark = pytest.mark.realdata

BEIJING = "beijing_subdistricts/beijing_subdistricts.geojson"
TAIPEI = "taiwan_villages_g0v/taipei_villages_1982.geojson"
TAIWAN = "taiwan_villages_g0v/twVillage1982.topo.json"
LUJIAZUI = "shanghai_lujiazui_osm"
ADCODE = "beijing_adcode_2016"


@pytest.fixture
def run(cli_for: Callable[[str], CliRunner], database_url: str) -> CliRunner:
    return cli_for(database_url)


def geogrid(run: CliRunner, *args: object, exit_code: int | tuple[int, ...] = 0):
    """Run one command; it must exit as expected and never show a traceback."""
    result = invoke(run, *args)
    assert "Traceback" not in result.output
    expected = exit_code if isinstance(exit_code, tuple) else (exit_code,)
    assert result.exit_code in expected, result.output
    return result


def check_every_format(run: CliRunner, tmp_path: Path, exit_code: int) -> dict:
    """``geogrid check`` in every format; the JSON report is returned."""
    for fmt in ("text", "json", "geojson", "csv"):
        out = tmp_path / f"check.{fmt}"
        geogrid(run, "check", "--format", fmt, "-o", out, exit_code=exit_code)
        assert out.stat().st_size > 0
    return json.loads((tmp_path / "check.json").read_text(encoding="utf-8"))


def beijing_truth(path: Path) -> tuple[int, int]:
    """Overlapping pairs (≥ 1 m²) and holes of the union, in UTM 50N, by shapely alone."""
    streets = gpd.read_file(path).to_crs(32650)
    geoms = shapely.make_valid(np.asarray(streets.geometry.array))
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pairs = left < right
    areas = shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]]))
    holes = sum(
        len(p.interiors) for p in shapely.get_parts(shapely.union_all(geoms)).tolist()
    )
    return int((areas >= 1).sum()), holes


def test_beijing_streets_check_into_a_report_on_every_surface(
    run: CliRunner, database_url: str, realdata: Path, tmp_path: Path
) -> None:
    overlaps, holes = beijing_truth(realdata / BEIJING)
    assert (overlaps, holes) == (62, 313)  # the data README's figures

    geogrid(run, "import", "boundaries", realdata / BEIJING, "--level", "street")
    report = check_every_format(run, tmp_path, exit_code=1)

    by_rule = report["summary"]["by_rule"]
    assert by_rule["overlap"] == overlaps
    assert by_rule["gap"] + by_rule["sliver"] == holes
    assert "geometry_unprocessable" not in by_rule
    features = json.loads((tmp_path / "check.geojson").read_text(encoding="utf-8"))
    assert len(features["features"]) == len(report["findings"])

    # The staff's coverage map of one street: its overlaps drawn.
    geogrid(run, "map", "coverage", "--area", "110105001000", "-o", tmp_path / "m")
    page = (tmp_path / "m" / "110105001000-coverage.html").read_text(encoding="utf-8")
    assert "重叠" in page

    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    engine = make_engine(database_url)
    try:
        with TestClient(create_app(settings, bind=engine)) as client:
            coverage = client.get("/coverage")
            assert coverage.status_code == 200
            assert coverage.json()["summary"]["by_rule"]["overlap"] == overlaps
            assert client.get("/coverage.geojson").status_code == 200
            items = client.get(
                "/ogc/collections/coverage-defects/items", params={"limit": 1000}
            )
            assert items.status_code == 200
            assert items.json()["numberMatched"] == len(report["findings"])
    finally:
        engine.dispose()


def test_taiwan_villages_topojson_imports_after_repair_and_checks(
    run: CliRunner, realdata: Path, tmp_path: Path
) -> None:
    options = [
        "--level",
        "community",
        "--free-codes",
        "--code-field",
        "VILLAGESN",
        "--name-field",
        "VILLAGENAM",
    ]
    path = realdata / TAIWAN
    # TopoJSON records no CRS: refused with the hint, then 8 invalid polygons.
    assert (
        "--crs"
        in geogrid(run, "import", "boundaries", path, *options, exit_code=2).output
    )
    options += ["--crs", "EPSG:4326"]
    rejected = geogrid(run, "import", "boundaries", path, *options, exit_code=2)
    assert "导入被拒绝：8 条记录有错误" in rejected.output.replace("\n", "")
    geogrid(run, "import", "boundaries", path, *options, "--repair")

    report = check_every_format(run, tmp_path, exit_code=1)

    assert report["summary"]["by_rule"]["overlap"] >= 150
    geogrid(run, "map", "public", "--community", "630000001", "-o", tmp_path / "p")
    geogrid(run, "map", "coverage", "--area", "630000001", "-o", tmp_path / "c")


def test_taipei_villages_are_a_clean_partition(
    run: CliRunner, realdata: Path, tmp_path: Path
) -> None:
    geogrid(
        run,
        "import",
        "boundaries",
        realdata / TAIPEI,
        "--level",
        "community",
        "--free-codes",
        "--code-field",
        "VILLAGESN",
        "--name-field",
        "VILLAGENAM",
        "--repair",
    )
    report = check_every_format(run, tmp_path, exit_code=0)
    assert report["summary"]["n_errors"] == 0


def test_lujiazui_compounds_buildings_and_addresses_end_to_end(
    run: CliRunner, realdata: Path, tmp_path: Path
) -> None:
    osm = realdata / LUJIAZUI
    geogrid(
        run,
        "import",
        "boundaries",
        osm / "lujiazui_landuse_compounds.geojson",
        "--level",
        "community",
        "--free-codes",
        "--code-field",
        "id",
    )
    geogrid(
        run,
        "import",
        "buildings",
        osm / "lujiazui_buildings.geojson",
        "--code-field",
        "id",
        "--repair",
    )
    geogrid(
        run,
        "import",
        "addresses",
        osm / "lujiazui_address_points.geojson",
        "--code-field",
        "id",
        "--text-field",
        "addr_street,addr_housenumber",
    )
    # POIs are no service centres: each record refused by name, nothing written.
    pois = geogrid(
        run,
        "--lang",
        "en",
        "import",
        "centres",
        osm / "lujiazui_pois.geojson",
        "--code-field",
        "id",
        "--format",
        "json",
        exit_code=2,
    )
    problems = json.loads(pois.output)["problems"]
    assert {p["code"] for p in problems} == {"radius_missing"}
    assert not any(p["record"].endswith(".0") for p in problems)  # OSM ids as ids

    geogrid(run, "assign")
    report = check_every_format(run, tmp_path, exit_code=1)
    assert report["summary"]["by_rule"]["building_no_grid"] > 0

    geogrid(run, "map", "public", "--all", "-o", tmp_path / "site")
    assert (tmp_path / "site" / "index.html").exists()
    compound = gpd.read_file(osm / "lujiazui_landuse_compounds.geojson")
    biggest = str(compound.to_crs(32651).area.idxmax())
    code = str(compound["id"].iloc[int(biggest)])
    geogrid(run, "map", "coverage", "--area", code, "-o", tmp_path / "c")
    # Grids need households to propose: a clear refusal or a proposal, never a crash.
    geogrid(run, "plan", "propose", "--community", code, exit_code=(0, 2))


def test_beijing_division_table_and_corpus_csvs(
    run: CliRunner, realdata: Path, tmp_path: Path
) -> None:
    table = realdata / ADCODE / "beijing_adcode_2016.csv"
    geogrid(
        run,
        "import",
        "addresses",
        table,
        "--code-field",
        "code",
        "--text-field",
        "name",
        "--lon-field",
        "longitude",
        "--lat-field",
        "latitude",
        "--crs",
        "gcj02",
    )
    with table.open(encoding="utf-8") as f:
        rows = sum(1 for _ in csv.DictReader(f))
    status = geogrid(run, "status")
    assert str(rows) in status.output

    # A corpus of addresses with no coordinates at all: a clear refusal.
    corpus = realdata / "cpca_address_corpus" / "addr.csv"
    refused = geogrid(
        run, "import", "addresses", corpus, "--crs", "EPSG:4326", exit_code=2
    )
    assert "错误" in refused.output
    # The town and village points as service centres, each with a radius.
    points = gpd.read_file(
        realdata / ADCODE / "beijing_town_village_points_gcj02.geojson"
    )
    points.assign(kind="社区中心", radius_m=1500).to_file(tmp_path / "centres.gpkg")
    geogrid(run, "import", "centres", tmp_path / "centres.gpkg", "--crs", "gcj02")
    # No area is loaded: a point lookup finds nothing (exit 1), it does not fail.
    geogrid(run, "lookup", "--point", "116.397,39.909", "--crs", "gcj02", exit_code=1)
    # Rows without a point are listed as unassigned, never dropped.
    unassigned = geogrid(run, "check", "--format", "json", exit_code=1)
    assert '"address_unassigned"' in unassigned.output
