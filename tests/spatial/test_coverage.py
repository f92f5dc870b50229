import pandas as pd
import pytest

import geopandas as gpd
import shapely
from shapely import LineString, Point, Polygon, box

from geogrid.domain.findings import FINDING_COLUMNS, RULES
from geogrid.errors import InvalidInput
from geogrid.spatial.coverage import (
    CoverageOptions,
    area_findings,
    check_areas,
    lane_findings,
    service_coverage,
    service_findings,
)

CRS = "EPSG:4545"
OPTIONS = CoverageOptions()
PARENT = box(0, 0, 200, 100)
# Eight 10 m squares around an empty ninth: a valid coverage with one hole.
RING = [box(x, y, x + 10, y + 10) for x in (0, 10, 20) for y in (0, 10, 20)]
RING.pop(4)


def frame(codes: list, geoms: list, **columns: list) -> gpd.GeoDataFrame:
    data = pd.DataFrame({"code": codes, **columns})
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=CRS)


def check(
    geoms: list, parent: shapely.Geometry | None = PARENT, **options: float
) -> gpd.GeoDataFrame:
    children = frame([f"G{i + 1}" for i in range(len(geoms))], geoms)
    return area_findings(
        children, parent, parent_code="C1", options=CoverageOptions(**options)
    )


def only(found: gpd.GeoDataFrame, rule: str) -> pd.DataFrame:
    return found[found["rule"] == rule]


def rules(found: gpd.GeoDataFrame) -> list[str]:
    return found["rule"].tolist()


def assert_findings_frame(found: gpd.GeoDataFrame) -> None:
    assert isinstance(found, gpd.GeoDataFrame)
    assert tuple(found.columns) == FINDING_COLUMNS
    assert found.crs == CRS


# --- area_findings ------------------------------------------------------------------


def test_area_findings_clean_partition_finds_nothing():
    quarters = [box(0, 0, 100, 50), box(100, 0, 200, 50)]
    quarters += [box(0, 50, 100, 100), box(100, 50, 200, 100)]
    found = check(quarters)
    assert_findings_frame(found)
    assert found.empty


def test_area_findings_gap_between_two_grids_has_its_area_and_neighbours():
    found = check([box(0, 0, 90, 100), box(100, 0, 200, 100)])
    assert rules(found) == ["gap"]
    gap = found.iloc[0]
    assert gap["codes"] == ("G1", "G2")
    assert gap["parent_code"] == "C1"
    assert gap["measure"] == pytest.approx({"area_m2": 1000.0, "width_m": 10.0})
    assert gap["geometry"].equals(box(90, 0, 100, 100))


def test_area_findings_gap_along_the_parent_edge_names_the_one_child_beside_it():
    found = check([box(0, 0, 200, 80)])
    assert rules(found) == ["gap"]
    assert found.iloc[0]["codes"] == ("G1",)
    assert found.iloc[0]["measure"]["area_m2"] == pytest.approx(4000.0)


def test_area_findings_thin_slit_is_a_sliver_not_a_gap():
    # 0.5 m wide and 1 km long: 500 m² is above the sliver area, not its width.
    parent = box(0, 0, 2000.5, 1000)
    found = check([box(0, 0, 1000, 1000), box(1000.5, 0, 2000.5, 1000)], parent)
    slit = only(found, "sliver")
    assert len(slit) == 1
    assert only(found, "gap").empty
    assert slit.iloc[0]["measure"] == pytest.approx(
        {"area_m2": 500.0, "width_m": 0.5}, abs=0.02
    )


def test_area_findings_small_gap_is_a_sliver():
    found = check([box(0, 0, 195, 100), box(195, 0, 200, 98)])
    assert only(found, "sliver")["measure"].tolist() == [
        pytest.approx({"area_m2": 10.0, "width_m": 2.0})
    ]
    assert only(found, "gap").empty


