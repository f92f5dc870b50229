import math

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
import shapely
from shapely import LineString, Point, Polygon, box
from shapely.affinity import scale

from geogrid.errors import InvalidInput
from geogrid.spatial.assign import (
    AddressReason,
    BuildingRule,
    affected,
    assign_addresses,
    assign_buildings,
)

CRS = "EPSG:4545"
TOL = 3.0
POS, LARGEST = BuildingRule.POINT_ON_SURFACE, BuildingRule.LARGEST_SHARE


def frame(
    codes: list, geoms: list, index: list | None = None, **columns: list
) -> gpd.GeoDataFrame:
    data = pd.DataFrame({"code": codes, **columns}, index=index)
    return gpd.GeoDataFrame(data, geometry=list(geoms), crs=CRS)


def row(result: pd.DataFrame, code: str) -> dict:
    return result.set_index("code").loc[code].to_dict()


# --- assign_buildings -------------------------------------------------------------

L_SHAPE = Polygon([(0, 0), (10, 0), (10, 2), (2, 2), (2, 10), (0, 10)])
L_GRIDS = frame(["GA", "GB"], [box(-10, -10, 20, 4), box(-10, 4, 20, 20)])


def test_assign_buildings_point_on_surface_takes_the_grid_of_the_inner_point():
    result = assign_buildings(frame(["B1"], [L_SHAPE]), L_GRIDS, rule=POS)
    # GEOS puts the inner point in the upright arm, which lies mostly in GB.
    assert row(result, "B1") == pytest.approx(
        {
            "grid_code": "GB",
            "grid_share": 12 / 36,
            "split_grid_code": "GA",
            "split_share": 24 / 36,
        }
    )


def test_assign_buildings_largest_share_takes_the_grid_with_most_area():
    result = assign_buildings(frame(["B1"], [L_SHAPE]), L_GRIDS, rule=LARGEST)
    assert row(result, "B1") == pytest.approx(
        {
            "grid_code": "GA",
            "grid_share": 24 / 36,
            "split_grid_code": "GB",
            "split_share": 12 / 36,
        }
    )


def test_assign_buildings_lists_a_split_above_the_share():
    grids = frame(["G1", "G2"], [box(-50, -50, 8.8, 50), box(8.8, -50, 50, 50)])
    result = assign_buildings(frame(["B1"], [box(0, 0, 10, 10)]), grids, rule=LARGEST)
    assert row(result, "B1")["split_grid_code"] == "G2"
    assert row(result, "B1")["split_share"] == pytest.approx(0.12)


def test_assign_buildings_does_not_list_a_split_below_the_share():
    grids = frame(["G1", "G2"], [box(-50, -50, 9.5, 50), box(9.5, -50, 50, 50)])
    result = assign_buildings(frame(["B1"], [box(0, 0, 10, 10)]), grids, rule=LARGEST)
    assert row(result, "B1")["split_grid_code"] is None
    assert row(result, "B1")["split_share"] == 0.0
    assert row(result, "B1")["grid_share"] == pytest.approx(0.95)


def test_assign_buildings_point_on_shared_edge_goes_to_the_lowest_code_only():
    grids = frame(["G2", "G1"], [box(-10, -10, 0, 10), box(0, -10, 10, 10)])
    building = box(-1, 0, 1, 2)
    assert shapely.point_on_surface(building).equals(Point(0, 1))  # on the edge
    for rule in BuildingRule:
        result = assign_buildings(frame(["B1"], [building]), grids, rule=rule)
        assert row(result, "B1") == {
            "grid_code": "G1",
            "grid_share": 0.5,
            "split_grid_code": "G2",
            "split_share": 0.5,
        }


def test_assign_buildings_building_in_no_grid_gets_none():
    grids = frame(["G1"], [box(0, 0, 10, 10)])
    blds = frame(["B1", "B2", "B3"], [box(20, 20, 25, 25), box(10, 2, 12, 4), None])
    for rule in BuildingRule:
        result = assign_buildings(blds, grids, rule=rule)
        assert result["grid_code"].tolist() == [None, None, None]
        assert result["grid_share"].tolist() == [0.0, 0.0, 0.0]
        assert result["split_grid_code"].tolist() == [None, None, None]


