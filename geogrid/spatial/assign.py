"""Assignment engine (归属计算): buildings to grids, addresses to both.

All frames share ONE projected metric CRS (the caller converts, e.g. to
:func:`geogrid.spatial.crs.local_crs`). Work is vectorised (STRtree, numpy) and
ties go by code, never input order, so a feature's result is the same computed
alone or with the whole city: that makes :func:`affected` exact.
"""

from enum import StrEnum

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from geogrid.errors import InvalidInput
from geogrid.spatial.inputs import BUILDING, POINT, POLYGONAL, check_frame

_EDGE_BLOCK = 1 << 20  # point-edge tests per step of _covers_xy: bounds memory
_Array = np.ndarray


class BuildingRule(StrEnum):
    """How a building picks its grid (楼栋归属规则)."""

    POINT_ON_SURFACE = "point_on_surface"  # the grid holding its inner point
    LARGEST_SHARE = "largest_share"  # the grid holding most of its area


class AddressReason(StrEnum):
    """Why an address got its grid (地址归属依据)."""

    IN_BUILDING = "in_building"  # inside, or on the outline of, a building
    NEAR_BUILDING = "near_building"  # the nearest building is within tolerance
    IN_GRID = "in_grid"  # no building placed it; the point is inside a grid
    OUTSIDE = "outside"  # in no grid, and no building placed it in one
    AMBIGUOUS = "ambiguous"  # candidates in different grids, the point in none
    NO_GEOMETRY = "no_geometry"  # the address has no point


_REASONS = np.array([str(r) for r in AddressReason], dtype=object)
_IN_BUILDING, _NEAR, _IN_GRID, _OUTSIDE, _AMBIGUOUS, _NO_GEOMETRY = range(6)


def _check_crs(*frames: gpd.GeoDataFrame) -> None:
    """Refuse frames in different CRSs or in degrees: shares need metres."""
    crss = [f.crs for f in frames if f.crs is not None]
    if any(not c.is_projected or not c.equals(crss[0]) for c in crss):
        names = ", ".join(sorted({c.to_string() for c in crss}))
        raise InvalidInput("value_invalid", field="crs", value=names)


def _best(group: _Array, item: _Array, codes: _Array, *keys: _Array) -> _Array:
    """Positions of the best row per group: smallest keys in turn, then lowest code.

    Rows are (group, item) pairs, ``codes[item]`` the last key. No sort: each key
    keeps the rows at their group's minimum, skipping groups of one row.
    """
    shared = np.bincount(group)[group] > 1
    rows = np.flatnonzero(shared)
    low = np.empty(int(group.max()) + 1 if len(group) else 0)
    for key in (*keys, None):  # one to three keys, not features
        if key is None:  # the codes, ranked only for rows still tied
            key = np.zeros(len(group))
            key[rows] = pd.factorize(codes[item[rows]], sort=True)[0]
        low[:] = np.inf
        np.minimum.at(low, group[rows], key[rows])
        rows = rows[key[rows] == low[group[rows]]]
    rows = rows[np.unique(group[rows], return_index=True)[1]]  # equal codes: first
    return np.concatenate([np.flatnonzero(~shared), rows])


def _disagree(group: _Array, value: _Array, n: int) -> _Array:
    """Per group 0..n-1, whether its rows hold more than one value."""
    tied = np.bincount(group, minlength=n)[group] > 1
    low, high = np.full(n, np.iinfo(np.int64).max), np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(low, group[tied], value[tied])
    np.maximum.at(high, group[tied], value[tied])
    return high > low


def _take(values: _Array, positions: _Array) -> _Array:
    """``values[positions]`` as objects, None where a position is -1."""
    out = np.full(len(positions), None, dtype=object)
    out[positions >= 0] = values[positions[positions >= 0]]
    return out


def _frame(index: pd.Index, **columns: _Array) -> pd.DataFrame:
    """A result frame; object arrays stay object, so a missing code is None, not NaN."""
    series = {k: pd.Series(v, dtype=v.dtype) for k, v in columns.items()}
    return pd.DataFrame(series, copy=False).set_axis(index)


