"""Areas of the sample county: street outline, communities (社区) and grids (网格).

Communities are Voronoi cells of hand-placed seeds clipped to an irregular
outline; grids are Lloyd-relaxed Voronoi cells inside each community. The
seeded gap and overlap are drawn here, on one shared edge each.
"""

from collections import defaultdict
from typing import Any

import numpy as np
from sample_model import (
    COMMUNITIES,
    COMMUNITY_MAX,
    GAP_M,
    OVERLAP_M,
    OVERLOAD_BAND,
    STREET_CODE,
    TOTAL_GRIDS,
    County,
    Grid,
)

import shapely
from shapely.geometry import LineString, MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry


def build_areas(rng: np.random.Generator) -> County:
    """Draw the street, its communities and grids, with the seeded gap and overlap.

    Args:
        rng: the only source of randomness.

    Returns:
        A county holding areas in metres east/north of the centre, each grid
        with its household target; buildings come later.
    """
    county = _areas(_outline(rng), rng)
    _assign_targets(county, rng)
    return county


def _outline(rng: np.random.Generator) -> Polygon:
    n = 40
    theta = np.linspace(0, 2 * np.pi, n, endpoint=False)
    wobble = np.ones(n)
    for k in (2, 3, 5):
        wobble += rng.uniform(0.02, 0.05) * np.cos(
            k * theta + rng.uniform(0, 2 * np.pi)
        )
    x = 2050 * wobble * np.cos(theta)
    y = 1550 * wobble * np.sin(theta)
    # The south edge follows the river bank, which the town does not cross.
    river = -1250 + 90 * np.sin(x / 650)
    y = np.maximum(y, river)
    return Polygon(np.column_stack([x, y]))


def _voronoi(points: np.ndarray, clip: Polygon) -> list[BaseGeometry]:
    cells = shapely.voronoi_polygons(
        MultiPoint(points), extend_to=clip.buffer(2000), ordered=True
    )
    return [c.intersection(clip) for c in shapely.get_parts(cells)]


def _grid_seeds(poly: Polygon, n: int, rng: np.random.Generator) -> np.ndarray:
    x0, y0, x1, y1 = poly.bounds
    pts: list[tuple[float, float]] = []
    while len(pts) < n:
        p = (rng.uniform(x0, x1), rng.uniform(y0, y1))
        if poly.contains(Point(p)):
            pts.append(p)
    seeds = np.array(pts)
    # Lloyd relaxation: compact cells like real grids, drawn along blocks.
    for _ in range(8):
        cells = _voronoi(seeds, poly)
        seeds = np.array([[c.centroid.x, c.centroid.y] for c in cells])
    return seeds


def _grid_counts(cells: list[BaseGeometry]) -> list[int]:
    areas = np.array([c.area for c in cells])
    raw = TOTAL_GRIDS * areas / areas.sum()
    counts = np.clip(np.round(raw), 5, 7).astype(int)
    while counts.sum() != TOTAL_GRIDS:
        step = 1 if counts.sum() < TOTAL_GRIDS else -1
        room = (counts + step >= 5) & (counts + step <= 7)
        pick = np.argmax(np.where(room, (raw - counts) * step, -np.inf))
        counts[pick] += step
    return counts.tolist()


def _areas(outline: Polygon, rng: np.random.Generator) -> County:
    seeds = np.array([c.seed_m for c in COMMUNITIES]) + rng.uniform(-60, 60, (8, 2))
    comm_cells = _voronoi(seeds, outline)
    counts = _grid_counts(comm_cells)
    cells: list[tuple[int, Polygon]] = []
    for ci, (poly, n) in enumerate(zip(comm_cells, counts, strict=True)):
        grid_cells = _voronoi(_grid_seeds(poly, n, rng), poly)
        cells += [(ci, _single(g)) for g in grid_cells]
    gap, overlap = _pick_defect_edges(cells, rng)
    return _node_areas(outline, cells, gap, overlap)


def _single(geom: BaseGeometry) -> Polygon:
    if not isinstance(geom, Polygon):
        raise TypeError(f"expected one polygon, got {geom.geom_type}")
    return geom


def _shared_edge(a: Polygon, b: Polygon) -> LineString | None:
    touch = shapely.line_merge(b.boundary.intersection(a.boundary))
    parts = [p for p in shapely.get_parts(touch) if isinstance(p, LineString)]
    if not parts:
        return None
    edge = max(parts, key=lambda p: p.length)
    chord = LineString([edge.coords[0], edge.coords[-1]])
    return chord if edge.hausdorff_distance(chord) < 0.05 else None


def _edge_rect(edge: LineString, into: Polygon, size: tuple[float, float]) -> Polygon:
    length, depth = size
    p, q = np.array(edge.coords[0]), np.array(edge.coords[-1])
    u = (q - p) / np.linalg.norm(q - p)
    n = np.array([-u[1], u[0]])
    mid = (p + q) / 2
    if not into.contains(Point(mid + n)):
        n = -n
    s1, s2 = mid - u * length / 2, mid + u * length / 2
    return Polygon([s1, s2, s2 + n * depth, s1 + n * depth])