def test_assign_buildings_keeps_the_input_index_and_order():
    grids = frame(["G1", "G2"], [box(0, 0, 10, 10), box(10, 0, 20, 10)])
    blds = frame(
        ["B1", "B2", "B3"],
        [box(11, 1, 12, 2), box(1, 1, 2, 2), box(30, 0, 31, 1)],
        index=[30, 10, 20],
    )
    result = assign_buildings(blds, grids, rule=POS)
    assert result.index.tolist() == [30, 10, 20]
    assert result["code"].tolist() == ["B1", "B2", "B3"]
    assert result["grid_code"].tolist() == ["G2", "G1", None]


def test_assign_buildings_equal_shares_go_to_the_lowest_code():
    grids = frame(["G9", "G3"], [box(-10, -10, 5, 10), box(5, -10, 20, 10)])
    result = assign_buildings(frame(["B1"], [box(0, 0, 10, 2)]), grids, rule=LARGEST)
    assert row(result, "B1")["grid_code"] == "G3"
    assert row(result, "B1")["split_grid_code"] == "G9"


def test_assign_buildings_point_on_surface_in_overlapping_grids_takes_the_lowest_code():
    # Properly inside G2, but G1 overlaps it and holds its inner point too.
    grids = frame(["G2", "G1"], [box(0, 0, 100, 100), box(-50, 0, 15, 100)])
    result = assign_buildings(frame(["B1"], [box(5, 40, 20, 60)]), grids, rule=POS)
    assert row(result, "B1") == pytest.approx(
        {
            "grid_code": "G1",
            "grid_share": 2 / 3,
            "split_grid_code": "G2",
            "split_share": 1.0,
        }
    )


SQUARE = frame(["S1"], [box(0, 0, 1, 1)])


def test_assign_buildings_rejects_degrees():
    in_degrees = SQUARE.set_crs(4326, allow_override=True)
    with pytest.raises(InvalidInput, match="crs"):
        assign_buildings(in_degrees, in_degrees, rule=POS)


def test_assign_buildings_rejects_two_crs():
    with pytest.raises(InvalidInput, match="crs"):
        assign_buildings(SQUARE, SQUARE.set_crs(32648, allow_override=True), rule=POS)


def test_assign_buildings_rejects_an_unknown_rule():
    with pytest.raises(InvalidInput, match="rule"):
        assign_buildings(SQUARE, SQUARE, rule="centroid")


def test_assign_buildings_takes_points_by_containment_and_rejects_lines():
    # A building known only by its point (an office's 楼栋 list) has the grid
    # holding it; it has no area, so it is never reported split.
    points = frame(["B1", "B2"], [Point(0.5, 0.5), Point(500, 500)])
    got = assign_buildings(points, SQUARE, rule=POS)
    assert got["grid_code"].tolist() == ["S1", None]
    assert got["split_grid_code"].isna().all()
    with pytest.raises(InvalidInput) as error:
        assign_buildings(
            frame(["B1"], [LineString([(0, 0), (1, 1)])]), SQUARE, rule=POS
        )
    assert error.value.code == "geometry_type_wrong"


# --- assign_addresses ---------------------------------------------------------------

GRIDS = frame(["G1", "G2"], [box(0, 0, 100, 100), box(100, 0, 200, 100)])
HOUSE = box(10, 10, 30, 30)


def addresses(geoms: list, index: list | None = None) -> gpd.GeoDataFrame:
    return frame([f"A{i}" for i in range(len(geoms))], geoms, index=index)


def assign_one(
    point: Point,
    codes: tuple[str, ...] = ("B1",),
    geoms: tuple[Polygon, ...] = (HOUSE,),
    grid_codes: tuple[str | None, ...] = ("G1",),
) -> dict:
    blds = frame(list(codes), list(geoms), grid_code=list(grid_codes))
    return row(assign_addresses(addresses([point]), blds, GRIDS, tolerance_m=TOL), "A0")


def test_assign_addresses_inside_a_building():
    assert assign_one(Point(20, 20)) == {
        "building_code": "B1",
        "grid_code": "G1",
        "reason": AddressReason.IN_BUILDING,
        "distance_m": 0.0,
    }