def test_area_findings_gap_below_min_area_is_not_reported():
    found = check([box(0, 0, 200, 99.996)])
    assert found.empty


def test_area_findings_hole_enclosed_by_siblings_without_parent_is_found():
    found = check(RING, parent=None)
    assert rules(found) == ["gap"]
    hole = found.iloc[0]
    assert hole["codes"] == tuple(f"G{i}" for i in range(1, 9))
    assert hole["measure"] == pytest.approx({"area_m2": 100.0, "width_m": 10.0})


def test_area_findings_island_in_a_hole_is_taken_out_of_the_gap():
    found = check([*RING, box(14, 14, 16, 16)], parent=None)
    assert rules(found) == ["sliver"]  # 96 m²: below the sliver area
    assert found.iloc[0]["measure"]["area_m2"] == pytest.approx(96.0)
    assert found.iloc[0]["codes"] == tuple(f"G{i}" for i in range(1, 10))


def test_area_findings_open_gap_without_parent_is_not_a_hole():
    found = check([box(0, 0, 90, 100), box(100, 0, 200, 100)], parent=None)
    assert found.empty


def test_area_findings_overlap_pair_has_its_area_and_sorted_codes():
    children = frame(["G2", "G1"], [box(90, 0, 200, 100), box(0, 0, 100, 100)])
    found = area_findings(children, PARENT, parent_code="C1", options=OPTIONS)
    overlap = only(found, "overlap")
    assert len(overlap) == 1
    assert overlap.iloc[0]["codes"] == ("G1", "G2")
    assert overlap.iloc[0]["measure"] == pytest.approx({"area_m2": 1000.0})
    assert overlap.iloc[0]["geometry"].equals(box(90, 0, 100, 100))


def test_area_findings_overlap_below_min_area_is_not_reported():
    found = check([box(0, 0, 100.005, 100), box(100, 0, 200, 100)])
    assert only(found, "overlap").empty


def test_area_findings_child_20m_outside_its_parent_is_found():
    found = check([box(0, 0, 100, 100), box(100, 0, 220, 100)])
    outside = only(found, "outside_parent")
    assert outside["codes"].tolist() == [("G2",)]
    # 20 m beyond, 5 m tolerated: 15 m x 100 m.
    assert outside.iloc[0]["measure"]["area_m2"] == pytest.approx(1500.0)
    assert outside.iloc[0]["geometry"].equals(box(205, 0, 220, 100))


def test_area_findings_child_2m_outside_its_parent_is_tolerated():
    found = check([box(0, 0, 100, 100), box(100, 0, 202, 100)])
    assert only(found, "outside_parent").empty


def test_area_findings_bow_tie_child_is_reported_invalid():
    bow_tie = Polygon([(100, 0), (200, 100), (200, 0), (100, 100)])
    found = check([box(0, 0, 100, 100), bow_tie])
    invalid = only(found, "invalid_geometry")
    assert invalid["codes"].tolist() == [("G2",)]
    assert "Self-intersection" in invalid.iloc[0]["measure"]["reason"]


def test_area_findings_bow_tie_child_is_repaired_for_the_other_rules():
    bow_tie = Polygon([(100, 0), (200, 100), (200, 0), (100, 100)])
    found = check([box(0, 0, 100, 100), bow_tie])
    # The repaired bow-tie covers two triangles: the other two are the gap.
    assert only(found, "gap")["measure"].map(lambda m: m["area_m2"]).sum() == (
        pytest.approx(5000.0)
    )


def test_area_findings_edges_0_2m_apart_are_an_edge_mismatch():
    found = check([box(0, 0, 100, 100), box(100.2, 0, 200, 100)], parent=None)
    mismatch = only(found, "edge_mismatch")
    assert mismatch["codes"].tolist() == [("G1",), ("G2",)]
    assert mismatch["measure"].tolist() == [{"length_m": 100.0}, {"length_m": 100.0}]


