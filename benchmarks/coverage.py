"""Coverage checks (覆盖检查) on real and generated data, next to plain geopandas.

1. Taiwan: the 7,599 村/里 of twVillage1982.topo.json (GDAL's TopoJSON driver,
   layer "layer1", no CRS in the file: WGS84), the 8 invalid ones repaired
   with make_valid (structure, polygons kept) as the importer would, projected
   to local_crs. check_areas with no parent against the naive way:
   gpd.overlay(frame, frame, "intersection") for overlapping pairs and the
   interior rings of frame.union_all() for holes.
2. A generated city in EPSG:4545 (the generator of benchmarks/assign.py:
   --grids Voronoi grids, --buildings, --addresses), grouped into ~50
   communities, 8 streets and 1 district, with defects put in (grids dropped,
   grown, shifted). The whole check: check_areas on all levels, lane_findings
   on --lanes generated lanes, service_findings on the buildings as homes with
   150 centres, and assign_buildings + assign_addresses. Each step is timed
   against a naive geopandas version (overlay per parent, overlay of lanes on
   grids, sjoin_nearest per kind + sjoin into communities, sjoin of points).

Seconds are single runs, wall clock. Target: the whole check of the generated
city in under 10 s on 2 cores.

Usage: .venv/bin/python benchmarks/coverage.py [--grids N] [--buildings N]
       [--addresses N] [--lanes N] [--skip-naive]
"""

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# Run as a script, benchmarks/ is on sys.path: reuse the assignment generator.
from assign import CRS, make_addresses, make_buildings, make_grids

import geopandas as gpd
import shapely

from geogrid.spatial.assign import BuildingRule, assign_addresses, assign_buildings
from geogrid.spatial.coverage import (
    CoverageOptions,
    check_areas,
    lane_findings,
    service_findings,
)
from geogrid.spatial.crs import local_crs

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
TOPOJSON = REALDATA / "taiwan_villages_g0v" / "twVillage1982.topo.json"
OPTIONS = CoverageOptions()
RADII = {"睦邻中心": 500.0, "社区中心": None}  # 社区中心: each its own radius_m


def timed(func: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = func()
    return result, time.perf_counter() - start


def show(name: str, ours: float | None, naive: float | None, note: str = "") -> None:
    cells = [f"{v:8.2f}" if v is not None else f"{'-':>8}" for v in (ours, naive)]
    ratio = f"{naive / ours:7.1f}x" if ours and naive else f"{'':8}"
    print(f"{name:<34}{cells[0]}{cells[1]}{ratio}  {note}".rstrip())


def header() -> None:
    print(f"{'step':<34}{'geogrid':>8}{'naive':>8}{'naive/':>8}")


def counts(found: gpd.GeoDataFrame) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in found["rule"].value_counts().items())


# --- naive geopandas ------------------------------------------------------------------


def naive_areas(children: gpd.GeoDataFrame, parent: Any) -> tuple[int, int]:
    """Overlapping pairs and gap pieces of one sibling set, with plain geopandas."""
    pairs = gpd.overlay(children, children, how="intersection", keep_geom_type=True)
    pairs = pairs[(pairs["code_1"] < pairs["code_2"]) & (pairs.area >= 1)]
    union = children.union_all()
    if parent is None:
        rings = [r for part in shapely.get_parts(union) for r in part.interiors]
        gaps = gpd.GeoSeries([shapely.Polygon(r) for r in rings])
    else:
        gaps = gpd.GeoSeries([parent.difference(union)]).explode()
    return len(pairs), int((gaps.area >= 1).sum())


def naive_check_areas(areas: gpd.GeoDataFrame) -> tuple[int, int]:
    outline = areas.set_index("code").geometry
    pairs = gaps = 0
    for (_, parent_code), children in areas.groupby(
        ["level", "parent_code"], dropna=False
    ):
        parent = outline.get(parent_code) if isinstance(parent_code, str) else None
        p, g = naive_areas(children[["code", "geometry"]], parent)
        pairs, gaps = pairs + p, gaps + g
    return pairs, gaps


def naive_lanes(lanes: gpd.GeoDataFrame, grids: gpd.GeoDataFrame) -> int:
    pieces = gpd.overlay(lanes, grids, how="intersection", keep_geom_type=True)
    pieces = pieces[pieces.length >= 1]
    return int((pieces.groupby("code_1").size() >= 2).sum())


