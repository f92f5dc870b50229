"""Buildings (楼栋), lanes (弄巷), estates (小区) and centres of the sample county.

Each grid is laid out in rows, in a frame turned to its street pattern: rows
of flats, or lanes with a house on each side. Rows are filled in random order
until the grid reaches its household target, and neighbouring rows of flats
may be fenced into an estate.
"""

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from sample_model import (
    COMMUNITIES,
    COMMUNITY_MAX,
    DEFECT_CLEARANCE_M,
    ESTATE_NAMES,
    FILL_SLACK,
    GRID_BAND,
    LANE_NAMES,
    MARGIN_M,
    OVERLOAD_BAND,
    Building,
    CommunitySpec,
    County,
    Grid,
)

import shapely
from shapely.geometry import LineString, Point, Polygon, box
from shapely.geometry.base import BaseGeometry


@dataclass
class Strip:
    """One planned row of buildings inside a grid, in the grid's rotated frame."""

    kind: str  # "flats" or "lane"
    boxes: np.ndarray  # (n, 4) xmin ymin xmax ymax
    sides: np.ndarray  # lane houses: 0 north of the lane, 1 south
    lane_y: float = 0.0
    units: int = 1
    used: int = 0  # how many slots (a prefix) hold a building


def lay_out(county: County, rng: np.random.Generator) -> None:
    """Place buildings, lanes, estates and centres, then check the whole county.

    Args:
        county: areas with household targets, filled in place.
        rng: the only source of randomness.

    Raises:
        RuntimeError: when anything but the seeded defects would be wrong.
    """
    _lay_out_buildings(county, rng)
    _place_gap_building(county)
    _number_buildings(county, rng)
    _place_centres(county, rng)
    _check(county)


def _rotate(geom: Any, deg: float, origin: tuple[float, float]) -> Any:
    t = math.radians(deg)
    c, s = math.cos(t), math.sin(t)
    ox, oy = origin

    def turn(xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0] - ox, xy[:, 1] - oy
        return np.column_stack([ox + c * x - s * y, oy + s * x + c * y])

    return shapely.transform(geom, turn)


def _exclusion(county: County) -> BaseGeometry:
    return shapely.union(county.gap["geom"], county.overlap["geom"]).buffer(
        DEFECT_CLEARANCE_M
    )


def _lay_out_buildings(county: County, rng: np.random.Generator) -> None:
    keep_out = _exclusion(county)
    angles = rng.uniform(-18, 18, len(COMMUNITIES))
    for grid in county.grids:
        spec = COMMUNITIES[grid.community]
        angle = float(angles[grid.community] + rng.uniform(-6, 6))
        origin = (grid.geom.centroid.x, grid.geom.centroid.y)
        inner = grid.geom.buffer(-MARGIN_M, join_style="mitre").difference(keep_out)
        inner_r = _rotate(inner, -angle, origin)
        shapely.prepare(inner_r)
        strips = _plan_strips(inner_r, spec, rng)
        chosen = _fill(strips, grid.target, spec, rng)
        county.buildings += _realise(grid, strips, chosen, angle, origin, rng)
        county.lanes += _lanes(grid, strips, angle, origin, keep_out)
        county.estates += _estates(
            grid, strips, county.buildings, angle, origin, keep_out, rng
        )


def _plan_strips(
    inner: BaseGeometry, spec: CommunitySpec, rng: np.random.Generator
) -> list[Strip]:
    x0, y0, x1, y1 = inner.bounds
    y = y1 - rng.uniform(0, 8)
    strips: list[Strip] = []
    while y > y0 + 10:
        if rng.random() < spec.lane_share:
            w, h = rng.uniform(10, 13), rng.uniform(11, 13)
            xs = np.arange(x0 + rng.uniform(0, w), x1 - w, w + rng.uniform(1.5, 3))
            north = np.column_stack(
                [xs, np.full_like(xs, y - h), xs + w, np.full_like(xs, y)]
            )
            south = north - np.array([0, h + 5, 0, h + 5])
            ok = shapely.within(shapely.box(*north.T), inner) & shapely.within(
                shapely.box(*south.T), inner
            )
            run = _longest_run(ok)
            if run is not None and run[1] - run[0] >= 4:
                a, b = run
                boxes = np.stack([north[a:b], south[a:b]], axis=1).reshape(-1, 4)
                sides = np.tile([0, 1], b - a)
                strips.append(Strip("lane", boxes, sides, lane_y=y - h - 2.5))
            y -= 2 * h + 5 + rng.uniform(10, 14)
        else:
            length, depth = rng.uniform(40, 60), rng.uniform(12, 15)
            xs = np.arange(
                x0 + rng.uniform(0, 20), x1 - length, length + rng.uniform(10, 18)
            )
            boxes = np.column_stack(
                [xs, np.full_like(xs, y - depth), xs + length, np.full_like(xs, y)]
            )
            boxes = boxes[shapely.within(shapely.box(*boxes.T), inner)]
            if len(boxes):
                units = 2 if length < 50 else 3
                strips.append(
                    Strip("flats", boxes, np.zeros(len(boxes), int), units=units)
                )
            y -= depth + rng.uniform(18, 26)
    return strips