def test_area_findings_edges_1m_apart_are_no_edge_mismatch():
    found = check([box(0, 0, 100, 100), box(101, 0, 200, 100)], parent=None)
    assert found.empty


def test_area_findings_shared_edge_with_an_unmatched_vertex_is_an_edge_mismatch():
    notched = Polygon([(0, 0), (100, 0), (100, 50), (100, 100), (0, 100)])
    found = check([notched, box(100, 0, 200, 100)])
    assert rules(found) == ["edge_mismatch", "edge_mismatch"]


def test_area_findings_empty_children_give_an_empty_frame():
    found = area_findings(frame([], []), PARENT, parent_code="C1", options=OPTIONS)
    assert_findings_frame(found)
    assert found.empty


def test_area_findings_severities_match_the_rule_catalogue():
    bow_tie = Polygon([(300, 0), (320, 20), (320, 0), (300, 20)])
    geoms = [box(0, 0, 90, 100), box(100, 0, 200.2, 100), box(150, 0, 250, 100)]
    found = check([*geoms, bow_tie], parent=box(0, 0, 240, 100))
    assert set(rules(found)) >= {"gap", "overlap", "outside_parent"}
    assert {"invalid_geometry", "edge_mismatch"} <= set(rules(found))
    assert found["severity"].tolist() == [
        RULES[r].severity.value for r in found["rule"]
    ]


def test_area_findings_rejects_a_crs_in_degrees():
    children = frame(["G1"], [box(0, 0, 1, 1)]).set_crs(4326, allow_override=True)
    with pytest.raises(InvalidInput):
        area_findings(children, None, parent_code=None, options=OPTIONS)


def test_coverage_options_reject_a_negative_tolerance():
    with pytest.raises(InvalidInput):
        CoverageOptions(min_area_m2=-1.0)


# --- check_areas --------------------------------------------------------------------


def areas(rows: list[tuple]) -> gpd.GeoDataFrame:
    codes, levels, parents, geoms = zip(*rows, strict=True)
    return frame(list(codes), geoms, level=list(levels), parent_code=list(parents))


CITY = [
    ("C1", "community", None, box(0, 0, 200, 100)),
    ("C2", "community", None, box(200, 0, 400, 100)),
    ("G1", "grid", "C1", box(0, 0, 90, 100)),
    ("G2", "grid", "C1", box(100, 0, 200, 100)),
    ("G3", "grid", "C2", box(200, 0, 300, 100)),
    ("G4", "grid", "C2", box(290, 0, 400, 100)),
]


def test_check_areas_checks_each_parents_children_under_its_outline():
    found = check_areas(areas(CITY), options=OPTIONS)
    assert found[["rule", "codes", "parent_code"]].values.tolist() == [
        ["gap", ("G1", "G2"), "C1"],
        ["overlap", ("G3", "G4"), "C2"],
        ["edge_mismatch", ("G3",), "C2"],
        ["edge_mismatch", ("G4",), "C2"],
    ]


def test_check_areas_equals_area_findings_per_parent():
    found = check_areas(areas(CITY), options=OPTIONS)
    grids = areas(CITY[4:])
    alone = area_findings(
        grids, box(200, 0, 400, 100), parent_code="C2", options=OPTIONS
    )
    mine = found[found["parent_code"] == "C2"].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        mine.drop(columns="geometry"), alone.drop(columns="geometry")
    )


def test_check_areas_children_of_an_unknown_parent_are_checked_by_level():
    rows = [(f"G{i}", "grid", "C9" if i % 2 else None, g) for i, g in enumerate(RING)]
    found = check_areas(areas(rows), options=OPTIONS)
    assert found[["rule", "codes", "parent_code"]].values.tolist() == [
        ["gap", tuple(f"G{i}" for i in range(8)), None]
    ]