def naive_service(
    homes: gpd.GeoDataFrame, centres: gpd.GeoDataFrame, communities: gpd.GeoDataFrame
) -> int:
    homes = homes[["code", "households", "geometry"]]
    placed = gpd.sjoin(homes, communities[["geometry"]], predicate="within")
    found = 0
    for kind, radius in RADII.items():
        mine = centres[centres["kind"] == kind]
        if radius is None:  # a radius per centre: one join per distinct radius
            near = pd.concat(
                gpd.sjoin_nearest(homes, group[["geometry"]], max_distance=r)
                for r, group in mine.groupby("radius_m")
            )
        else:
            near = gpd.sjoin_nearest(homes, mine[["geometry"]], max_distance=radius)
        out = placed[~placed["code"].isin(near["code"])]
        found += out["index_right"].nunique()
    return found


def naive_assign(
    buildings: gpd.GeoDataFrame, addresses: gpd.GeoDataFrame, grids: gpd.GeoDataFrame
) -> int:
    cells = grids[["code", "geometry"]]
    inner = buildings.set_geometry(buildings.representative_point())[["geometry"]]
    a = gpd.sjoin(inner, cells, predicate="within")
    b = gpd.sjoin(addresses[["geometry"]], cells, predicate="within")
    return len(a) + len(b)


# --- Taiwan -----------------------------------------------------------------------


def taiwan(*, skip_naive: bool) -> None:
    if not TOPOJSON.is_file():
        print(f"Taiwan skipped: {TOPOJSON} not found")
        return
    frame = gpd.read_file(TOPOJSON, layer="layer1").set_crs(4326)
    geoms = np.asarray(frame.geometry.array)
    bad = ~shapely.is_valid(geoms)
    made = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
    parts, owner = shapely.get_parts(made, return_index=True)
    keep = shapely.get_type_id(parts) == 3
    geoms[bad] = shapely.multipolygons(parts[keep], indices=owner[keep])
    frame = frame.set_geometry(geoms, crs=4326)
    frame = frame.to_crs(local_crs(frame))
    areas = gpd.GeoDataFrame(
        {
            "code": [f"V{i:05d}" for i in range(len(frame))],
            "level": "village",
            "parent_code": None,
        },
        geometry=frame.geometry,
    )
    print(f"Taiwan: {len(areas):,} 村/里, {bad.sum()} repaired, {areas.crs.name}")
    found, ours = timed(lambda: check_areas(areas, options=OPTIONS))
    naive = None
    if not skip_naive:
        (pairs, holes), naive = timed(
            lambda: naive_areas(areas[["code", "geometry"]], None)
        )
    header()
    show("check_areas, no parent", ours, naive)
    print(f"  geogrid: {counts(found)}")
    if naive is not None:
        print(f"  naive: {pairs:,} overlapping pairs >= 1 m², {holes:,} holes >= 1 m²")


# --- the generated city ---------------------------------------------------------------


def group_by_seeds(
    rng: np.random.Generator, geoms: np.ndarray, n: int, prefix: str
) -> tuple[np.ndarray, gpd.GeoDataFrame]:
    """Group polygons by the nearest of n random seeds; return group and unions."""
    inner = shapely.point_on_surface(geoms)
    xy = shapely.get_coordinates(inner)
    seeds = xy[rng.choice(len(xy), n, replace=False)]
    group = np.argmin(((xy[:, None, :] - seeds[None, :, :]) ** 2).sum(-1), axis=1)
    _, group = np.unique(group, return_inverse=True)
    unions = [
        shapely.coverage_union_all(geoms[group == g]) for g in range(group.max() + 1)
    ]
    codes = np.array([f"{prefix}{g:03d}" for g in range(len(unions))], dtype=object)
    return group, gpd.GeoDataFrame({"code": codes}, geometry=unions, crs=CRS)


