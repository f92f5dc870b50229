from datetime import datetime
from pathlib import Path

import pytest

import geopandas as gpd
from shapely.geometry import Point, Polygon, box

from geogrid.domain.codes import AreaLevel
from geogrid.errors import ImportRejected, InvalidInput
from geogrid.services.boundaries import import_boundaries
from geogrid.services.imports import ImportOptions
from geogrid.store import areas as area_store
from geogrid.store.engine import Bind, session_scope
from tests.factories import (
    COMMUNITY,
    X0,
    Y0,
    community_file,
    grid_file,
    square,
    write_geojson,
)

T1 = datetime(2025, 1, 1)
T2 = datetime(2026, 1, 1)


def _import(db: Bind, path: Path, level: AreaLevel, **options: object):
    return import_boundaries(
        db, path, level=level, options=ImportOptions(**options), tolerance_m=5.0
    )


def _areas(db: Bind, level: str, **kwargs: object):
    with session_scope(db) as session:
        return area_store.areas_frame(session, level=level, **kwargs)


@pytest.fixture
def community(db: Bind, tmp_path: Path) -> Bind:
    _import(
        db,
        community_file(tmp_path / "community.geojson"),
        AreaLevel.COMMUNITY,
        valid_from=T1,
    )
    return db


def test_import_boundaries_derives_parent_from_nbs_code(
    community: Bind, tmp_path: Path
) -> None:
    report = _import(
        community, grid_file(tmp_path / "grid.geojson"), AreaLevel.GRID, valid_from=T1
    )

    grids = _areas(community, "grid")
    assert report.n_written == 4
    assert grids["code"].tolist() == [f"{COMMUNITY}00{i}" for i in range(1, 5)]
    assert set(grids["parent_code"]) == {COMMUNITY}


def test_import_boundaries_finds_parent_by_location_for_free_codes(
    community: Bind, tmp_path: Path
) -> None:
    path = write_geojson(
        tmp_path / "g.geojson", [({"code": "G-1", "name": "自编网格"}, square(1, 1))]
    )

    _import(community, path, AreaLevel.GRID, is_free_codes=True)

    assert _areas(community, "grid")["parent_code"].tolist() == [COMMUNITY]


def test_redraw_keeps_the_old_generation_queryable(
    community: Bind, tmp_path: Path
) -> None:
    _import(
        community, grid_file(tmp_path / "v1.geojson"), AreaLevel.GRID, valid_from=T1
    )
    first_ids = set(_areas(community, "grid")["id"])
    # v2: grid 004 is dropped and grid 003 takes over its cell.
    v2 = write_geojson(
        tmp_path / "v2.geojson",
        [
            ({"code": f"{COMMUNITY}001", "name": "东街社区第1网格"}, square(0, 0)),
            ({"code": f"{COMMUNITY}002", "name": "东街社区第2网格"}, square(1, 0)),
            (
                {"code": f"{COMMUNITY}003", "name": "东街社区第3网格"},
                box(X0, Y0 + 0.01, X0 + 0.02, Y0 + 0.02),
            ),
        ],
    )

    # Leaving grid 004 out ends it only when the user says the file is whole.
    with pytest.raises(InvalidInput) as caught:
        _import(community, v2, AreaLevel.GRID, valid_from=T2)
    assert caught.value.code == "areas_would_end"
    assert f"{COMMUNITY}004" in caught.value.message("en")
    assert set(_areas(community, "grid")["id"]) == first_ids

    report = _import(community, v2, AreaLevel.GRID, valid_from=T2, is_replace=True)

    assert report.counts == {"inserted": 1, "unchanged": 2, "replaced": 1, "ended": 1}
    now = _areas(community, "grid")
    before = _areas(community, "grid", as_of=datetime(2025, 6, 1))
    assert now["code"].tolist() == [f"{COMMUNITY}00{i}" for i in (1, 2, 3)]
    assert before["code"].tolist() == [f"{COMMUNITY}00{i}" for i in (1, 2, 3, 4)]
    assert before.set_index("code").geometry[f"{COMMUNITY}003"].area == pytest.approx(
        0.0001
    )
    assert now.set_index("code").geometry[f"{COMMUNITY}003"].area == pytest.approx(
        0.0002
    )
    # Unchanged grids keep their row; nothing before T1 existed.
    assert {i for i in now["id"] if i in first_ids} == set(
        now[now["code"].isin([f"{COMMUNITY}001", f"{COMMUNITY}002"])]["id"]
    )
    assert _areas(community, "grid", as_of=datetime(2024, 1, 1)).empty
    with session_scope(community) as session:
        history = area_store.history_frame(session, f"{COMMUNITY}003")
    assert history["valid_to"].iloc[0] == T2
    assert history["valid_to"].isna().tolist() == [False, True]


def test_reimporting_the_same_file_changes_nothing(
    community: Bind, tmp_path: Path
) -> None:
    path = grid_file(tmp_path / "grid.geojson")
    _import(community, path, AreaLevel.GRID)

    report = _import(community, path, AreaLevel.GRID)

    assert report.counts["unchanged"] == 4
    assert report.counts["inserted"] == 0


BOWTIE = Polygon(
    [(X0, Y0), (X0 + 0.01, Y0 + 0.01), (X0 + 0.01, Y0), (X0, Y0 + 0.01), (X0, Y0)]
)