def _lowest_grid(points: _Array, cells: _Array, codes: _Array) -> _Array:
    """Per point, the covering grid with the lowest code, or -1."""
    # A point on a shared edge is covered by both: it goes to one, always the same.
    found = np.full(len(points), -1)
    pi, gj = shapely.STRtree(cells).query(points, predicate="intersects")
    best = _best(pi, gj, codes)
    found[pi[best]] = gj[best]
    return found


def assign_buildings(
    buildings: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    *,
    rule: BuildingRule,
    split_share: float = 0.10,
) -> pd.DataFrame:
    """Assign each building to one grid (楼栋归属网格), listing split buildings.

    Args:
        buildings: Columns ``code``, polygon ``geometry`` (None/empty: no grid).
        grids: Columns ``code``, polygon ``geometry``, in the projected metric
            CRS of ``buildings``; they may overlap or leave gaps.
        rule: ``POINT_ON_SURFACE``: the grid holding the building's
            :func:`shapely.point_on_surface`; a point exactly on a shared edge
            goes to the LOWEST code of the grids it touches, so to exactly one.
            ``LARGEST_SHARE``: the largest intersection area, ties to the lowest
            code.
        split_share: A second grid is listed when it holds MORE than this share.

    Returns:
        One row per building, index ``buildings.index``: ``code``,
        ``grid_code`` (None when in no grid), ``grid_share`` (share of the
        building's area in it, 0 when none), ``split_grid_code`` (the other grid
        with the largest share, ties to the lowest code, when that share exceeds
        ``split_share``, else None) and ``split_share`` (that share, else 0).

    Raises:
        InvalidInput: An unusable frame (missing column or code, wrong geometry
            type), rule or share, or frames in two CRSs or in degrees.

    Examples:
        >>> from shapely import box
        >>> grids = gpd.GeoDataFrame({"code": ["G1", "G2"]},
        ...     geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)])
        >>> blds = gpd.GeoDataFrame({"code": ["B1", "B2", "B3"]},
        ...     geometry=[box(1, 1, 3, 3), box(8, 1, 11, 2), box(30, 0, 31, 1)])
        >>> assign_buildings(blds, grids, rule=BuildingRule.LARGEST_SHARE)
          code grid_code  grid_share split_grid_code  split_share
        0   B1        G1    1.000000            None     0.000000
        1   B2        G1    0.666667              G2     0.333333
        2   B3      None    0.000000            None     0.000000
    """
    if rule not in list(BuildingRule):
        raise InvalidInput("value_invalid", field="rule", value=rule)
    if not 0.0 <= split_share <= 1.0:
        raise InvalidInput("value_invalid", field="split_share", value=split_share)
    _check_crs(buildings, grids)
    geoms, cells = check_frame(buildings, BUILDING), check_frame(grids, POLYGONAL)
    codes, n = grids["code"].to_numpy(dtype=object), len(geoms)
    bi, gj = shapely.STRtree(cells).query(geoms)
    # Most buildings lie well inside one grid: a cheap prepared test gives their
    # whole area and only the others pay for an overlay. Preparing caches on
    # the caller's grids, so what we add is dropped again.
    fresh = cells[~shapely.is_prepared(cells)]
    shapely.prepare(fresh)
    area, overlap = shapely.area(geoms), np.zeros(len(bi))
    inside = shapely.contains_properly(cells[gj], geoms[bi])
    overlap[inside] = area[bi[inside]]
    rest = np.flatnonzero(~inside)
    rest = rest[shapely.intersects(cells[gj[rest]], geoms[bi[rest]])]
    shapely.destroy_prepared(fresh)
    overlap[rest] = shapely.area(shapely.intersection(geoms[bi[rest]], cells[gj[rest]]))
    keep = overlap > 0
    bi, gj, overlap, inside = bi[keep], gj[keep], overlap[keep], inside[keep]
    share = np.divide(overlap, area[bi], out=np.zeros(len(bi)), where=area[bi] > 0)
    chosen = np.full(n, -1)
    best = _best(bi, gj, codes, -overlap)
    chosen[bi[best]] = gj[best]
    if rule == BuildingRule.POINT_ON_SURFACE:
        # Properly inside its only grid, a building has its point there too
        # (a grid holding that inner point would overlap it): skip those.
        simple = np.zeros(n, dtype=bool)
        simple[bi[inside & (np.bincount(bi, minlength=n)[bi] == 1)]] = True
        todo = np.flatnonzero(~simple)
        chosen[todo] = _lowest_grid(shapely.point_on_surface(geoms[todo]), cells, codes)
    own = gj == chosen[bi]
    grid_share = np.zeros(n)
    grid_share[bi[own]] = share[own]
    # The split grid is the best of the others, as LARGEST_SHARE ranks them.
    others = np.flatnonzero(~own)
    second = others[_best(bi[others], gj[others], codes, -overlap[others])]
    second = second[share[second] > split_share]
    split, split_value = np.full(n, -1), np.zeros(n)
    split[bi[second]], split_value[bi[second]] = gj[second], share[second]
    return _frame(
        buildings.index,
        code=buildings["code"].to_numpy(),
        grid_code=_take(codes, chosen),
        grid_share=grid_share,
        split_grid_code=_take(codes, split),
        split_share=split_value,
    )


