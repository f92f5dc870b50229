"""Grid proposals (网格划分建议) next to a k-means baseline.

Cases:

1. The sample county (data/boundaries, read straight from the GeoJSON): each
   of its 8 communities with its own buildings and every lane of the county,
   without the existing grids (a fresh split, comparable with the baseline),
   and once more with them ("+existing": which grids are kept; kept grids
   keep their drawn outlines, so that row's Polsby-Popper is not comparable).
2. A generated community of --buildings buildings near 116.4E 39.9N
   (numpy seed --seed): blocks of houses (1-6 households) and of flats
   (12-60), an outline that follows the blocks, and --roads lanes along
   streets that cut it through.

Baseline: k-means (k-means++ start, Lloyd to convergence, numpy) on building
centroids with k = round(total / target), each cluster dissolved as the union
of its buildings' cells (geogrid.spatial.cells, the same tiling the proposal
uses), so both cover the community exactly.

Figures per case (band 300-500, target 400): grids; max |households -
target| / target; share of grids within the band; mean Polsby-Popper
4πA/P² in metres (local_crs); grids in more than one piece; buildings whose
footprint a grid edge cuts; lanes cut (>= 1 m inside two grids' interiors,
so a lane run along an edge is not cut); seconds (wall clock, one run).

Target: every grid within the band and in one piece, and a higher mean
Polsby-Popper than the baseline. PASS/MISS is printed per case.

Usage: .venv/bin/python benchmarks/proposals.py [--buildings N] [--roads N]
       [--seed N] [--skip-county] [--skip-generated]
"""

import argparse
import math
import os
import time
from pathlib import Path

import numpy as np

import geopandas as gpd
import shapely

from geogrid.spatial.cells import cell_graph
from geogrid.spatial.crs import STORAGE_CRS, local_crs
from geogrid.spatial.proposals import propose_grids

DATA = Path(__file__).resolve().parents[1] / "data" / "boundaries"
BAND = (300, 500)
TARGET = (BAND[0] + BAND[1]) / 2
BLOCK_M = (120.0, 90.0)
STREET_M = 12.0


# --- baseline -------------------------------------------------------------------------