def _pick_defect_edges(
    cells: list[tuple[int, Polygon]], rng: np.random.Generator
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Choose where the seeded gap and overlap go, in two different communities."""
    picked: list[dict[str, Any]] = []
    order = [int(i) for i in rng.permutation(len(COMMUNITIES))]
    for size in (GAP_M, OVERLAP_M):
        for ci in order:
            if any(d["community"] == ci for d in picked):
                continue
            found = _defect_edge_in(cells, ci, size, rng)
            if found:
                picked.append(found)
                break
        else:
            raise RuntimeError("no grid edge is long enough for a seeded defect")
    return picked[0], picked[1]


def _defect_edge_in(
    cells: list[tuple[int, Polygon]],
    ci: int,
    size: tuple[float, float],
    rng: np.random.Generator,
) -> dict[str, Any] | None:
    members = [i for i, (c, _) in enumerate(cells) if c == ci]
    pairs = [(i, j) for i in members for j in members if i != j]
    for k in rng.permutation(len(pairs)):
        i, j = pairs[k]  # the defect sits inside cell j, against cell i
        a, b = cells[i][1], cells[j][1]
        edge = _shared_edge(a, b)
        if edge is None or edge.length < size[0] + 100:
            continue
        rect = _edge_rect(edge, b, size)
        if rect.buffer(10).difference(a.union(b)).area < 1e-6:
            return {"community": ci, "cells": (i, j), "rect": rect}
    return None


def _node_areas(
    outline: Polygon,
    cells: list[tuple[int, Polygon]],
    gap: dict[str, Any],
    overlap: dict[str, Any],
) -> County:
    """Rebuild every area from one noded linework so shared edges are identical.

    Each grid cell was clipped separately, so neighbours may disagree in the
    last bits of a vertex; snap-rounding all edges together at 1 mm and
    polygonizing gives faces that share exactly the same vertices, and every
    coarser level is a coverage union of those faces.
    """
    lines = [c.boundary for _, c in cells] + [gap["rect"].boundary]
    lines.append(overlap["rect"].boundary)
    noded = shapely.union_all(lines, grid_size=0.001)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    owner: dict[int, list[Polygon]] = defaultdict(list)
    special: dict[str, Polygon] = {}
    for face in faces:
        inside = face.point_on_surface()
        if gap["rect"].contains(inside):
            special["gap"] = face
        elif overlap["rect"].contains(inside):
            special["overlap"] = face
        else:
            owner[
                next(i for i, (_, c) in enumerate(cells) if c.contains(inside))
            ].append(face)
    if len(faces) != len(cells) + 2 or any(len(v) != 1 for v in owner.values()):
        raise RuntimeError("noding split a grid into several faces")
    geoms = {i: owner[i][0] for i in range(len(cells))}
    p, q = overlap["cells"]
    geoms[p] = _single(shapely.coverage_union_all([geoms[p], special["overlap"]]))
    geoms[q] = _single(shapely.coverage_union_all([geoms[q], special["overlap"]]))
    comm_faces: dict[int, list[Polygon]] = defaultdict(list)
    for i, (ci, _) in enumerate(cells):
        comm_faces[ci].append(owner[i][0])
    comm_faces[gap["community"]].append(special["gap"])
    comm_faces[overlap["community"]].append(special["overlap"])
    communities = [
        _single(shapely.coverage_union_all(comm_faces[ci]))
        for ci in range(len(COMMUNITIES))
    ]
    street = _single(shapely.coverage_union_all(communities))
    if abs(street.area - outline.area) > 1.0:
        raise RuntimeError("the grids do not cover the street outline")
    comm_codes = [f"{STREET_CODE[:9]}{ci + 1:03d}" for ci in range(len(COMMUNITIES))]
    grids, cell_grid = _number_grids(cells, geoms, comm_codes)
    gap_info = {
        "community": comm_codes[gap["community"]],
        "grids": [cell_grid[gap["cells"][1]], cell_grid[gap["cells"][0]]],
        "geom": special["gap"],
        "area_m2": special["gap"].area,
    }
    overlap_info = {
        "community": comm_codes[overlap["community"]],
        "grids": [cell_grid[overlap["cells"][0]], cell_grid[overlap["cells"][1]]],
        "geom": special["overlap"],
        "area_m2": special["overlap"].area,
    }
    return County(street, communities, comm_codes, grids, gap_info, overlap_info)


def _number_grids(
    cells: list[tuple[int, Polygon]], geoms: dict[int, Polygon], comm_codes: list[str]
) -> tuple[list[Grid], dict[int, str]]:
    """Number grids west to east in 400 m rows from the north of each community."""
    grids: list[Grid] = []
    cell_grid: dict[int, str] = {}
    for ci, spec in enumerate(COMMUNITIES):
        members = [i for i, (c, _) in enumerate(cells) if c == ci]
        top = max(cells[i][1].bounds[3] for i in members)

        def key(i: int) -> tuple[int, float]:
            p = cells[i][1].centroid
            return int((top - p.y) // 400), p.x  # noqa: B023

        for k, i in enumerate(sorted(members, key=key), start=1):
            code = f"{comm_codes[ci]}{k:03d}"
            grids.append(Grid(code, f"{spec.name}第{k}网格", ci, geoms[i]))
            cell_grid[i] = code
    return grids, cell_grid


def _assign_targets(county: County, rng: np.random.Generator) -> None:
    """Give each grid a household target in band, and one grid too many households."""
    defect_comms = {county.gap["community"], county.overlap["community"]}
    counts = defaultdict(int)
    for g in county.grids:
        counts[g.community] += 1
    candidates = [
        g
        for g in county.grids
        if counts[g.community] <= 6
        and county.community_codes[g.community] not in defect_comms
    ]
    overloaded = candidates[int(rng.integers(len(candidates)))]
    for g in county.grids:
        high = min(460, (COMMUNITY_MAX - 60) // counts[g.community] - 2)
        g.target = int(rng.integers(365, high + 1))
    overloaded.target = int(rng.integers(OVERLOAD_BAND[0] + 30, OVERLOAD_BAND[1] - 30))
    county.overloaded = overloaded.code