def _longest_run(ok: np.ndarray) -> tuple[int, int] | None:
    best: tuple[int, int] | None = None
    start = None
    for i, flag in enumerate([*ok.tolist(), False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if best is None or i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    return best


def _lane_households(rng: np.random.Generator) -> int:
    return int(rng.choice([1, 2, 3, 4, 6], p=[0.25, 0.25, 0.15, 0.2, 0.15]))


def _fill(
    strips: list[Strip], target: int, spec: CommunitySpec, rng: np.random.Generator
) -> list[tuple[int, int, int, int, int]]:
    """Fill slots, strip by strip in random order, up to the household target.

    Returns:
        (strip, slot, floors, units, households) for every building placed.
    """
    chosen: list[tuple[int, int, int, int, int]] = []
    remaining = target
    for si in rng.permutation(len(strips)):
        strip = strips[int(si)]
        for slot in range(len(strip.boxes)):
            if remaining < FILL_SLACK:
                return chosen
            if strip.kind == "flats":
                units = strip.units if remaining >= 4 * strip.units else 1
                floors = min(int(rng.choice(spec.floors)), remaining // (2 * units))
                if floors < 2:
                    break
                households = floors * units * 2
            else:
                units = 1
                households = min(_lane_households(rng), remaining)
                floors = max(2, math.ceil(households / (1 if households <= 3 else 2)))
            chosen.append((int(si), slot, floors, units, households))
            strip.used = slot + 1
            remaining -= households
    if remaining >= FILL_SLACK:
        raise RuntimeError(f"grid too small for {target} households")
    return chosen


def _realise(
    grid: Grid,
    strips: list[Strip],
    chosen: list[tuple[int, int, int, int, int]],
    angle: float,
    origin: tuple[float, float],
    rng: np.random.Generator,
) -> list[Building]:
    out: list[Building] = []
    for si, slot, floors, units, households in chosen:
        strip = strips[si]
        x0, y0, x1, y1 = strip.boxes[slot]
        centre = _rotate(Point((x0 + x1) / 2, (y0 + y1) / 2), angle, origin)
        jitter = (
            rng.uniform(-1.5, 1.5) if strip.kind == "flats" else rng.uniform(-0.8, 0.8)
        )
        out.append(
            Building(
                community=grid.community,
                grid=grid.code,
                cx=centre.x,
                cy=centre.y,
                angle=angle + jitter,
                length=x1 - x0,
                depth=y1 - y0,
                kind="road" if strip.kind == "flats" else "lane",
                floors=floors,
                units=units,
                households=households,
                group=f"{grid.code}-{si:02d}",
                order=(si, -y1, x0),
                side=int(strip.sides[slot]),
                residents=round(households * rng.uniform(2.3, 2.9)),
            )
        )
    return out


def _lanes(
    grid: Grid,
    strips: list[Strip],
    angle: float,
    origin: tuple[float, float],
    keep_out: BaseGeometry,
) -> list[dict[str, Any]]:
    lanes = []
    inside = grid.geom.buffer(-2)
    for si, strip in enumerate(strips):
        if strip.kind != "lane" or strip.used == 0:
            continue
        used = strip.boxes[: strip.used]
        x0, x1 = used[:, 0].min(), used[:, 2].max()
        for pad in (3.0, 0.0):
            line = _rotate(
                LineString([(x0 - pad, strip.lane_y), (x1 + pad, strip.lane_y)]),
                angle,
                origin,
            )
            if line.within(inside) and not line.intersects(keep_out):
                break
        else:
            raise RuntimeError(f"lane in {grid.code} leaves its grid")
        lanes.append(
            {"grid": grid.code, "group": f"{grid.code}-{si:02d}", "geom": line}
        )
    return lanes


def _estates(
    grid: Grid,
    strips: list[Strip],
    buildings: list[Building],
    angle: float,
    origin: tuple[float, float],
    keep_out: BaseGeometry,
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    """Fence runs of neighbouring rows of flats into estates (小区)."""
    spec = COMMUNITIES[grid.community]
    runs: list[list[int]] = [[]]
    for si, strip in enumerate(strips):
        if strip.used and strip.kind == "flats":
            runs[-1].append(si)
        elif strip.used:
            runs.append([])
    members = [b for b in buildings if b.grid == grid.code]
    estates = []
    for run in runs:
        if not run or rng.random() >= spec.estate_share:
            continue
        boxes = np.vstack([strips[si].boxes[: strips[si].used] for si in run])
        if len(boxes) < 2:
            continue
        env = box(
            boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()
        )
        fence = _rotate(env.buffer(5, join_style="mitre"), angle, origin)
        fence = fence.intersection(grid.geom.buffer(-2))
        groups = {f"{grid.code}-{si:02d}" for si in run}
        inside = [b for b in members if b.group in groups]
        others = [b.geom for b in members if b.group not in groups]
        if (
            not isinstance(fence, Polygon)
            or fence.intersects(keep_out)
            or any(fence.intersects(o) for o in others)
            or not all(fence.contains(b.geom) for b in inside)
        ):
            continue
        estates.append({"grid": grid.code, "geom": fence, "groups": groups})
    return estates


def _place_gap_building(county: County) -> None:
    gap = county.gap["geom"]
    rect = gap.minimum_rotated_rectangle
    xy = np.array(rect.exterior.coords)[:4]
    sides = [np.linalg.norm(xy[(i + 1) % 4] - xy[i]) for i in range(2)]
    long_side = int(np.argmax(sides))
    d = xy[long_side + 1] - xy[long_side]
    angle = math.degrees(math.atan2(d[1], d[0]))
    c = gap.centroid
    shrunk = county.gap["grids"][0]
    comm = next(g.community for g in county.grids if g.code == shrunk)
    b = Building(
        community=comm,
        grid="",
        cx=c.x,
        cy=c.y,
        angle=angle,
        length=36.0,
        depth=13.0,
        kind="road",
        floors=3,
        units=1,
        households=6,
        group=f"{shrunk}-gap",
        order=(99, 0.0, 0.0),
        residents=15,
    )
    if not gap.buffer(-4).contains(b.geom):
        raise RuntimeError("the gap is too narrow for its building")
    county.buildings.append(b)


def _number_buildings(county: County, rng: np.random.Generator) -> None:
    """Give codes, door-plate numbers, estate names and lane names."""
    estate_names = [ESTATE_NAMES[int(i)] for i in rng.permutation(len(ESTATE_NAMES))]
    lane_by_group = {lane["group"]: lane for lane in county.lanes}
    estate_by_group = {g: e for e in county.estates for g in e["groups"]}
    road_next: dict[tuple[str, int], int] = {}
    lane_count: dict[int, int] = defaultdict(int)
    estate_count: dict[str, int] = defaultdict(int)
    lane_names = iter(LANE_NAMES)
    gap_grid = county.gap["grids"][0]

    def sort_key(b: Building) -> tuple[Any, ...]:
        return (b.community, b.grid or gap_grid, b.order)

    county.buildings.sort(key=sort_key)
    seq: dict[int, int] = defaultdict(int)
    row_side: dict[str, tuple[str, int]] = {}
    in_estate: dict[str, int] = defaultdict(int)
    lane_numbers: dict[str, list[int]] = defaultdict(lambda: [1, 2])
    for b in county.buildings:
        spec = COMMUNITIES[b.community]
        ccode = county.community_codes[b.community]
        seq[b.community] += 1
        b.code = f"{ccode}-B{seq[b.community]:04d}"
        if b.group in lane_by_group:
            lane = lane_by_group[b.group]
            if "name" not in lane:
                lane_count[b.community] += 1
                lane["name"] = next(lane_names)
                lane["code"] = f"{ccode}-L{lane_count[b.community]:02d}"
            b.street_name, b.number = lane["name"], lane_numbers[b.group][b.side]
            lane_numbers[b.group][b.side] += 2
            continue
        if b.group not in row_side:
            road = spec.roads[len(row_side) % 2]
            row_side[b.group] = (road, len(row_side) % 4 // 2)
        road, side = row_side[b.group]
        estate = estate_by_group.get(b.group)
        if estate is not None:
            if "name" not in estate:
                estate_count[b.grid] += 1
                estate["name"] = estate_names.pop()
                estate["code"] = f"{b.grid}{estate_count[b.grid]:03d}"
                estate["gate"] = ""
                if rng.random() < 0.5:
                    estate["gate"] = f"{road}{_next_door(road_next, road, side)}号"
            b.kind, b.estate, b.estate_gate = "estate", estate["name"], estate["gate"]
            in_estate[estate["name"]] += 1
            b.number = in_estate[estate["name"]]
            b.group = estate["code"]
        else:
            b.street_name, b.number = road, _next_door(road_next, road, side)


def _next_door(counters: dict[tuple[str, int], int], road: str, side: int) -> int:
    """Next door-plate number on one side of a road: odd on one side, even on the other."""
    n = counters.get((road, side), side + 1)
    counters[(road, side)] = n + 2
    return n


NEIGHBOURHOOD_RADIUS_M = 500.0
_CN_DIGITS = "一二三四五六七八九十"


def _place_centres(county: County, rng: np.random.Generator) -> None:
    keep_out = _exclusion(county)
    footprints = shapely.union_all([b.geom.buffer(8) for b in county.buildings])
    kinds = (("社区中心", "C", 1500), ("睦邻中心", "N", 500), ("警务室", "J", 1000))
    for ci, spec in enumerate(COMMUNITIES):
        ccode = county.community_codes[ci]
        grids = [g for g in county.grids if g.community == ci]
        free = shapely.union_all([g.geom.buffer(-20) for g in grids]).difference(
            keep_out
        )
        free = free.difference(footprints)
        shapely.prepare(free)
        n_neigh = 1 + int(rng.random() < 0.5)
        for kind, letter, radius in kinds:
            for k in range(1, (n_neigh if letter == "N" else 1) + 1):
                # Drawn even for 睦邻中心, which are placed below, so that every
                # later random draw (people, phones) stays as it was.
                point = _random_point(free, rng)
                if letter == "N":
                    continue
                name = (
                    f"{spec.name}综合服务中心"
                    if letter == "C"
                    else f"城关派出所{spec.name.removesuffix('社区')}警务室"
                )
                county.centres.append(
                    {
                        "code": f"{ccode}-{letter}{k}",
                        "name": name,
                        "kind": kind,
                        "radius_m": radius,
                        "geom": point,
                    }
                )
        homes = [b for b in county.buildings if b.community == ci]
        sites = _neighbourhood_sites(free, homes)
        for k, site in enumerate(sites, start=1):
            county.centres.append(
                {
                    "code": f"{ccode}-N{k}",
                    "name": f"{spec.name}{_CN_DIGITS[k - 1]}号睦邻中心",
                    "kind": "睦邻中心",
                    "radius_m": int(NEIGHBOURHOOD_RADIUS_M),
                    "geom": site,
                }
            )
    county.centres.sort(key=lambda c: c["code"])
    _seed_service_hole(county)
    neighbourhood = [c["geom"] for c in county.centres if c["kind"] == "睦邻中心"]
    tree = shapely.STRtree(neighbourhood)
    points = [b.geom.representative_point() for b in county.buildings]
    _, distance = tree.query_nearest(points, return_distance=True, all_matches=False)
    county.service_gap = [
        b
        for b, d in zip(county.buildings, distance, strict=True)
        if d > NEIGHBOURHOOD_RADIUS_M
    ]


def _neighbourhood_sites(free: BaseGeometry, homes: list[Building]) -> list[Point]:
    """睦邻中心 sites so that every home is within 500 m (包河's 15-minute circle).

    Greedy set cover on a 60 m lattice of free land, with 30 m to spare so the
    promise survives rounding.
    """
    x0, y0, x1, y1 = free.bounds
    xs, ys = np.meshgrid(np.arange(x0, x1, 60.0), np.arange(y0, y1, 60.0))
    lattice = shapely.points(xs.ravel(), ys.ravel())
    candidates = lattice[shapely.contains(free, lattice)]
    where = np.array(
        [[p.x, p.y] for p in (b.geom.representative_point() for b in homes)]
    )
    households = np.array([b.households for b in homes])
    cx, cy = shapely.get_x(candidates), shapely.get_y(candidates)
    reach = np.hypot(
        cx[:, None] - where[None, :, 0], cy[:, None] - where[None, :, 1]
    ) <= (NEIGHBOURHOOD_RADIUS_M - 30)
    uncovered = np.ones(len(homes), dtype=bool)
    chosen: list[int] = []
    while uncovered.any():
        gain = reach[:, uncovered] @ households[uncovered]
        best = int(np.argmax(gain))
        if gain[best] == 0:
            raise RuntimeError("a home cannot be reached by any 睦邻中心 site")
        chosen.append(best)
        uncovered &= ~reach[best]
    return [candidates[i] for i in chosen]


def _seed_service_hole(county: County) -> None:
    """Drop one 睦邻中心 so that some homes are clearly (over 520 m) beyond every one.

    The seeded service-radius defect: the site chosen is the one whose removal
    uncovers the fewest households while leaving no home within 20 m of the
    500 m line, so the check's answer cannot hinge on rounding.
    """
    sites = [c for c in county.centres if c["kind"] == "睦邻中心"]
    homes = np.array(
        [[p.x, p.y] for p in (b.geom.representative_point() for b in county.buildings)]
    )
    households = np.array([b.households for b in county.buildings])
    best: tuple[int, int] | None = None
    for k in range(len(sites)):
        rest = [c["geom"] for j, c in enumerate(sites) if j != k]
        sx, sy = shapely.get_x(rest), shapely.get_y(rest)
        nearest = np.hypot(
            sx[:, None] - homes[None, :, 0], sy[:, None] - homes[None, :, 1]
        ).min(axis=0)
        left = nearest > NEIGHBOURHOOD_RADIUS_M
        borderline = np.abs(nearest - NEIGHBOURHOOD_RADIUS_M) <= 20
        if left.any() and not borderline.any():
            lost = int(households[left].sum())
            if best is None or lost < best[0]:
                best = (lost, k)
    if best is None:
        raise RuntimeError("no 睦邻中心 can be dropped to seed a clear service hole")
    county.centres.remove(sites[best[1]])


def _random_point(region: BaseGeometry, rng: np.random.Generator) -> Point:
    x0, y0, x1, y1 = region.bounds
    while True:
        p = Point(rng.uniform(x0, x1), rng.uniform(y0, y1))
        if region.contains(p):
            return p


def _check(county: County) -> None:
    """Assert the promises of the sample: only the seeded defects exist."""
    geoms = [b.geom for b in county.buildings]
    tree = shapely.STRtree(geoms)
    hits = tree.query(geoms, predicate="intersects")
    if (hits[0] != hits[1]).any():
        raise RuntimeError("buildings overlap")
    keep_out = _exclusion(county)
    grid_geom = {g.code: g.geom for g in county.grids}
    households: dict[str, int] = defaultdict(int)
    for b in county.buildings:
        if not b.grid:
            continue
        if not grid_geom[b.grid].buffer(-2).contains(b.geom) or b.geom.intersects(
            keep_out
        ):
            raise RuntimeError(f"building of {b.grid} is not well inside it")
        households[b.grid] += b.households
    for g in county.grids:
        low, high = OVERLOAD_BAND if g.code == county.overloaded else GRID_BAND
        if not low <= households[g.code] <= high:
            raise RuntimeError(f"{g.code} has {households[g.code]} households")
    per_comm: dict[int, int] = defaultdict(int)
    for b in county.buildings:
        per_comm[b.community] += b.households
    if max(per_comm.values()) >= COMMUNITY_MAX:
        raise RuntimeError("a community has too many households")
    for e in county.estates:
        if "name" not in e:
            raise RuntimeError("an estate has no buildings")
