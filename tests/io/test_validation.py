import pytest

import geopandas as gpd
import shapely
from pyproj import Geod

from geogrid.io.report import RecordError
from geogrid.io.validation import UNCLOSED_REASON, validate_geometries

SQUARE = shapely.box(116.0, 39.0, 116.01, 39.01)
# Edges cross at (116.005, 39.005): two triangles drawn as one ring.
BOWTIE = shapely.Polygon(
    [(116.0, 39.0), (116.01, 39.01), (116.01, 39.0), (116.0, 39.01), (116.0, 39.0)]
)


def _series(*geoms: shapely.Geometry | None) -> gpd.GeoSeries:
    return gpd.GeoSeries(list(geoms), crs="EPSG:4326")


def _only(problems: list[RecordError]) -> RecordError:
    assert len(problems) == 1, problems
    return problems[0]


def test_validate_geometries_valid_layer_has_no_problems() -> None:
    geoms = _series(SQUARE, shapely.MultiPolygon([SQUARE]))
    out, problems = validate_geometries(geoms, ["a", "b"], kind="polygon", repair=False)
    assert problems == []
    assert out.crs == geoms.crs
    assert all(g.equals(SQUARE) for g in out)


def test_validate_geometries_polygon_normalised_to_multipolygon() -> None:
    out, _ = validate_geometries(_series(SQUARE), ["a"], kind="polygon", repair=False)
    assert out[0].geom_type == "MultiPolygon"
    assert out[0].equals(SQUARE)


def test_validate_geometries_line_normalised_to_multilinestring() -> None:
    line = shapely.LineString([(116, 39), (116.1, 39.1)])
    out, problems = validate_geometries(_series(line), ["a"], kind="line", repair=False)
    assert problems == []
    assert out[0].geom_type == "MultiLineString"


def test_validate_geometries_single_multipoint_becomes_point() -> None:
    geoms = _series(shapely.MultiPoint([(116, 39)]), shapely.Point(116.1, 39.1))
    out, problems = validate_geometries(geoms, ["a", "b"], kind="point", repair=False)
    assert problems == []
    assert [g.geom_type for g in out] == ["Point", "Point"]


def test_validate_geometries_missing_names_record() -> None:
    out, problems = validate_geometries(
        _series(SQUARE, None),
        ["620899001001", "620899001002"],
        kind="polygon",
        repair=False,
    )
    problem = _only(problems)
    assert (problem.record, problem.code, problem.severity) == (
        "620899001002",
        "geometry_missing",
        "error",
    )
    assert out[1] is None


def test_validate_geometries_empty_names_record() -> None:
    _, problems = validate_geometries(
        _series(shapely.Polygon()), ["#1"], kind="polygon", repair=True
    )
    assert (_only(problems).record, _only(problems).code) == ("#1", "geometry_empty")


def test_validate_geometries_point_in_polygon_layer_wrong_type() -> None:
    out, problems = validate_geometries(
        _series(shapely.Point(116, 39)), ["g1"], kind="polygon", repair=True
    )
    problem = _only(problems)
    assert (problem.record, problem.code) == ("g1", "geometry_type_wrong")
    assert (
        problem.message("zh")
        == "几何类型应为 面 (Polygon/MultiPolygon)，实际为 点 (Point)"
    )
    # English readers get no Chinese in the message.
    assert problem.message("en") == "Geometry should be Polygon/MultiPolygon, got Point"
    assert out[0] is None


def test_validate_geometries_geos_reason_in_the_readers_language() -> None:
    bowtie = shapely.Polygon([(116, 39), (116.01, 39.01), (116.01, 39), (116, 39.01)])
    _, problems = validate_geometries(
        _series(bowtie), ["g1"], kind="polygon", repair=False
    )
    problem = _only(problems)
    assert problem.code == "geometry_invalid"
    assert "边界自相交" in problem.message("zh")
    assert "Self-intersection" not in problem.message("zh")
    english = problem.message("en")
    assert english.startswith("Invalid geometry: self-intersection at 116.005")
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in english)


def test_validate_geometries_several_points_wrong_type_for_point_layer() -> None:
    geoms = _series(shapely.MultiPoint([(116, 39), (116.1, 39)]))
    _, problems = validate_geometries(geoms, ["a1"], kind="point", repair=False)
    assert _only(problems).code == "geometry_type_wrong"
    assert _only(problems).params["actual"] == "点 (MultiPoint)"