def test_assign_addresses_on_the_outline_counts_as_inside():
    for point in (Point(10, 20), Point(10, 10), Point(30, 30)):
        assert assign_one(point)["reason"] == AddressReason.IN_BUILDING


def test_assign_addresses_two_metres_away_is_near():
    assert assign_one(Point(8, 20)) == {
        "building_code": "B1",
        "grid_code": "G1",
        "reason": AddressReason.NEAR_BUILDING,
        "distance_m": 2.0,
    }


def test_assign_addresses_five_metres_away_falls_to_the_grid():
    result = assign_one(Point(5, 20))
    assert result["building_code"] is None
    assert (result["grid_code"], result["reason"]) == ("G1", AddressReason.IN_GRID)
    assert math.isnan(result["distance_m"])


def test_assign_addresses_outside_every_grid():
    result = assign_one(Point(-50, -50))
    assert (result["building_code"], result["grid_code"]) == (None, None)
    assert result["reason"] == AddressReason.OUTSIDE


def test_assign_addresses_without_geometry():
    blds = frame(["B1"], [HOUSE], grid_code=["G1"])
    result = assign_addresses(addresses([None, Point()]), blds, GRIDS)
    assert result["reason"].tolist() == [AddressReason.NO_GEOMETRY] * 2
    assert result["grid_code"].tolist() == [None, None]


def test_assign_addresses_on_a_shared_grid_edge_goes_to_the_lowest_code():
    result = assign_one(Point(100, 50))
    assert (result["grid_code"], result["reason"]) == ("G1", AddressReason.IN_GRID)


def test_assign_addresses_tied_buildings_in_one_grid_take_the_lowest_code():
    result = assign_one(
        Point(50, 50),
        ("B7", "B3"),
        (box(40, 40, 48, 60), box(52, 40, 60, 60)),
        ("G1", "G1"),
    )
    assert (result["building_code"], result["reason"]) == (
        "B3",
        AddressReason.NEAR_BUILDING,
    )
    assert result["distance_m"] == 2.0


def test_assign_addresses_nearest_building_beats_a_farther_one_within_tolerance():
    result = assign_one(
        Point(50, 50),
        ("B2", "B1"),
        (box(40, 40, 49, 60), box(52, 40, 60, 60)),
        ("G1", "G2"),
    )
    assert (result["building_code"], result["grid_code"]) == ("B2", "G1")
    assert (result["reason"], result["distance_m"]) == (
        AddressReason.NEAR_BUILDING,
        1.0,
    )


def test_assign_addresses_tied_buildings_in_different_grids_fall_to_the_grid():
    result = assign_one(
        Point(50, 50),
        ("B1", "B2"),
        (box(40, 40, 48, 60), box(52, 40, 60, 60)),
        ("G1", "G2"),
    )
    assert result["building_code"] is None
    assert (result["grid_code"], result["reason"]) == ("G1", AddressReason.IN_GRID)


def test_assign_addresses_tied_buildings_in_different_grids_outside_any_grid_are_ambiguous():
    result = assign_one(
        Point(-50, 50),
        ("B1", "B2"),
        (box(-60, 40, -52, 60), box(-48, 40, -40, 60)),
        ("G1", "G2"),
    )
    assert (result["building_code"], result["grid_code"]) == (None, None)
    assert result["reason"] == AddressReason.AMBIGUOUS


def test_assign_addresses_in_a_courtyard_is_not_in_the_building():
    courtyard = Polygon(HOUSE.exterior, [box(15, 15, 25, 25).exterior])
    assert (
        assign_one(Point(20, 20), geoms=(courtyard,))["reason"] == AddressReason.IN_GRID
    )
    assert (
        assign_one(Point(15, 20), geoms=(courtyard,))["reason"]
        == AddressReason.IN_BUILDING
    )


def test_assign_addresses_inside_any_part_of_a_multipolygon_building():
    wings = shapely.MultiPolygon([box(10, 10, 20, 20), box(40, 10, 50, 20)])
    assert (
        assign_one(Point(45, 15), geoms=(wings,))["reason"] == AddressReason.IN_BUILDING
    )