def kmeans(xy: np.ndarray, k: int, seed: int, rounds: int = 300) -> np.ndarray:
    """Plain k-means: k-means++ start, then Lloyd rounds until nothing moves."""
    rng = np.random.default_rng(seed)
    centres = [xy[rng.integers(len(xy))]]
    nearest = ((xy - centres[0]) ** 2).sum(1)
    for _ in range(k - 1):
        pick = rng.choice(len(xy), p=nearest / nearest.sum())
        centres.append(xy[pick])
        nearest = np.minimum(nearest, ((xy - xy[pick]) ** 2).sum(1))
    centres = np.array(centres)
    label = np.full(len(xy), -1)
    for _ in range(rounds):
        fresh = ((xy[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)
        if (fresh == label).all():
            break
        label = fresh
        for axis in (0, 1):
            total = np.bincount(label, xy[:, axis], k)
            count = np.bincount(label, minlength=k)
            centres[:, axis] = np.where(
                count > 0, total / np.maximum(count, 1), centres[:, axis]
            )
    return label


def baseline(
    area: shapely.Geometry, buildings: gpd.GeoDataFrame, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """K-means grids as unions of building cells: (outlines, grid per building)."""
    footprints = np.asarray(buildings.geometry.array)
    households = buildings["households"].to_numpy()
    graph = cell_graph(area, footprints, households)
    k = max(1, round(households.sum() / TARGET))
    xy = shapely.get_coordinates(shapely.centroid(footprints))
    label = kmeans(xy, k, seed)
    # Pieces without a building (cut off by a bend of the outline) go to the
    # cluster of the nearest building.
    node_label = np.full(len(graph.cells), -1)
    node_label[graph.node_of] = label
    empty = np.flatnonzero(node_label < 0)
    if len(empty):
        near = ((graph.xy[empty, None, :] - xy[None]) ** 2).sum(-1).argmin(1)
        node_label[empty] = label[near]
    outlines = np.array(
        [shapely.union_all(graph.cells[node_label == r]) for r in range(k)],
        dtype=object,
    )
    return outlines, label


# --- measures -------------------------------------------------------------------------


def measure(
    outlines: np.ndarray,
    grid_of: np.ndarray,
    buildings: gpd.GeoDataFrame,
    lanes: np.ndarray,
) -> dict[str, float]:
    households = np.bincount(grid_of, buildings["households"].to_numpy(), len(outlines))
    inside = (households >= BAND[0]) & (households <= BAND[1])
    pp = 4 * math.pi * shapely.area(outlines) / shapely.length(outlines) ** 2
    pieces = np.array([len(shapely.get_parts(g)) for g in outlines])
    footprints = np.asarray(buildings.geometry.array)
    cut = ~shapely.within(shapely.buffer(footprints, -0.01), outlines[grid_of])
    return {
        "grids": len(outlines),
        "max_dev": float(np.abs(households - TARGET).max() / TARGET),
        "in_band": float(inside.mean()),
        "pp": float(pp.mean()),
        "pieces": int((pieces > 1).sum()),
        "split": int(cut.sum()),
        "lanes_cut": lanes_cut(lanes, outlines),
    }


def lanes_cut(lanes: np.ndarray, outlines: np.ndarray) -> int:
    """Lanes with >= 1 m inside the interiors of two or more grids."""
    if len(lanes) == 0:
        return 0
    cores = shapely.buffer(outlines, -0.5)
    lane, grid = shapely.STRtree(cores).query(lanes, predicate="intersects")
    length = shapely.length(shapely.intersection(lanes[lane], cores[grid]))
    lane = lane[length >= 1.0]
    return int((np.bincount(lane, minlength=len(lanes)) >= 2).sum())


def header() -> None:
    print(
        f"{'case':<26}{'method':<11}{'grids':>6}{'maxdev':>8}{'inband':>8}"
        f"{'meanPP':>8}{'pieces':>7}{'split':>6}{'lanecut':>8}{'s':>7}"
    )


def row(
    case: str, method: str, m: dict[str, float], seconds: float, note: str = ""
) -> None:
    print(
        f"{case:<26}{method:<11}{m['grids']:>6}{m['max_dev']:>8.3f}{m['in_band']:>8.0%}"
        f"{m['pp']:>8.3f}{m['pieces']:>7}{m['split']:>6}{m['lanes_cut']:>8}"
        f"{seconds:>7.2f}  {note}".rstrip()
    )


def verdict(ours: dict[str, float], base: dict[str, float]) -> str:
    hit = ours["in_band"] == 1.0 and ours["pieces"] == 0 and ours["pp"] > base["pp"]
    return "PASS" if hit else "MISS"


def compare(
    case: str,
    area_4326: shapely.Geometry,
    buildings: gpd.GeoDataFrame,
    lanes: gpd.GeoSeries,
    seed: int,
    existing: gpd.GeoDataFrame | None = None,
) -> tuple[dict[str, float], dict[str, float]]:
    crs = local_crs(gpd.GeoSeries([area_4326], crs=STORAGE_CRS))
    metric = buildings.to_crs(crs).sort_values("code", ignore_index=True)
    area = gpd.GeoSeries([area_4326], crs=STORAGE_CRS).to_crs(crs).iloc[0]
    lines = np.asarray(lanes.to_crs(crs).array)
    start = time.perf_counter()
    proposal = propose_grids(area_4326, buildings, band=BAND, lanes=lanes, seed=seed)
    ours_s = time.perf_counter() - start
    grids = proposal.grids.to_crs(crs)
    position = {c: i for i, c in enumerate(grids["code"])}
    grid_of = np.array([position[proposal.assignment[c]] for c in metric["code"]])
    ours = measure(np.asarray(grids.geometry.array), grid_of, metric, lines)
    start = time.perf_counter()
    outlines, label = baseline(area, metric, seed)
    base_s = time.perf_counter() - start
    base = measure(outlines, label, metric, lines)
    row(case, "proposal", ours, ours_s, verdict(ours, base))
    row("", "k-means", base, base_s)
    if existing is not None:
        start = time.perf_counter()
        keep = propose_grids(
            area_4326, buildings, band=BAND, lanes=lanes, existing=existing, seed=seed
        )
        keep_s = time.perf_counter() - start
        grids = keep.grids.to_crs(crs)
        position = {c: i for i, c in enumerate(grids["code"])}
        grid_of = np.array([position[keep.assignment[c]] for c in metric["code"]])
        kept = int(keep.grids["kept"].sum())
        m = measure(np.asarray(grids.geometry.array), grid_of, metric, lines)
        row("", "+existing", m, keep_s, f"kept {kept}/{len(existing)}")
    for line in proposal.problems:
        print(f"  problem: {line}")
    return ours, base


# --- the sample county -----------------------------------------------------------------


def county(seed: int) -> list[tuple[dict[str, float], dict[str, float]]]:
    communities = gpd.read_file(DATA / "community.geojson")
    buildings = gpd.read_file(DATA / "buildings.geojson")
    lanes = gpd.read_file(DATA / "lanes.geojson").geometry
    grids = gpd.read_file(DATA / "grid.geojson")
    inner = buildings.geometry.representative_point()
    print(
        f"\nSample county: {len(communities)} communities, {len(buildings):,} buildings"
    )
    results = []
    for code, name, outline in communities[["code", "name", "geometry"]].itertuples(
        index=False
    ):
        mine = buildings[inner.within(outline)]
        total = int(mine["households"].sum())
        fits = f"{-(-total // BAND[1])}-{total // BAND[0]}"
        case = f"{code[-3:]} {name} {total} ({fits})"
        results.append(
            compare(
                case, outline, mine, lanes, seed, grids[grids["parent_code"] == code]
            )
        )
    return results


# --- the generated community ------------------------------------------------------------


def generated_community(
    n: int, roads: int, seed: int
) -> tuple[shapely.Geometry, gpd.GeoDataFrame, gpd.GeoSeries]:
    """Blocks of houses and flats filled from the centre out until n buildings."""
    rng = np.random.default_rng(seed)
    side = math.ceil(math.sqrt(n / 20)) + 2
    pitch = np.array(BLOCK_M) + STREET_M
    ij = np.array([(i, j) for i in range(side) for j in range(side)], dtype=float)
    corner = (ij - side / 2) * pitch
    centre = corner + np.array(BLOCK_M) / 2
    order = np.argsort(np.hypot(*centre.T) * rng.uniform(0.9, 1.1, len(centre)))
    footprints, households, used = [], [], []
    for b in order:
        if len(footprints) >= n:
            break
        used.append(b)
        x0, y0 = corner[b]
        if rng.random() < 0.3:  # flats: two rows of three slabs
            for row_y in (12.0, 55.0):
                for col_x in (6.0, 44.0, 82.0):
                    w, h = rng.uniform(28, 34), rng.uniform(12, 15)
                    footprints.append(
                        shapely.box(
                            x0 + col_x, y0 + row_y, x0 + col_x + w, y0 + row_y + h
                        )
                    )
                    households.append(int(rng.integers(12, 61)))
        else:  # houses: four rows of eight
            for row_y in (4.0, 26.0, 48.0, 70.0):
                for col_x in np.arange(4.0, 116.0, 14.5):
                    if rng.random() < 0.1:
                        continue
                    w, h = rng.uniform(9, 12), rng.uniform(9, 14)
                    dx, dy = rng.uniform(-1, 1, 2)
                    footprints.append(
                        shapely.box(
                            x0 + col_x + dx,
                            y0 + row_y + dy,
                            x0 + col_x + dx + w,
                            y0 + row_y + dy + h,
                        )
                    )
                    households.append(int(rng.integers(1, 7)))
    footprints, households = footprints[:n], households[:n]
    # Each block with half the street around it; corners that only touch
    # are bridged, and streets enclosed by blocks belong to the community.
    half = STREET_M / 2
    cells = [
        shapely.box(*(corner[b] - half), *(corner[b] + BLOCK_M + half)) for b in used
    ]
    outline = shapely.union_all(cells).buffer(0.5, join_style="mitre")
    outline = shapely.Polygon(
        max(shapely.get_parts(outline), key=lambda p: p.area).exterior
    )
    # Roads along streets in the middle half of the community, through it.
    x0, y0, x1, y1 = outline.bounds
    lines = []
    for r in range(roads):
        axis = r % 2  # 0: a north-south road at some x; 1: east-west at some y
        low, high = (x0, x1) if axis == 0 else (y0, y1)
        streets = (np.arange(-side, side) * pitch[axis]) - half
        middle = streets[
            (streets > low + (high - low) / 4) & (streets < high - (high - low) / 4)
        ]
        at = float(rng.choice(middle))
        ends = (
            [(at, y0 - 50), (at, y1 + 50)]
            if axis == 0
            else [(x0 - 50, at), (x1 + 50, at)]
        )
        lines.append(shapely.LineString(ends))
    crs = local_crs(gpd.GeoSeries.from_xy([116.4], [39.9], crs=STORAGE_CRS))
    origin = gpd.GeoSeries.from_xy([116.4], [39.9], crs=STORAGE_CRS).to_crs(crs).iloc[0]
    shift = np.array([origin.x, origin.y])

    def move(geoms: object) -> object:
        return shapely.transform(geoms, lambda xy: xy + shift)

    buildings = gpd.GeoDataFrame(
        {
            "code": [f"G-B{i:05d}" for i in range(len(footprints))],
            "households": households,
        },
        geometry=move(np.array(footprints, dtype=object)),
        crs=crs,
    ).to_crs(STORAGE_CRS)
    area = gpd.GeoSeries([move(outline)], crs=crs).to_crs(STORAGE_CRS).iloc[0]
    lanes = gpd.GeoSeries(move(np.array(lines, dtype=object)), crs=crs).to_crs(
        STORAGE_CRS
    )
    return area, buildings, lanes


def generated(args: argparse.Namespace) -> tuple[dict[str, float], dict[str, float]]:
    area, buildings, lanes = generated_community(args.buildings, args.roads, args.seed)
    total = int(buildings["households"].sum())
    print(
        f"\nGenerated community: {len(buildings):,} buildings, {total:,} households "
        f"({-(-total // BAND[1])}-{total // BAND[0]} grids fit), {len(lanes)} roads"
    )
    return compare(f"generated {len(buildings)}", area, buildings, lanes, args.seed)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--buildings", type=int, default=5_000)
    parser.add_argument("--roads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-county", action="store_true")
    parser.add_argument("--skip-generated", action="store_true")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; band {BAND[0]}-{BAND[1]}, seconds are one run")
    header()
    results = []
    if not args.skip_county:
        results += county(args.seed)
    if not args.skip_generated:
        header()
        results.append(generated(args))
    if results:
        passed = sum(verdict(o, b) == "PASS" for o, b in results)
        ours_pp = np.mean([o["pp"] for o, _ in results])
        base_pp = np.mean([b["pp"] for _, b in results])
        print(
            f"\n{passed}/{len(results)} cases PASS; mean Polsby-Popper over cases "
            f"{ours_pp:.3f} (proposal) vs {base_pp:.3f} (k-means)"
        )


if __name__ == "__main__":
    main()