def test_validate_geometries_polygon_in_line_layer_wrong_type() -> None:
    _, problems = validate_geometries(
        _series(SQUARE), ["l1"], kind="line", repair=False
    )
    assert _only(problems).params["actual"] == "面 (Polygon)"


def test_validate_geometries_self_intersection_invalid_without_repair() -> None:
    out, problems = validate_geometries(
        _series(SQUARE, BOWTIE), ["a", "b"], kind="polygon", repair=False
    )
    problem = _only(problems)
    assert (problem.record, problem.code, problem.severity) == (
        "b",
        "geometry_invalid",
        "error",
    )
    assert str(problem.params["reason"]).startswith("Self-intersection[116.005 39.005")
    assert out[1] is None


def test_validate_geometries_bowtie_repaired_into_two_polygons() -> None:
    out, problems = validate_geometries(
        _series(BOWTIE), ["b"], kind="polygon", repair=True
    )
    problem = _only(problems)
    assert (problem.record, problem.code, problem.severity) == (
        "b",
        "geometry_repaired",
        "warning",
    )
    assert out[0].geom_type == "MultiPolygon"
    assert len(out[0].geoms) == 2
    assert out[0].is_valid
    # The bow-tie's lobes cancel (signed area 0); the repair keeps both.
    two_triangles, _ = Geod(ellps="WGS84").geometry_area_perimeter(
        shapely.orient_polygons(out[0])
    )
    assert problem.params["area_change_m2"] == pytest.approx(two_triangles, abs=0.01)
    assert two_triangles > 0


def test_validate_geometries_collapsed_polygon_unrepairable() -> None:
    flat = shapely.Polygon([(116, 39), (116.1, 39), (116.2, 39), (116, 39)])
    out, problems = validate_geometries(
        _series(flat), ["z"], kind="polygon", repair=True
    )
    assert (_only(problems).record, _only(problems).code) == (
        "z",
        "geometry_unrepairable",
    )
    assert out[0] is None


def test_validate_geometries_unclosed_ring_invalid_without_repair() -> None:
    out, problems = validate_geometries(
        _series(SQUARE, SQUARE), ["a", "b"], kind="polygon", repair=False, unclosed=[1]
    )
    problem = _only(problems)
    assert (problem.record, problem.code) == ("b", "geometry_invalid")
    assert problem.params["reason"] == UNCLOSED_REASON
    assert problem.message("en").startswith("Invalid geometry: a ring is not closed")
    assert out[1] is None


def test_validate_geometries_unclosed_ring_repaired_with_warning() -> None:
    out, problems = validate_geometries(
        _series(SQUARE), ["a"], kind="polygon", repair=True, unclosed=[0]
    )
    problem = _only(problems)
    assert (problem.code, problem.severity) == ("geometry_repaired", "warning")
    assert problem.params["reason"] == UNCLOSED_REASON
    assert problem.params["area_change_m2"] == 0.0
    assert out[0].geom_type == "MultiPolygon"
    assert out[0].equals(SQUARE)


def test_validate_geometries_unbuildable_geometry_invalid() -> None:
    _, problems = validate_geometries(
        _series(None), ["m"], kind="line", repair=False, malformed=[0]
    )
    assert (_only(problems).record, _only(problems).code) == ("m", "geometry_invalid")


def test_validate_geometries_unbuildable_geometry_unrepairable() -> None:
    _, problems = validate_geometries(
        _series(None), ["m"], kind="line", repair=True, malformed=[0]
    )
    assert _only(problems).code == "geometry_unrepairable"


def test_validate_geometries_problems_in_record_order() -> None:
    geoms = _series(None, SQUARE, shapely.Point(116, 39), BOWTIE)
    _, problems = validate_geometries(
        geoms, ["a", "b", "c", "d"], kind="polygon", repair=False
    )
    assert [(p.record, p.code) for p in problems] == [
        ("a", "geometry_missing"),
        ("c", "geometry_type_wrong"),
        ("d", "geometry_invalid"),
    ]


def test_validate_geometries_ids_must_match_geometries() -> None:
    with pytest.raises(ValueError, match="record_ids"):
        validate_geometries(_series(SQUARE), [], kind="polygon", repair=False)