def test_check_areas_does_not_mix_children_of_different_levels():
    rows = [
        ("C1", "community", None, box(0, 0, 200, 100)),
        ("G1", "grid", "C1", box(0, 0, 200, 100)),
        ("E1", "estate", "C1", box(50, 0, 150, 100)),
    ]
    found = check_areas(areas(rows), options=OPTIONS)
    assert only(found, "overlap").empty
    assert only(found, "gap")["codes"].tolist() == [("E1",), ("E1",)]


def test_check_areas_matches_edges_among_siblings_only():
    # G2 (of C1) reaches 5 m into C2 over G3: a mismatch across communities,
    # but within each community the edges match.
    rows = [*CITY[:3], ("G2", "grid", "C1", box(100, 0, 205, 100))]
    rows += [("G3", "grid", "C2", box(200, 0, 400, 100))]
    found = check_areas(areas(rows), options=OPTIONS)
    assert rules(found) == ["gap"]


def test_check_areas_rejects_repeated_codes():
    with pytest.raises(InvalidInput):
        check_areas(areas([*CITY, CITY[0]]), options=OPTIONS)


def test_check_areas_empty_input_gives_an_empty_frame():
    found = check_areas(areas(CITY).iloc[:0], options=OPTIONS)
    assert_findings_frame(found)
    assert found.empty


# --- lane_findings ------------------------------------------------------------------

GRIDS = frame(["G2", "G1"], [box(100, 0, 200, 100), box(0, 0, 100, 100)])


def test_lane_findings_lane_crossing_two_grids_is_found_with_its_lengths():
    lanes = frame(
        ["L1", "L2"],
        [LineString([(50, 50), (130, 50)]), LineString([(10, 10), (90, 10)])],
    )
    found = lane_findings(lanes, GRIDS)
    assert_findings_frame(found)
    assert found[["rule", "codes"]].values.tolist() == [
        ["lane_crosses_grids", ("L1", "G1", "G2")]
    ]
    assert found.iloc[0]["measure"] == {"lengths_m": {"G1": 50.0, "G2": 30.0}}
    assert found.iloc[0]["geometry"].equals(lanes.geometry[0])
    assert found.iloc[0]["severity"] == RULES["lane_crosses_grids"].severity.value


def test_lane_findings_tail_below_min_length_does_not_count():
    lanes = frame(["L1"], [LineString([(50, 50), (100.5, 50)])])
    assert lane_findings(lanes, GRIDS, min_length_m=1.0).empty


def test_lane_findings_empty_lanes_give_an_empty_frame():
    found = lane_findings(frame([], []), GRIDS)
    assert_findings_frame(found)
    assert found.empty


# --- service_findings / service_coverage ---------------------------------------------

COMMUNITIES = frame(["C1", "C2"], [box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)])
HOMES = frame(
    ["H1", "H2", "H3", "H4"],
    [Point(100, 100), Point(900, 900), Point(950, 50), Point(1100, 100)],
    households=[10, 30, 20, 5],
    residents=[25, 70, 40, 12],
)
CENTRES = frame(
    ["S1", "S2"],
    [Point(0, 0), Point(1500, 100)],
    kind=["睦邻中心", "社区中心"],
    radius_m=[None, 2000.0],
)


def test_service_findings_homes_beyond_500m_of_every_centre_are_found():
    found = service_findings(HOMES, CENTRES, COMMUNITIES, radii_m={"睦邻中心": 500})
    assert_findings_frame(found)
    assert found[["codes", "parent_code"]].values.tolist() == [
        [("C1", "H2", "H3"), "C1"],
        [("C2", "H4"), "C2"],
    ]
    assert found.iloc[0]["measure"] == {
        "kind": "睦邻中心",
        "radius_m": 500.0,
        "households_uncovered": 50.0,
        "residents_uncovered": 110.0,
        "households_total": 60.0,
        "share_covered": pytest.approx(10 / 60),
    }
    assert found.iloc[0]["geometry"].equals(shapely.MultiPoint([(900, 900), (950, 50)]))
    assert set(found["severity"]) == {RULES["service_radius"].severity.value}