def city(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(20240601)
    grids, origin = make_grids(rng, args.grids)
    buildings, shape = make_buildings(rng, args.buildings, origin)
    addresses = make_addresses(rng, args.addresses, shape, origin)
    geoms = np.asarray(grids.geometry.array)
    in_community, communities = group_by_seeds(rng, geoms, 50, "C")
    in_street, streets = group_by_seeds(
        rng, np.asarray(communities.geometry.array), 8, "S"
    )
    district = shapely.coverage_union_all(np.asarray(streets.geometry.array))
    # Defects: 5 grids dropped (gaps), 5 grown by 4 m (overlaps, outside),
    # 5 shifted by 0.3 m (slivers and unmatched edges).
    pick = rng.permutation(len(grids))
    geoms = geoms.copy()
    geoms[pick[5:10]] = shapely.buffer(geoms[pick[5:10]], 4.0, join_style="mitre")
    geoms[pick[10:15]] = shapely.transform(geoms[pick[10:15]], lambda c: c + 0.3)
    keep = np.ones(len(grids), dtype=bool)
    keep[pick[:5]] = False
    grids = grids.set_geometry(geoms)[keep].reset_index(drop=True)
    areas = pd.concat(
        [
            gpd.GeoDataFrame(
                {"code": ["D1"], "parent_code": [None]}, geometry=[district], crs=CRS
            ).assign(level="district"),
            streets.assign(level="street", parent_code="D1"),
            communities.assign(
                level="community", parent_code=streets["code"].to_numpy()[in_street]
            ),
            grids.assign(
                level="grid",
                parent_code=communities["code"].to_numpy()[in_community][keep],
            ),
        ],
        ignore_index=True,
    )
    x0, y0, x1, y1 = shapely.total_bounds(np.asarray(grids.geometry.array))
    start = np.c_[rng.uniform(x0, x1, args.lanes), rng.uniform(y0, y1, args.lanes)]
    turn, length = (
        rng.uniform(0, 2 * np.pi, args.lanes),
        rng.uniform(50, 400, args.lanes),
    )
    end = start + np.c_[np.cos(turn), np.sin(turn)] * length[:, None]
    lanes = gpd.GeoDataFrame(
        {"code": [f"L{i:05d}" for i in range(args.lanes)]},
        geometry=shapely.linestrings(np.stack([start, end], axis=1)),
        crs=CRS,
    )
    households = rng.integers(1, 80, len(buildings))
    homes = gpd.GeoDataFrame(
        {
            "code": buildings["code"],
            "households": households,
            "residents": np.round(households * rng.uniform(2.0, 3.2, len(buildings))),
        },
        geometry=buildings.geometry.representative_point(),
        crs=CRS,
    )
    kinds = np.array(["睦邻中心"] * 100 + ["社区中心"] * 50)
    centres = gpd.GeoDataFrame(
        {
            "code": [f"Z{i:03d}" for i in range(len(kinds))],
            "kind": kinds,
            "radius_m": np.where(kinds == "社区中心", 1500.0, np.nan),
        },
        geometry=shapely.points(
            rng.uniform(x0, x1, len(kinds)), rng.uniform(y0, y1, len(kinds))
        ),
        crs=CRS,
    )
    print(
        f"\nGenerated city in {CRS}: {len(grids):,} grids, {len(communities)} "
        f"communities, {len(streets)} streets, {len(buildings):,} buildings, "
        f"{len(addresses):,} addresses, {len(lanes):,} lanes, {len(centres)} centres"
    )
    grid_frame = grids[["code", "geometry"]]

    def assignment() -> pd.DataFrame:
        placed = assign_buildings(
            buildings, grid_frame, rule=BuildingRule.POINT_ON_SURFACE
        )
        with_grid = buildings.assign(grid_code=placed["grid_code"])
        return assign_addresses(addresses, with_grid, grid_frame, tolerance_m=3.0)

    steps = [
        ("check_areas, all levels", lambda: check_areas(areas, options=OPTIONS),
         lambda: naive_check_areas(areas)),
        ("lane_findings", lambda: lane_findings(lanes, grid_frame),
         lambda: naive_lanes(lanes, grid_frame)),
        ("service_findings", lambda: service_findings(
            homes, centres, communities, radii_m=RADII),
         lambda: naive_service(homes, centres, communities)),
        ("assign_buildings + assign_addresses", assignment,
         lambda: naive_assign(buildings, addresses, grid_frame)),
    ]  # fmt: skip
    header()
    total, naive_total, notes = 0.0, 0.0, []
    for name, ours, naive in steps:
        result, seconds = timed(ours)
        naive_result, naive_seconds = (None, None) if args.skip_naive else timed(naive)
        total += seconds
        naive_total += naive_seconds or 0.0
        show(name, seconds, naive_seconds)
        if isinstance(result, gpd.GeoDataFrame):
            notes.append(f"  {name}: {counts(result)}; naive: {naive_result}")
        else:
            reasons = result["reason"].value_counts()
            notes.append(
                "  assignment: " + ", ".join(f"{k} {v:,}" for k, v in reasons.items())
            )
    show("whole check (target < 10 s)", total, None if args.skip_naive else naive_total)
    print("\n".join(notes))
    print("  naive figures: (overlapping pairs, gap pieces) / lanes in 2+ grids /")
    print("  (community, kind) pairs with an unserved home / points joined to a grid")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--grids", type=int, default=1_000)
    parser.add_argument("--buildings", type=int, default=100_000)
    parser.add_argument("--addresses", type=int, default=1_000_000)
    parser.add_argument("--lanes", type=int, default=2_000)
    parser.add_argument("--skip-naive", action="store_true")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; seconds are wall clock of one run")
    taiwan(skip_naive=args.skip_naive)
    city(args)


if __name__ == "__main__":
    main()
