"""Files as offices hold them (issue 12): KML folders and KMZ, GBK shapefiles,
DXF drawings, swapped coordinates, Amap codes, half-bad files, on both backends.
"""

import zipfile
from pathlib import Path

import pytest

import geopandas as gpd
import pyogrio
from shapely.geometry import box

from geogrid.domain.codes import AreaLevel
from geogrid.errors import ImportRejected, InvalidInput
from geogrid.services.boundaries import import_boundaries
from geogrid.services.imports import ImportOptions, import_features
from geogrid.store import areas as area_store
from geogrid.store import layers as layer_store
from geogrid.store.engine import Bind, session_scope
from tests.factories import COMMUNITY, X0, Y0, community_file, square, write_geojson


def _import(db: Bind, path: Path, level: AreaLevel = AreaLevel.GRID, **options: object):
    return import_boundaries(
        db, path, level=level, options=ImportOptions(**options), tolerance_m=5.0
    )


def _areas(db: Bind, level: str) -> gpd.GeoDataFrame:
    with session_scope(db) as session:
        return area_store.areas_frame(session, level=level)


@pytest.fixture
def community(db: Bind, tmp_path: Path) -> Bind:
    _import(db, community_file(tmp_path / "community.geojson"), AreaLevel.COMMUNITY)
    return db


def _placemark(name: str, cell: tuple[int, int]) -> str:
    ring = " ".join(f"{x},{y},0" for x, y in square(*cell).exterior.coords)
    return (
        f"<Placemark><name>{name}</name><visibility>1</visibility>"
        "<Polygon><tessellate>1</tessellate><outerBoundaryIs><LinearRing>"
        f"<coordinates>{ring}</coordinates></LinearRing></outerBoundaryIs>"
        "</Polygon></Placemark>"
    )


def _kml(path: Path, folders: dict[str, list[tuple[str, tuple[int, int]]]]) -> Path:
    """A KML as 奥维/91卫图 export it: one folder per part, codes in <name>."""
    body = "".join(
        f"<Folder><name>{folder}</name>"
        + "".join(_placemark(n, c) for n, c in marks)
        + "</Folder>"
        for folder, marks in folders.items()
    )
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        f"{body}</Document></kml>",
        encoding="utf-8",
    )
    return path


FOLDERS = {
    "东片": [(f"{COMMUNITY}001", (0, 0)), (f"{COMMUNITY}002", (1, 0))],
    "西片": [(f"{COMMUNITY}003", (0, 1)), (f"{COMMUNITY}004", (1, 1))],
}


def test_kml_folders_read_together_and_one_folder_does_not_end_the_other(
    community: Bind, tmp_path: Path
) -> None:
    path = _kml(tmp_path / "grids.kml", FOLDERS)
    with pytest.raises(InvalidInput) as caught:
        _import(community, path, code_field="Name")
    assert caught.value.code == "layer_ambiguous"

    report = _import(community, path, code_field="Name", layer="东片,西片")

    assert report.counts["inserted"] == 4
    grids = _areas(community, "grid")
    assert sorted(grids["code"]) == [f"{COMMUNITY}00{i}" for i in (1, 2, 3, 4)]
    # The KML drivers' styling fields are not the user's data.
    attrs = set().union(*(set(a) for a in grids["attrs"]))
    assert not attrs & {"tessellate", "extrude", "visibility", "Description"}

    # One folder alone would end the other folder's grids: refused, with them named.
    with pytest.raises(InvalidInput) as caught:
        _import(community, path, code_field="Name", layer="东片")
    assert caught.value.code == "areas_would_end"
    assert f"{COMMUNITY}003" in caught.value.message()
    assert len(_areas(community, "grid")) == 4


def test_kmz_is_read_like_its_kml(community: Bind, tmp_path: Path) -> None:
    kml = _kml(tmp_path / "doc.kml", {"网格": FOLDERS["东片"] + FOLDERS["西片"]})
    kmz = tmp_path / "grids.kmz"
    with zipfile.ZipFile(kmz, "w") as archive:
        archive.write(kml, "doc.kml")

    report = _import(community, kmz, code_field="Name", name_field="Name")

    assert report.counts["inserted"] == 4
    assert set(_areas(community, "grid")["name"]) == {
        f"{COMMUNITY}00{i}" for i in (1, 2, 3, 4)
    }


def test_gbk_shapefile_without_cpg_stores_chinese_not_mojibake(
    community: Bind, tmp_path: Path
) -> None:
    path = tmp_path / "grids.shp"
    pyogrio.write_dataframe(
        gpd.GeoDataFrame(
            {"code": [f"{COMMUNITY}001"], "name": ["东街社区第1网格"]},
            geometry=[square(0, 0)],
            crs="EPSG:4326",
        ),
        path,
        encoding="GBK",
    )
    (tmp_path / "grids.cpg").unlink()

    report = _import(community, path)

    assert _areas(community, "grid")["name"].tolist() == ["东街社区第1网格"]
    assert [(p.code, p.params) for p in report.warnings] == [
        ("encoding_guessed", {"encoding": "gb18030"})
    ]