def _covers_xy(geoms: _Array, gj: _Array, x: _Array, y: _Array) -> _Array:
    """Whether polygon ``geoms[gj[k]]`` covers point ``(x[k], y[k])``, for every k.

    A crossing-number test in numpy: a GEOS call per pair costs ~1 µs, more than
    the rest for a million addresses. Coordinates relative to the point are exact
    for nearby doubles, so a point on an edge has a zero turn and is covered.
    """
    used = np.zeros(len(geoms), dtype=bool)
    used[gj] = True
    gj = (np.cumsum(used) - 1)[gj]  # renumbered into the used geometries
    geoms, owner = geoms[used], np.arange(used.sum())
    # Split multipolygons and holes only when there are any: both copy.
    if (shapely.get_type_id(geoms) == 6).any():
        geoms, part = shapely.get_parts(geoms, return_index=True)
        owner = owner[part]
    if shapely.get_num_interior_rings(geoms).any():
        geoms, part = shapely.get_rings(geoms, return_index=True)
        owner = owner[part]
    xy, ring = shapely.get_coordinates(geoms, return_index=True)
    same = np.flatnonzero(ring[1:] == ring[:-1])  # consecutive vertices of a ring
    x0, y0, x1, y1 = xy[same, 0], xy[same, 1], xy[same + 1, 0], xy[same + 1, 1]
    owner = owner[ring[same]]
    first = np.searchsorted(owner, np.arange(used.sum()))
    count = np.bincount(owner, minlength=used.sum())[gj]
    covered, cum = np.zeros(len(gj), dtype=bool), np.cumsum(count)
    cuts = np.searchsorted(cum, np.arange(_EDGE_BLOCK, cum[-1:].sum(), _EDGE_BLOCK))
    for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(gj)], strict=True):
        k = count[lo:hi]  # blocks of pairs, not features: a few bounded steps
        offset = np.cumsum(k) - k
        e = np.repeat(first[gj[lo:hi]] - offset, k) + np.arange(k.sum())
        px, py = np.repeat(x[lo:hi], k), np.repeat(y[lo:hi], k)
        ax, ay, bx, by = x0[e] - px, y0[e] - py, x1[e] - px, y1[e] - py
        turn = ax * by - ay * bx  # > 0: the point is left of the edge a→b
        cross = (ay > 0) != (by > 0)
        cross &= (turn > 0) == (by > ay)
        odd = np.bitwise_xor.reduceat(cross, offset) if len(k) else cross
        on = np.flatnonzero(turn == 0)
        on = on[(ax[on] * bx[on] <= 0) & (ay[on] * by[on] <= 0)]
        odd[np.searchsorted(offset, on, side="right") - 1] = True
        covered[lo:hi] = odd
    return covered


