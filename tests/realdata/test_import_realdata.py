"""Real third-party files from ../shared/realdata imported on both backends."""

import csv
from pathlib import Path

import numpy as np
import pytest

import geopandas as gpd
from pyproj import Geod

from geogrid.domain.codes import AreaLevel
from geogrid.errors import ImportRejected
from geogrid.services.boundaries import import_boundaries
from geogrid.services.imports import ImportOptions, import_features
from geogrid.store import areas as area_store
from geogrid.store import layers as layer_store
from geogrid.store.engine import Bind, session_scope

pytestmark = pytest.mark.realdata

BEIJING = "beijing_subdistricts/beijing_subdistricts.geojson"
TAIPEI = "taiwan_villages_g0v/taipei_villages_1982.geojson"


def _areas(db: Bind, level: str) -> gpd.GeoDataFrame:
    with session_scope(db) as session:
        return area_store.areas_frame(session, level=level)


def _features(db: Bind, layer: str) -> gpd.GeoDataFrame:
    with session_scope(db) as session:
        return layer_store.features_frame(session, layer)


def _boundaries(db: Bind, path: Path, level: AreaLevel, **options: object):
    return import_boundaries(
        db, path, level=level, options=ImportOptions(**options), tolerance_m=5.0
    )


def test_beijing_streets_import_under_their_districts(
    db: Bind, realdata: Path, tmp_path: Path
) -> None:
    streets = gpd.read_file(realdata / BEIJING)
    districts = streets.dissolve(by="parentCode").reset_index()[
        ["parentCode", "district_file", "geometry"]
    ]
    districts.columns = ["code", "name", "geometry"]
    districts.to_file(tmp_path / "districts.gpkg")

    _boundaries(db, tmp_path / "districts.gpkg", AreaLevel.DISTRICT)
    report = _boundaries(
        db,
        realdata / BEIJING,
        AreaLevel.STREET,
        name_field="Name",
        parent_field="parentCode",
    )

    stored = _areas(db, "street")
    assert report.n_written == 343
    assert report.problems == []
    assert len(_areas(db, "district")) == 16
    assert stored["parent_code"].nunique() == 16
    assert set(stored["code"]) == set(streets["code"])
    assert stored.set_index("code").loc["110114104000", "name"] == "阳坊镇"


def test_beijing_streets_with_unknown_districts_are_all_reported(
    db: Bind, realdata: Path, tmp_path: Path
) -> None:
    # One district stored, so the other 15 parent codes are unknown.
    streets = gpd.read_file(realdata / BEIJING)
    one = (
        streets[streets["parentCode"] == "110101000000"]
        .dissolve()
        .assign(code="110101000000", name="东城区")
    )
    one[["code", "name", "geometry"]].to_file(tmp_path / "dongcheng.gpkg")
    _boundaries(db, tmp_path / "dongcheng.gpkg", AreaLevel.DISTRICT)

    with pytest.raises(ImportRejected) as caught:
        _boundaries(
            db,
            realdata / BEIJING,
            AreaLevel.STREET,
            name_field="Name",
            parent_field="parentCode",
        )

    errors = caught.value.report.errors
    expected = int((streets["parentCode"] != "110101000000").sum())
    assert len(errors) == expected
    assert {e.code for e in errors} == {"parent_unknown"}
    assert _areas(db, "street").empty


def test_taipei_villages_report_the_one_invalid_polygon(
    db: Bind, realdata: Path
) -> None:
    options = {
        "code_field": "VILLAGESN",
        "name_field": "VILLAGENAM",
        "is_free_codes": True,
    }

    with pytest.raises(ImportRejected) as caught:
        _boundaries(db, realdata / TAIPEI, AreaLevel.COMMUNITY, **options)
    report = _boundaries(
        db, realdata / TAIPEI, AreaLevel.COMMUNITY, repair=True, **options
    )

    assert [(e.record, e.code) for e in caught.value.report.errors] == [
        ("630000393", "geometry_invalid")
    ]
    assert "Self-intersection" in str(caught.value.report.errors[0].params["reason"])
    assert report.n_written == 448
    assert [(w.record, w.code) for w in report.warnings] == [
        ("630000393", "geometry_repaired")
    ]
    assert _areas(db, "community").geometry.is_valid.all()


def test_taipei_village_ids_are_not_nbs_codes_and_one_repeats(
    db: Bind, realdata: Path
) -> None:
    with pytest.raises(ImportRejected) as caught:
        _boundaries(
            db,
            realdata / TAIPEI,
            AreaLevel.COMMUNITY,
            code_field="VILLAGEID",
            name_field="VILLAGENAM",
            repair=True,
        )

    counts = caught.value.report.count_by_code()
    assert counts == {"code_invalid": 448, "code_duplicate": 1, "geometry_repaired": 1}
    dup = next(e for e in caught.value.report.errors if e.code == "code_duplicate")
    assert dup.record == "6300002031"


def test_lujiazui_buildings_and_addresses(db: Bind, realdata: Path) -> None:
    folder = realdata / "shanghai_lujiazui_osm"

    buildings = import_features(
        db,
        folder / "lujiazui_buildings.geojson",
        layer="buildings",
        options=ImportOptions(code_field="id"),
    )
    addresses = import_features(
        db,
        folder / "lujiazui_address_points.geojson",
        layer="addresses",
        options=ImportOptions(
            code_field="id", text_field="addr_street,addr_housenumber"
        ),
    )

    assert (buildings.n_written, addresses.n_written) == (1450, 162)
    stored = _features(db, "buildings")
    assert (stored["name"] != "").sum() == 220
    assert stored["attrs"].map(lambda a: a.get("kind")).value_counts().to_dict() == {
        "building": 1321,
        "building_part": 129,
    }
    texts = set(_features(db, "addresses")["text"])
    assert "滨江大道2727" in texts


def test_beijing_gcj02_points_land_on_the_reference_wgs84(
    db: Bind, realdata: Path
) -> None:
    folder = realdata / "beijing_adcode_2016"

    report = import_features(
        db,
        folder / "beijing_town_village_points_gcj02.geojson",
        layer="addresses",
        options=ImportOptions(crs="gcj02", text_field="name"),
    )

    stored = _features(db, "addresses").set_index("code")
    with (folder / "community_to_subdistrict_eval.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    ref_x = np.array([float(r["lng_wgs84_prcoords"]) for r in rows])
    ref_y = np.array([float(r["lat_wgs84_prcoords"]) for r in rows])
    points = stored.loc[[r["code"] for r in rows]].geometry
    _, _, dist = Geod(ellps="WGS84").inv(
        points.x.to_numpy(), points.y.to_numpy(), ref_x, ref_y
    )
    assert report.n_written == 2585
    assert len(rows) == 2331
    assert dist.max() < 0.05


def test_beijing_division_table_csv_keeps_rows_without_points(
    db: Bind, realdata: Path
) -> None:
    path = realdata / "beijing_adcode_2016" / "beijing_adcode_2016.csv"
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))

    report = import_features(
        db,
        path,
        layer="addresses",
        options=ImportOptions(
            crs="gcj02", text_field="name", lon_field="longitude", lat_field="latitude"
        ),
    )

    stored = _features(db, "addresses")
    assert report.n_written == len(rows) == 7361
    assert stored.geometry.notna().sum() == sum(
        1 for r in rows if r["longitude"].strip()
    )