def _dxf(path: Path, polylines: list[list[tuple[float, float]]], texts: list) -> Path:
    """A minimal R12 DXF as CAD exports it: LWPOLYLINEs and separate TEXTs."""
    lines = ["0", "SECTION", "2", "ENTITIES"]
    for ring in polylines:
        lines += ["0", "LWPOLYLINE", "8", "网格", "90", str(len(ring)), "70", "1"]
        for x, y in ring:
            lines += ["10", repr(x), "20", repr(y)]
    for (x, y), text in texts:
        lines += ["0", "TEXT", "8", "标注", "10", repr(x), "20", repr(y)]
        lines += ["40", "2.5", "1", text]
    lines += ["0", "ENDSEC", "0", "EOF"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_dxf_closed_polylines_take_code_and_name_from_the_text_inside(
    community: Bind, tmp_path: Path
) -> None:
    cells = [(0, 0), (1, 0)]
    rings = [list(square(*c).exterior.coords)[:-1] for c in cells]
    texts = [
        (square(*c).centroid.coords[0], f"{COMMUNITY}00{i + 1} 东街第{i + 1}网格")
        for i, c in enumerate(cells)
    ]
    texts.append(((X0 + 0.5, Y0 + 0.5), "图例"))  # in no polygon
    path = _dxf(tmp_path / "规划.dxf", rings, texts)

    with pytest.raises(InvalidInput) as caught:
        _import(community, path)
    assert caught.value.code == "crs_missing_dxf"

    report = _import(community, path, crs="EPSG:4326", is_replace=True)

    grids = _areas(community, "grid").set_index("code")
    assert grids["name"].to_dict() == {
        f"{COMMUNITY}001": "东街第1网格",
        f"{COMMUNITY}002": "东街第2网格",
    }
    assert (
        grids.geometry[f"{COMMUNITY}002"].symmetric_difference(square(1, 0)).area
        < 1e-12
    )
    assert [p.code for p in report.warnings] == [
        "encoding_guessed",
        "dxf_labels_unplaced",
    ]


def test_skip_invalid_imports_the_rest_and_lists_each_skipped_record(
    community: Bind, tmp_path: Path
) -> None:
    bowtie = {
        "type": "Polygon",
        "coordinates": [
            [
                [X0, Y0 + 0.01],
                [X0 + 0.01, Y0 + 0.02],
                [X0 + 0.01, Y0 + 0.01],
                [X0, Y0 + 0.02],
                [X0, Y0 + 0.01],
            ]
        ],
    }
    path = write_geojson(
        tmp_path / "g.geojson",
        [
            ({"code": f"{COMMUNITY}001", "name": "好"}, square(0, 0)),
            ({"code": f"{COMMUNITY}002", "name": "好"}, square(1, 0)),
            ({"code": f"{COMMUNITY}003", "name": "自相交"}, bowtie),
            ({"code": "", "name": "无编码"}, square(1, 1)),
        ],
    )
    with pytest.raises(ImportRejected):
        _import(community, path)
    assert _areas(community, "grid").empty  # all or nothing by default

    report = _import(community, path, is_skip_invalid=True)

    assert sorted(_areas(community, "grid")["code"]) == [
        f"{COMMUNITY}001",
        f"{COMMUNITY}002",
    ]
    assert report.counts["skipped"] == 2
    assert {(p.record, p.code) for p in report.skipped} == {
        (f"{COMMUNITY}003", "geometry_invalid"),
        ("#4", "code_missing"),
    }
    assert report.skipped[0].message("en").startswith("Skipped: ")


def test_a_whole_swapped_file_is_one_problem_and_swap_xy_reads_it(
    community: Bind, tmp_path: Path
) -> None:
    swapped = [
        (
            {"code": f"{COMMUNITY}00{i + 1}", "name": "x"},
            box(Y0 + r * 0.01, X0 + c * 0.01, Y0 + (r + 1) * 0.01, X0 + (c + 1) * 0.01),
        )
        for i, (c, r) in enumerate([(0, 0), (1, 0), (0, 1)])
    ]
    path = write_geojson(tmp_path / "g.geojson", swapped)

    with pytest.raises(ImportRejected) as caught:
        _import(community, path)
    errors = caught.value.report.errors
    assert [(p.record, p.code) for p in errors] == [("*", "file_latlon_swapped")]
    assert "--swap-xy" in errors[0].message("en")

    _import(community, path, is_swap_xy=True)
    stored = _areas(community, "grid").set_index("code").geometry
    assert stored[f"{COMMUNITY}002"].symmetric_difference(square(1, 0)).area < 1e-12


def test_amap_six_digit_district_codes_are_padded(db: Bind, tmp_path: Path) -> None:
    path = write_geojson(
        tmp_path / "d.geojson",
        [({"code": "620899", "name": "安和县"}, box(X0, Y0, X0 + 0.1, Y0 + 0.1))],
    )

    report = _import(db, path, AreaLevel.DISTRICT)

    assert _areas(db, "district")["code"].tolist() == ["620899000000"]
    assert [p.code for p in report.warnings] == ["codes_padded"]


def test_missing_code_field_suggests_the_likely_column(
    community: Bind, tmp_path: Path
) -> None:
    path = write_geojson(
        tmp_path / "g.geojson",
        [({"网格编码": f"{COMMUNITY}001", "name": "x"}, square(0, 0))],
    )

    with pytest.raises(InvalidInput) as caught:
        _import(community, path)

    assert caught.value.code == "code_field_missing"
    assert "--code-field 网格编码" in caught.value.message("en")


def test_value_too_long_names_the_field_its_length_and_the_limit(
    community: Bind, tmp_path: Path
) -> None:
    path = write_geojson(
        tmp_path / "g.geojson",
        [({"code": f"{COMMUNITY}001", "名称": "长" * 300}, square(0, 0))],
    )

    with pytest.raises(ImportRejected) as caught:
        _import(community, path, name_field="名称")

    (problem,) = caught.value.report.errors
    assert problem.code == "value_too_long"
    assert problem.message("en").startswith(
        "The value of field 名称 is too long: 300 characters, at most"
    )


def test_skipped_buildings_are_listed_and_the_rest_written(
    community: Bind, tmp_path: Path
) -> None:
    path = write_geojson(
        tmp_path / "b.geojson",
        [
            ({"code": "B1"}, square(0, 0, size=0.001)),
            ({"code": "B2"}, {"type": "Polygon", "coordinates": []}),
        ],
    )

    report = import_features(
        community, path, layer="buildings", options=ImportOptions(is_skip_invalid=True)
    )

    with session_scope(community) as session:
        stored = layer_store.features_frame(session, "buildings")
    assert stored["code"].tolist() == ["B1"]
    assert [(p.record, p.severity) for p in report.problems] == [("B2", "skipped")]


def test_buildings_given_as_points_are_stored_assigned_and_checked(
    community: Bind, tmp_path: Path
) -> None:
    # Many offices hold a 楼栋 list with coordinates only (issue 12, point 5).
    from geogrid.services.assignment import AssignOptions, assign_all
    from geogrid.services.coverage import CheckOptions, run_check
    from geogrid.store import links as link_store
    from tests.factories import grid_file

    _import(community, grid_file(tmp_path / "grids.geojson"))
    inside = square(0, 0).centroid
    (tmp_path / "楼栋.csv").write_text(
        "code,name,households,lon,lat\n"
        f"B1,1号楼,120,{inside.x},{inside.y}\n"
        f"B2,2号楼,80,{square(1, 1).centroid.x},{square(1, 1).centroid.y}\n",
        encoding="utf-8",
    )
    (tmp_path / "门牌.csv").write_text(
        f"code,text,lon,lat\nA1,东大街1号,{inside.x + 0.00001},{inside.y}\n",
        encoding="utf-8",
    )

    report = import_features(
        community, tmp_path / "楼栋.csv", layer="buildings",
        options=ImportOptions(crs="EPSG:4326"),
    )  # fmt: skip
    import_features(
        community, tmp_path / "门牌.csv", layer="addresses",
        options=ImportOptions(crs="EPSG:4326"),
    )  # fmt: skip
    assign_all(community, AssignOptions())

    assert [(p.code, p.params["n"]) for p in report.warnings] == [
        ("buildings_as_points", 2)
    ]
    with session_scope(community) as session:
        buildings = link_store.buildings_frame(session).set_index("code")
        addresses = link_store.addresses_frame(session).set_index("code")
    assert set(buildings.geom_type) == {"Point"}
    assert buildings["grid_code"].to_dict() == {
        "B1": f"{COMMUNITY}001",
        "B2": f"{COMMUNITY}004",
    }
    # A door point a metre from the building's point belongs to that building.
    assert addresses.loc["A1", "building_code"] == "B1"
    found = run_check(community, CheckOptions(), store=False).findings
    assert not set(found["rule"]) & {"building_no_grid", "address_unassigned"}
    households = found[found["rule"] == "grid_underloaded"]
    assert {c for codes in households["codes"] for c in codes} >= {f"{COMMUNITY}001"}


def test_a_file_of_footprints_and_points_keeps_each(
    community: Bind, tmp_path: Path
) -> None:
    path = write_geojson(
        tmp_path / "b.geojson",
        [
            ({"code": "F1"}, square(0, 0, size=0.001)),
            ({"code": "P1"}, square(1, 0).centroid),
            (
                {"code": "L1"},
                {"type": "LineString", "coordinates": [[X0, Y0], [X0 + 0.001, Y0]]},
            ),
        ],
    )
    with pytest.raises(ImportRejected) as caught:
        import_features(community, path, layer="buildings", options=ImportOptions())
    assert [(p.record, p.code) for p in caught.value.report.errors] == [
        ("L1", "geometry_type_wrong")
    ]

    import_features(
        community, path, layer="buildings", options=ImportOptions(is_skip_invalid=True)
    )
    with session_scope(community) as session:
        stored = layer_store.features_frame(session, "buildings").set_index("code")
    assert stored.geom_type.to_dict() == {"F1": "MultiPolygon", "P1": "Point"}