def assign_addresses(
    addresses: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    *,
    tolerance_m: float = 3.0,
) -> pd.DataFrame:
    """Assign each address to a building and a grid (地址归属楼栋与网格).

    Buildings covering the point (the smallest by area, then lowest code: an
    OSM building part beats its building) give ``IN_BUILDING``, else the nearest
    within ``tolerance_m`` (lowest code) ``NEAR_BUILDING``: the address takes the
    building's ``grid_code``. Candidates with DIFFERENT grid codes give no
    building; then the grid covering the point (shared edge: lowest code) gives
    ``IN_GRID``, none ``AMBIGUOUS``. For a building in no grid the point picks
    the grid, else ``OUTSIDE``. A far address is never forced onto a building.

    Args:
        addresses: Columns ``code``, point ``geometry`` (None/empty:
            ``NO_GEOMETRY``).
        buildings: Columns ``code``, ``grid_code`` (from
            :func:`assign_buildings`, None for no grid), polygon ``geometry``.
        grids: Columns ``code``, polygon ``geometry``; all three frames in one
            projected metric CRS.
        tolerance_m: How far, in metres, a building may be to take an address.

    Returns:
        One row per address, index ``addresses.index``: ``code``,
        ``building_code`` and ``grid_code`` (None when none), ``reason`` (an
        :class:`AddressReason` value) and ``distance_m`` (to ``building_code``:
        0 inside it, NaN without one).

    Raises:
        InvalidInput: An unusable frame (missing column or code, wrong geometry
            type), a negative tolerance, or frames in two CRSs or in degrees.

    Examples:
        >>> from shapely import Point, box
        >>> grids = gpd.GeoDataFrame({"code": ["G1", "G2"]},
        ...     geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)])
        >>> blds = gpd.GeoDataFrame({"code": ["B1"], "grid_code": ["G1"]},
        ...     geometry=[box(1, 1, 3, 3)])
        >>> addrs = gpd.GeoDataFrame({"code": ["A1", "A2", "A3", "A4", "A5"]},
        ...     geometry=[Point(2, 2), Point(5, 2), Point(12, 2), Point(30, 0), None])
        >>> assign_addresses(addrs, blds, grids)
          code building_code grid_code         reason  distance_m
        0   A1            B1        G1    in_building         0.0
        1   A2            B1        G1  near_building         2.0
        2   A3          None        G2        in_grid         NaN
        3   A4          None      None        outside         NaN
        4   A5          None      None    no_geometry         NaN
    """
    if not tolerance_m >= 0:
        raise InvalidInput("value_invalid", field="tolerance_m", value=tolerance_m)
    _check_crs(addresses, buildings, grids)
    points, cells = check_frame(addresses, POINT), check_frame(grids, POLYGONAL)
    geoms = check_frame(buildings, BUILDING, "grid_code")
    codes = buildings["code"].to_numpy(dtype=object)
    their_grid = buildings["grid_code"].to_numpy(dtype=object)
    grid_id = pd.factorize(their_grid)[0]  # None is -1: a value of its own
    n = len(points)
    xy, where = shapely.get_coordinates(points, return_index=True)
    x, y, present = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n, dtype=bool)
    x[where], y[where], present[where] = xy[:, 0], xy[:, 1], True
    tree = shapely.STRtree(geoms)
    pi, bj = tree.query(points[where])  # bounding boxes; the exact test in numpy
    pi = where[pi]
    keep = _covers_xy(geoms, bj, x[pi], y[pi])
    pi, bj = pi[keep], bj[keep]
    building, distance = np.full(n, -1), np.full(n, np.nan)
    best = _best(pi, bj, codes, shapely.area(geoms)[bj])
    building[pi[best]], distance[pi[best]] = bj[best], 0.0
    mixed = _disagree(pi, grid_id[bj], n)
    covered = np.zeros(n, dtype=bool)
    covered[pi] = True
    rest, t = np.flatnonzero(present & ~covered), tolerance_m
    if t > 0 and len(rest):
        # Boxes, then exact distances: ~10x faster than STRtree.query_nearest,
        # and ties are plain equality with the minimum.
        boxes = shapely.box(x[rest] - t, y[rest] - t, x[rest] + t, y[rest] + t)
        qi, qj = tree.query(boxes)
        qi = rest[qi]
        gap = shapely.distance(points[qi], geoms[qj])
        nearest = np.full(n, np.inf)
        np.minimum.at(nearest, qi, gap)
        keep = (gap <= t) & (gap == nearest[qi])
        qi, qj, gap = qi[keep], qj[keep], gap[keep]
        best = _best(qi, qj, codes)
        building[qi[best]], distance[qi[best]] = qj[best], gap[best]
        mixed |= _disagree(qi, grid_id[qj], n)
    building[mixed], distance[mixed] = -1, np.nan
    placed = building >= 0
    grid, has_grid = _take(their_grid, building), placed.copy()
    has_grid[placed] = grid_id[building[placed]] >= 0
    need = np.flatnonzero(present & ~has_grid)  # the point decides
    grid_codes = grids["code"].to_numpy(dtype=object)
    cell = _lowest_grid(points[need], cells, grid_codes)
    grid[need], has_grid[need] = _take(grid_codes, cell), cell >= 0
    reason = np.where(covered, _IN_BUILDING, _NEAR)
    reason[~placed] = np.where(has_grid, _IN_GRID, _OUTSIDE)[~placed]
    reason[placed & ~has_grid] = _OUTSIDE
    reason[mixed & ~has_grid] = _AMBIGUOUS
    reason[~present] = _NO_GEOMETRY
    return _frame(
        addresses.index,
        code=addresses["code"].to_numpy(),
        building_code=_take(codes, building),
        grid_code=grid,
        reason=_REASONS[reason],
        distance_m=distance,
    )