def test_assign_addresses_building_part_beats_its_building():
    result = assign_one(
        Point(14, 14), ("B1", "P2"), (HOUSE, box(12, 12, 16, 16)), ("G1", "G1")
    )
    assert (result["building_code"], result["reason"]) == (
        "P2",
        AddressReason.IN_BUILDING,
    )


def test_assign_addresses_containing_buildings_in_different_grids_fall_to_the_grid():
    result = assign_one(
        Point(14, 14), ("B1", "P2"), (HOUSE, box(12, 12, 16, 16)), ("G1", "G2")
    )
    assert result["building_code"] is None
    assert (result["grid_code"], result["reason"]) == ("G1", AddressReason.IN_GRID)


def test_assign_addresses_building_in_no_grid_takes_the_grid_of_the_point():
    result = assign_one(Point(20, 20), grid_codes=(None,))
    assert (result["building_code"], result["grid_code"]) == ("B1", "G1")
    assert result["reason"] == AddressReason.IN_BUILDING


def test_assign_addresses_building_in_no_grid_and_point_in_none_is_outside():
    result = assign_one(
        Point(-19, 20), geoms=(box(-30, 10, -20, 30),), grid_codes=(None,)
    )
    assert (result["building_code"], result["grid_code"]) == ("B1", None)
    assert (result["reason"], result["distance_m"]) == (AddressReason.OUTSIDE, 1.0)


def test_assign_addresses_without_buildings_uses_the_grids():
    no_buildings = frame([], [], grid_code=[])
    result = assign_addresses(addresses([Point(150, 50)]), no_buildings, GRIDS)
    assert (row(result, "A0")["grid_code"], row(result, "A0")["reason"]) == (
        "G2",
        AddressReason.IN_GRID,
    )


def test_assign_addresses_keeps_the_input_index_and_order():
    blds = frame(["B1"], [HOUSE], grid_code=["G1"])
    addrs = addresses([Point(150, 50), None, Point(20, 20)], index=["z", "x", "y"])
    result = assign_addresses(addrs, blds, GRIDS)
    assert result.index.tolist() == ["z", "x", "y"]
    assert result["code"].tolist() == ["A0", "A1", "A2"]
    assert result["grid_code"].tolist() == ["G2", None, "G1"]


def test_assign_addresses_empty_frame():
    blds = frame(["B1"], [HOUSE], grid_code=["G1"])
    result = assign_addresses(addresses([]), blds, GRIDS)
    assert result.empty
    assert result.columns.tolist() == [
        "code",
        "building_code",
        "grid_code",
        "reason",
        "distance_m",
    ]


def test_assign_addresses_rejects_a_missing_grid_code_column():
    with pytest.raises(InvalidInput) as error:
        assign_addresses(addresses([Point(1, 1)]), frame(["B1"], [HOUSE]), GRIDS)
    assert error.value.code == "field_missing"


# --- affected: incremental recomputation equals a full one ----------------------------


def test_affected_flags_an_address_whose_tied_neighbour_changes_grid():
    old = frame(["G1", "G2"], [box(0, 0, 100, 100), box(100, 0, 200, 100)])
    new = frame(["G1", "G2"], [box(0, 0, 100, 100), box(80, 0, 200, 100)])  # G2 grows
    blds = frame(["B1", "B2"], [box(40, 40, 48, 60), box(52, 40, 130, 60)])
    addrs = addresses([Point(50, 50)])  # 2 m from both, 30 m from the edit
    placed = assign_buildings(blds, old, rule=LARGEST)
    before = assign_addresses(addrs, blds.assign(grid_code=placed["grid_code"]), old)
    assert row(before, "A0")["building_code"] == "B1"
    region = shapely.union(old.geometry[1], new.geometry[1])
    b_mask, a_mask = affected(
        blds, addrs, region, tolerance_m=TOL, address_building=before["building_code"]
    )
    assert b_mask.tolist() == [False, True]
    assert a_mask.tolist() == [True]  # only because B2 is within 3 m of it
    placed = assign_buildings(blds, new, rule=LARGEST)
    after = assign_addresses(addrs, blds.assign(grid_code=placed["grid_code"]), new)
    assert (row(after, "A0")["building_code"], row(after, "A0")["reason"]) == (
        None,
        AddressReason.IN_GRID,
    )