def test_service_findings_centres_own_radius_is_used_when_radii_gives_none():
    found = service_findings(HOMES, CENTRES, COMMUNITIES, radii_m={"社区中心": None})
    assert found.empty  # S2 serves 2 km: every home

    short = CENTRES.assign(radius_m=[None, 450.0])
    found = service_findings(HOMES, short, COMMUNITIES, radii_m={"社区中心": None})
    assert found["codes"].tolist() == [("C1", "H1", "H2", "H3")]
    assert found.iloc[0]["measure"]["radius_m"] == 450.0


def test_service_findings_kind_without_centres_leaves_every_home_uncovered():
    found = service_findings(HOMES, CENTRES, COMMUNITIES, radii_m={"党群服务站": 300})
    assert found["codes"].tolist() == [("C1", "H1", "H2", "H3"), ("C2", "H4")]


def test_service_findings_missing_radius_is_rejected():
    with pytest.raises(InvalidInput):
        service_findings(HOMES, CENTRES, COMMUNITIES, radii_m={"睦邻中心": None})


def test_service_coverage_lists_fully_covered_communities_too():
    summary = service_coverage(
        HOMES, CENTRES, COMMUNITIES, radii_m={"睦邻中心": 500, "社区中心": 1200}
    )
    assert summary[["community_code", "kind", "share_covered"]].values.tolist() == [
        ["C1", "睦邻中心", pytest.approx(10 / 60)],
        ["C2", "睦邻中心", 0.0],
        ["C1", "社区中心", pytest.approx(50 / 60)],  # H1 is 1.4 km away
        ["C2", "社区中心", 1.0],
    ]
    assert summary["homes_total"].tolist() == [3, 1, 3, 1]


def test_service_findings_empty_homes_give_an_empty_frame():
    found = service_findings(
        HOMES.iloc[:0], CENTRES, COMMUNITIES, radii_m={"睦邻中心": 500}
    )
    assert_findings_frame(found)
    assert found.empty


def test_check_areas_a_parent_geos_cannot_overlay_is_one_finding_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
):
    # Real digitising error (Beijing's 街道) can make GEOS refuse an overlay;
    # every other parent must still be checked.
    import geogrid.spatial.coverage as engine

    real = engine._check

    def fragile(geoms, codes, *args, **kwargs):
        if "G3" in set(codes):
            raise shapely.errors.GEOSException("TopologyException: side location")
        return real(geoms, codes, *args, **kwargs)

    monkeypatch.setattr(engine, "_check", fragile)

    found = check_areas(areas(CITY), options=OPTIONS)

    assert found[["rule", "codes", "parent_code"]].values.tolist() == [
        ["gap", ("G1", "G2"), "C1"],
        ["geometry_unprocessable", ("G3", "G4"), "C2"],
    ]
    bad = found.iloc[1]
    assert bad["measure"] == {"geos_error": "TopologyException", "children": 2}
    assert bad["severity"] == "error"
    assert bad.geometry.covers(box(200, 0, 400, 100))


def test_check_areas_near_coincident_corners_from_rounding_are_checked():
    # A community drawn in one tool, its grids exported through KML at 8
    # decimals: corners a few millimetres apart, the classic GEOS trap.
    outline = shapely.Polygon(
        [(0, 0), (100.0000004, 0), (100, 60.0000003), (50.0000002, 100), (0, 100)]
    )
    left = shapely.Polygon([(0, 0), (50, 0), (50.00000019, 100), (0, 100)])
    right = shapely.Polygon(
        [(50, 0), (100, 0), (100.0000001, 60), (50.0000002, 100.0000001)]
    )
    found = check_areas(
        areas(
            [
                ("C1", "community", None, outline),
                ("G1", "grid", "C1", left),
                ("G2", "grid", "C1", right),
            ]
        ),
        options=OPTIONS,
    )
    assert set(found["rule"]) <= {"sliver", "edge_mismatch"}