def affected(
    buildings: gpd.GeoDataFrame,
    addresses: gpd.GeoDataFrame,
    region: BaseGeometry,
    *,
    tolerance_m: float,
    address_building: pd.Series,
) -> tuple[np.ndarray, np.ndarray]:
    """Which buildings and addresses a change of grids can move (受影响范围).

    Recomputing just these against the new grids (addresses with their
    buildings' new grid codes) and merging gives exactly a full recomputation.

    Args:
        buildings: Columns ``code``, ``geometry``, as assigned.
        addresses: Columns ``code``, ``geometry``, as assigned; both frames in
            the projected metric CRS of the grids.
        region: Where grids changed: the union of the changed grids' old and
            new geometry, or its bounding box.
        tolerance_m: The tolerance the addresses were assigned with.
        address_building: Current ``building_code`` per address, by index.

    Returns:
        Boolean masks aligned to ``buildings`` and ``addresses``: buildings
        touching the region's bounding box; addresses within ``tolerance_m`` of
        that box, or of an affected building (a candidate changing grid can
        settle an address that had no building), or whose building is affected.

    Raises:
        InvalidInput: A missing column or code, or a wrong geometry type.

    Examples:
        >>> from shapely import Point, box
        >>> blds = gpd.GeoDataFrame({"code": ["B1", "B2"]},
        ...     geometry=[box(1, 1, 3, 3), box(40, 1, 42, 3)])
        >>> addrs = gpd.GeoDataFrame({"code": ["A1", "A2", "A3"]},
        ...     geometry=[Point(2, 2), Point(41, 2), Point(44, 2)])
        >>> b, a = affected(blds, addrs, box(0, 0, 10, 10), tolerance_m=3.0,
        ...     address_building=pd.Series(["B1", "B2", None]))
        >>> b.tolist(), a.tolist()
        ([True, False], [True, False, False])
    """
    geoms, points = check_frame(buildings, BUILDING), check_frame(addresses, POINT)
    xmin, ymin, xmax, ymax = shapely.bounds(region)
    box = shapely.bounds(geoms)  # NaN for None or empty: never hit
    hit = (box[:, :2] <= [xmax, ymax]).all(axis=1) & (box[:, 2:] >= [xmin, ymin]).all(1)
    xy, t = np.c_[shapely.get_x(points), shapely.get_y(points)], tolerance_m
    moved = ((xy >= [xmin - t, ymin - t]) & (xy <= [xmax + t, ymax + t])).all(axis=1)
    if not address_building.index.equals(addresses.index):
        address_building = address_building.reindex(addresses.index)
    moved |= address_building.isin(buildings["code"][hit]).to_numpy()
    if hit.any():
        reach = t + 1e-6  # a micrometre more absorbs rounding between GEOS paths
        lo, hi = box[hit, :2].min(axis=0) - reach, box[hit, 2:].max(axis=0) + reach
        near = np.flatnonzero(((xy >= lo) & (xy <= hi)).all(axis=1))
        tree = shapely.STRtree(geoms[hit])
        found = tree.query(points[near], predicate="dwithin", distance=reach)
        moved[near[found[0]]] = True
    return np.asarray(hit), moved