SIZE, CELLS = 100.0, 4


def _rectangles(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rotated rectangles around the lattice, and a local frame to place points."""
    cx, cy = rng.uniform(-20, CELLS * SIZE + 20, (2, n))
    w, h, turn = rng.uniform(4, 30, n), rng.uniform(4, 20, n), rng.uniform(0, np.pi, n)
    u = np.array([-1, 1, 1, -1, -1]) * w[:, None] / 2
    v = np.array([-1, -1, 1, 1, -1]) * h[:, None] / 2
    c, s = np.cos(turn)[:, None], np.sin(turn)[:, None]
    xy = np.stack([cx[:, None] + u * c - v * s, cy[:, None] + u * s + v * c], axis=-1)
    return shapely.polygons(xy), np.c_[cx, cy, w, h, np.cos(turn), np.sin(turn)]


def _world(rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, ...]:
    """A jittered 4x4 lattice partition with gaps, buildings and addresses."""
    ticks = np.arange(CELLS + 1) * SIZE
    v = np.stack(np.meshgrid(ticks, ticks, indexing="ij"), axis=-1)
    v[1:-1, 1:-1] += rng.uniform(-0.3, 0.3, (CELLS - 1, CELLS - 1, 2)) * SIZE
    cells = [
        Polygon([v[i, j], v[i + 1, j], v[i + 1, j + 1], v[i, j + 1]])
        for i in range(CELLS)
        for j in range(CELLS)
    ]
    codes = [f"G{k:02d}" for k in rng.permutation(len(cells)) * 3 + 10]  # shuffled
    keep = np.flatnonzero(rng.random(len(cells)) > 0.1)  # some gaps
    grids = frame([codes[k] for k in keep], [cells[k] for k in keep])
    # Buildings: rectangles, parts inside some of them, exact twins, and integer
    # pairs 4 m apart whose midpoint is exactly 2 m from both.
    n = 120
    houses, frames = _rectangles(rng, n)
    cx, cy, w, h, c, s = frames.T
    geoms = list(houses)
    geoms += [scale(houses[k], 1 / 3, 1 / 3) for k in rng.choice(n, 15, replace=False)]
    geoms += [houses[k] for k in rng.choice(n, 5, replace=False)]
    ties = rng.integers(10, CELLS * SIZE - 10, (12, 2)).astype(float)
    geoms += [box(x - 10, y - 5, x - 2, y + 5) for x, y in ties]
    geoms += [box(x + 2, y - 5, x + 10, y + 5) for x, y in ties]
    buildings = frame([f"B{k:03d}" for k in rng.permutation(len(geoms))], geoms)
    # Addresses: inside or up to 40 % outside a rectangle, anywhere, on building
    # vertices, on lattice vertices (shared by grids), at the ties, and none.
    m = 300
    b, (du, dv) = rng.integers(0, n, m), rng.uniform(-0.5, 0.5, (2, m))
    du, dv = (du, dv) * np.where(rng.random(m) < 0.3, rng.uniform(1, 1.4, m), 1)
    px = cx[b] + du * w[b] * c[b] - dv * h[b] * s[b]
    py = cy[b] + du * w[b] * s[b] + dv * h[b] * c[b]
    points = list(shapely.points(px, py))
    points += list(shapely.points(rng.uniform(-30, CELLS * SIZE + 30, (60, 2))))
    corners = shapely.get_coordinates(houses[rng.choice(n, 20)])
    points += list(shapely.points(corners[::3]))
    points += list(shapely.points(v.reshape(-1, 2)[rng.choice(v.size // 2, 10)]))
    points += [*shapely.points(ties), *[None] * 5]
    return grids, buildings, addresses(points)


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    parts = shapely.get_parts(geom)
    parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
    return shapely.union_all(parts) if len(parts) else Polygon()


def _edit(
    rng: np.random.Generator, grids: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, list[shapely.Geometry]]:
    """Edit one grid, updating its neighbours consistently or not.

    Returns the new grids and the old and new geometry of what changed, or no
    geometry when the edit made an invalid polygon.
    """
    geoms, codes = list(grids.geometry), list(grids["code"])
    i = int(rng.integers(len(geoms)))
    vertices = shapely.get_coordinates(geoms[i])
    if not len(vertices):
        return grids, []
    anchor = vertices[rng.integers(len(vertices))]
    consistent = rng.random() < 0.5
    kind = rng.choice(["move", "grow", "shrink", "split"])
    new = list(geoms)
    if kind == "move":
        shift = rng.uniform(-30, 30, 2)

        def move(xy: np.ndarray) -> np.ndarray:
            return np.where((xy == anchor).all(axis=1)[:, None], xy + shift, xy)

        for j in range(len(geoms)) if consistent else [i]:
            new[j] = shapely.transform(geoms[j], move)
    else:
        half = rng.uniform(10, 45, 2)
        piece = box(*(anchor - half), *(anchor + half))
        if kind == "grow":
            new[i] = shapely.union(geoms[i], piece)
            if consistent:
                new = [
                    g if j == i else shapely.difference(g, piece)
                    for j, g in enumerate(new)
                ]
        else:
            cut = shapely.intersection(geoms[i], piece)
            new[i] = shapely.difference(geoms[i], piece)
            if kind == "split" and consistent:  # a new grid: lowest, highest, between
                new.append(cut)
                codes.append(f"{rng.choice(['A', 'G99', 'G20a'])}{len(codes)}")
            elif kind == "split":
                j = int(rng.integers(len(geoms)))
                new[j] = shapely.union(new[j], cut)  # given to another grid
    new = [_polygonal(g) for g in new]
    if not all(shapely.is_valid(new)):
        return grids, []
    changed = [k for k in range(len(geoms)) if not new[k].equals_exact(geoms[k], 0)]
    touched = (
        [geoms[k] for k in changed] + [new[k] for k in changed] + new[len(geoms) :]
    )
    return frame(codes, new), touched


def _merge(old: pd.DataFrame, part: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    return pd.concat([old[~mask], part]).loc[old.index]


def test_affected_incremental_recomputation_equals_a_full_one():
    edits, moved, flagged = 0, 0, []
    for seed in range(10):
        rng = np.random.default_rng(seed)
        grids, buildings, addrs = _world(rng)
        rule = [POS, LARGEST][seed % 2]
        placed = assign_buildings(buildings, grids, rule=rule)
        homes = assign_addresses(
            addrs,
            buildings.assign(grid_code=placed["grid_code"]),
            grids,
            tolerance_m=TOL,
        )
        for _ in range(6):
            new_grids, touched = _edit(rng, grids)
            while not touched:
                new_grids, touched = _edit(rng, grids)
            edits += 1
            region = shapely.union_all(touched)
            if rng.random() < 0.3:
                region = box(*region.bounds)
            b_mask, a_mask = affected(
                buildings,
                addrs,
                region,
                tolerance_m=TOL,
                address_building=homes["building_code"],
            )
            part = assign_buildings(buildings[b_mask], new_grids, rule=rule)
            merged_b = _merge(placed, part, b_mask)
            with_grid = buildings.assign(grid_code=merged_b["grid_code"])
            part = assign_addresses(
                addrs[a_mask], with_grid, new_grids, tolerance_m=TOL
            )
            merged_a = _merge(homes, part, a_mask)
            full_b = assign_buildings(buildings, new_grids, rule=rule)
            with_grid = buildings.assign(grid_code=full_b["grid_code"])
            full_a = assign_addresses(addrs, with_grid, new_grids, tolerance_m=TOL)
            pd.testing.assert_frame_equal(merged_b, full_b, check_exact=True)
            pd.testing.assert_frame_equal(merged_a, full_a, check_exact=True)
            moved += not (full_b.equals(placed) and full_a.equals(homes))
            flagged.append(a_mask.mean())
            grids, placed, homes = new_grids, full_b, full_a
    assert edits == 60
    assert moved >= 40  # the edits really move things...
    assert np.mean(flagged) < 0.5  # ...and most addresses are left alone