def test_rejected_import_lists_every_bad_record_and_writes_nothing(
    community: Bind, tmp_path: Path
) -> None:
    _import(
        community, grid_file(tmp_path / "good.geojson"), AreaLevel.GRID, valid_from=T1
    )
    bad = write_geojson(
        tmp_path / "bad.geojson",
        [
            ({"code": f"{COMMUNITY}001", "name": "ok"}, square(0, 0)),
            ({"code": f"{COMMUNITY}002", "name": "bowtie"}, BOWTIE),
            (
                {"code": f"{COMMUNITY}003", "name": "point"},
                Point(X0 + 0.005, Y0 + 0.005),
            ),
            ({"code": f"{COMMUNITY}001", "name": "dup"}, square(1, 1)),
            ({"code": "62089900100", "name": "short"}, square(1, 0)),
            (
                {"code": f"{COMMUNITY}005", "name": "outside"},
                square(1, 1).union(square(2, 1)),
            ),
            (
                {
                    "code": f"{COMMUNITY}006",
                    "name": "orphan",
                    "parent_code": "620899001099",
                },
                square(0, 1),
            ),
            ({"code": "", "name": "no code"}, square(0, 1)),
        ],
    )

    with pytest.raises(ImportRejected) as caught:
        _import(community, bad, AreaLevel.GRID, parent_field="parent_code")

    problems = {(p.record, p.code) for p in caught.value.report.errors}
    assert problems == {
        (f"{COMMUNITY}002", "geometry_invalid"),
        (f"{COMMUNITY}003", "geometry_type_wrong"),
        (f"{COMMUNITY}001", "code_duplicate"),
        ("62089900100", "code_invalid"),
        (f"{COMMUNITY}005", "outside_parent"),
        (f"{COMMUNITY}006", "parent_unknown"),
        ("#8", "code_missing"),
    }
    grids = _areas(community, "grid")
    assert len(grids) == 4
    assert grids["valid_to"].isna().all()


def test_repair_fixes_a_bowtie_and_warns(community: Bind, tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path / "g.geojson", [({"code": f"{COMMUNITY}001", "name": "x"}, BOWTIE)]
    )

    report = _import(community, path, AreaLevel.GRID, repair=True)

    assert [w.code for w in report.warnings] == ["geometry_repaired"]
    geom = _areas(community, "grid").geometry.iloc[0]
    assert geom.is_valid
    assert geom.geom_type == "MultiPolygon"
    assert len(geom.geoms) == 2


def test_child_slightly_outside_parent_within_tolerance_is_accepted(
    community: Bind, tmp_path: Path
) -> None:
    # 2 m past the community edge, under the 5 m tolerance.
    poly = box(X0, Y0, X0 + 0.01 + 0.00002, Y0 + 0.01)
    path = write_geojson(
        tmp_path / "g.geojson", [({"code": f"{COMMUNITY}001", "name": "x"}, poly)]
    )

    assert _import(community, path, AreaLevel.GRID).is_ok


@pytest.mark.filterwarnings("ignore:'crs' was not provided:UserWarning")
def test_file_without_crs_is_refused_unless_named(
    community: Bind, tmp_path: Path
) -> None:
    shp = tmp_path / "grid.shp"
    gpd.GeoDataFrame(
        {"code": [f"{COMMUNITY}001"], "name": ["x"]}, geometry=[square(0, 0)], crs=None
    ).to_file(shp)

    with pytest.raises(InvalidInput) as caught:
        _import(community, shp, AreaLevel.GRID)
    assert caught.value.code == "crs_missing"
    assert _import(community, shp, AreaLevel.GRID, crs="EPSG:4490").is_ok


def test_gcj02_input_is_converted_to_wgs84(community: Bind, tmp_path: Path) -> None:
    from geogrid.spatial.crs import wgs84_to_gcj02

    cell = square(0, 0).buffer(-0.001)
    xs, ys = cell.exterior.xy
    gx, gy = wgs84_to_gcj02(list(xs), list(ys))
    path = write_geojson(
        tmp_path / "g.geojson",
        [({"code": f"{COMMUNITY}001", "name": "x"}, Polygon(zip(gx, gy, strict=True)))],
    )

    _import(community, path, AreaLevel.GRID, crs="gcj02")

    stored = _areas(community, "grid").geometry.iloc[0]
    assert stored.symmetric_difference(cell).area < 1e-12


def test_swapped_latlon_is_reported_per_record(community: Bind, tmp_path: Path) -> None:
    swapped = box(Y0, X0, Y0 + 0.01, X0 + 0.01)
    path = write_geojson(
        tmp_path / "g.geojson",
        [
            ({"code": f"{COMMUNITY}001", "name": "ok"}, square(0, 0)),
            ({"code": f"{COMMUNITY}002", "name": "swapped"}, swapped),
        ],
    )

    with pytest.raises(ImportRejected) as caught:
        _import(community, path, AreaLevel.GRID)

    assert [(p.record, p.code) for p in caught.value.report.errors] == [
        (f"{COMMUNITY}002", "latlon_swapped")
    ]


def test_code_used_by_another_level_is_refused(community: Bind, tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path / "g.geojson", [({"code": COMMUNITY, "name": "x"}, square(0, 0))]
    )

    with pytest.raises(ImportRejected) as caught:
        _import(community, path, AreaLevel.GRID, is_free_codes=True)

    assert {p.code for p in caught.value.report.errors} == {"code_taken"}


def test_valid_from_before_the_current_generation_is_refused(
    community: Bind, tmp_path: Path
) -> None:
    _import(
        community, grid_file(tmp_path / "v1.geojson"), AreaLevel.GRID, valid_from=T2
    )
    v0 = grid_file(tmp_path / "v0.geojson", cells=((0, 0),))

    with pytest.raises(InvalidInput) as caught:
        _import(community, v0, AreaLevel.GRID, valid_from=T1, is_replace=True)

    assert caught.value.code == "valid_from_too_early"
    assert len(_areas(community, "grid")) == 4
