from pathlib import Path

import pytest

from shapely.geometry import LineString, Point

from geogrid.errors import ImportRejected
from geogrid.services.imports import ImportOptions, import_features
from geogrid.store import layers as layer_store
from geogrid.store.engine import Bind, session_scope
from tests.factories import X0, Y0, square, write_geojson


def _frame(db: Bind, layer: str):
    with session_scope(db) as session:
        return layer_store.features_frame(session, layer)


def _buildings(path: Path, households: str = "24") -> Path:
    return write_geojson(
        path,
        [
            (
                {
                    "code": "B1",
                    "name": "天和人家1号楼",
                    "number": "1号楼",
                    "estate": "天和人家",
                    "floors": 6,
                    "households": households,
                    "residents": 60,
                    "color": "red",
                },
                square(0, 0, size=0.0003),
            ),
            (
                {"code": "B2", "name": "天和人家2号楼", "floors": 6, "households": 12},
                square(2, 0, size=0.0003),
            ),
        ],
    )


def test_import_buildings_keeps_attributes_and_extra_fields(
    db: Bind, tmp_path: Path
) -> None:
    report = import_features(
        db,
        _buildings(tmp_path / "b.geojson"),
        layer="buildings",
        options=ImportOptions(),
    )

    frame = _frame(db, "buildings").set_index("code")
    assert report.n_written == 2
    assert frame.loc["B1", "households"] == 24
    assert frame.loc["B1", "estate"] == "天和人家"
    assert frame.loc["B1", "attrs"] == {"color": "red"}
    assert frame.loc["B2", "residents"] == 0
    assert frame.geometry.geom_type.tolist() == ["MultiPolygon", "MultiPolygon"]


def test_reimport_replaces_by_code(db: Bind, tmp_path: Path) -> None:
    path = _buildings(tmp_path / "b.geojson")
    import_features(db, path, layer="buildings", options=ImportOptions())

    report = import_features(db, path, layer="buildings", options=ImportOptions())

    assert report.counts == {"inserted": 0, "replaced": 2}
    assert len(_frame(db, "buildings")) == 2


def test_bad_number_rejects_the_import(db: Bind, tmp_path: Path) -> None:
    with pytest.raises(ImportRejected) as caught:
        import_features(
            db,
            _buildings(tmp_path / "b.geojson", households="很多"),
            layer="buildings",
            options=ImportOptions(),
        )

    assert [
        (p.record, p.code, p.params["field"]) for p in caught.value.report.errors
    ] == [("B1", "value_invalid", "households")]
    assert _frame(db, "buildings").empty


def test_import_addresses_csv_keeps_rows_without_coordinates(
    db: Bind, tmp_path: Path
) -> None:
    csv = tmp_path / "a.csv"
    csv.write_text(
        "code,text,lon,lat\n"
        f"A1,东街社区 天和人家1号楼1单元101室,{X0 + 0.0001},{Y0 + 0.0001}\n"
        "A2,东街社区天和人家9号楼,,\n",
        encoding="utf-8",
    )

    import_features(db, csv, layer="addresses", options=ImportOptions(crs="EPSG:4326"))

    frame = _frame(db, "addresses").set_index("code")
    assert frame.loc["A1", "text"] == "东街社区天和人家1号楼1单元101室"
    assert frame.loc["A1", "original_text"] == "东街社区 天和人家1号楼1单元101室"
    assert frame.loc["A1"].geometry.equals(Point(X0 + 0.0001, Y0 + 0.0001))
    assert frame.loc["A2"].geometry is None


def test_import_lanes_and_centres(db: Bind, tmp_path: Path) -> None:
    lanes = write_geojson(
        tmp_path / "l.geojson",
        [({"code": "L1", "name": "东关巷"}, LineString([(X0, Y0), (X0 + 0.001, Y0)]))],
    )
    centres = write_geojson(
        tmp_path / "c.geojson",
        [
            (
                {
                    "code": "C1",
                    "name": "东街社区中心",
                    "kind": "社区中心",
                    "radius_m": 1500,
                },
                Point(X0, Y0),
            )
        ],
    )

    import_features(db, lanes, layer="lanes", options=ImportOptions())
    import_features(db, centres, layer="centres", options=ImportOptions())

    assert _frame(db, "lanes").geometry.iloc[0].geom_type == "MultiLineString"
    assert _frame(db, "centres")["radius_m"].tolist() == [1500.0]


def test_import_roads_keeps_their_name_and_class(db: Bind, tmp_path: Path) -> None:
    roads = write_geojson(
        tmp_path / "r.geojson",
        [
            (
                {"code": "R1", "name": "东大街", "kind": "主干道"},
                LineString([(X0, Y0), (X0 + 0.01, Y0)]),
            ),
            (
                {"code": "R2", "name": "", "kind": "residential"},
                LineString([(X0, Y0), (X0, Y0 + 0.01)]),
            ),
        ],
    )

    import_features(db, roads, layer="roads", options=ImportOptions())

    frame = _frame(db, "roads")
    assert frame[["code", "name", "kind"]].values.tolist() == [
        ["R1", "东大街", "主干道"],
        ["R2", "", "residential"],
    ]
    assert set(frame.geometry.geom_type) == {"MultiLineString"}


def test_centre_without_radius_is_reported(db: Bind, tmp_path: Path) -> None:
    centres = write_geojson(
        tmp_path / "c.geojson",
        [({"code": "C1", "name": "x", "kind": "警务室"}, Point(X0, Y0))],
    )

    with pytest.raises(ImportRejected) as caught:
        import_features(db, centres, layer="centres", options=ImportOptions())

    assert [(p.record, p.params.get("field")) for p in caught.value.report.errors] == [
        ("C1", "radius_m")
    ]


def test_overlong_text_is_reported_before_the_database_refuses_it(
    db: Bind, tmp_path: Path
) -> None:
    path = write_geojson(
        tmp_path / "b.geojson",
        [({"code": "B1", "name": "楼" * 201}, square(0, 0, size=0.0003))],
    )

    with pytest.raises(ImportRejected) as caught:
        import_features(db, path, layer="buildings", options=ImportOptions())

    assert [
        (p.record, p.code, p.params["field"]) for p in caught.value.report.errors
    ] == [("B1", "value_too_long", "name")]


def test_address_with_unreadable_coordinates_is_rejected(
    db: Bind, tmp_path: Path
) -> None:
    csv = tmp_path / "a.csv"
    csv.write_text(
        f"code,text,lon,lat\nA1,东街1号,{X0},{Y0}\nA2,东街2号,107.3x,{Y0}\n",
        encoding="utf-8",
    )

    with pytest.raises(ImportRejected) as caught:
        import_features(
            db, csv, layer="addresses", options=ImportOptions(crs="EPSG:4326")
        )

    assert [(p.record, p.code) for p in caught.value.report.errors] == [
        ("A2", "geometry_invalid")
    ]
    assert _frame(db, "addresses").empty
