"""Coverage engine (覆盖检查): gaps, slivers, overlaps and edges of sibling areas.

"全覆盖、无死角": the children of every parent area (the grids of a community,
the communities of a street…) should tile it with no gap, no overlap, nothing
outside it and edges that match. Results are findings frames with the columns
of :data:`geogrid.domain.findings.FINDING_COLUMNS`.

All frames share ONE projected metric CRS (the caller converts, e.g. to
:func:`geogrid.spatial.crs.local_crs`): areas are m², widths and lengths m.
Work is vectorised over features (STRtree, DE-9IM, numpy); Python loops run
over parents only, for the union and the GEOS coverage validator, which take
one set of polygons per call.
"""

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from geogrid.domain.findings import RULES
from geogrid.errors import InvalidInput
from geogrid.spatial.coverage_checks import (
    lane_findings,
    service_coverage,
    service_findings,
)
from geogrid.spatial.coverage_frames import (
    code_tuples,
    empty_findings,
    findings_frame,
    object_array,
    polygonal,
    repair,
)
from geogrid.spatial.inputs import POLYGONAL, check_frame

__all__ = [
    "CoverageOptions",
    "area_findings",
    "check_areas",
    "empty_findings",
    "findings_frame",
    "lane_findings",
    "service_coverage",
    "service_findings",
]

_TOUCH_M = 0.01  # a child this close to a gap borders it: unions move edges by ~1e-9 m
_WIDTH_TOLERANCE_M = 0.01  # the finest search of maximum_inscribed_circle
_RULE_RANK = {code: rank for rank, code in enumerate(RULES)}
_Array = np.ndarray
# One rule's findings as parallel columns: rule, codes, group, measure, geometry.
_Found = tuple[_Array, list[tuple[Any, ...]], _Array, list[dict[str, Any]], _Array]
# One finding: rule, codes, parent code, measure, geometry.
_Row = tuple[str, tuple[Any, ...], Any, dict[str, Any], Any]


@dataclass(frozen=True)
class CoverageOptions:
    """Tolerances of the area checks (覆盖检查容差), in metres and square metres.

    Attributes:
        sliver_area_m2: A gap smaller than this is a ``sliver`` (digitising noise).
        sliver_width_m: ...or thinner than this, the width being the diameter
            of its maximum inscribed circle.
        min_area_m2: Gaps, overlaps and parts outside the parent below this are
            not reported at all (holes of a union are, however small).
        edge_gap_m: Edges closer than this that do not match are an
            ``edge_mismatch`` (the ``gap_width`` of the GEOS coverage validator).
        outside_tolerance_m: How far a child may reach outside its parent.
    """

    sliver_area_m2: float = 100.0
    sliver_width_m: float = 2.0
    min_area_m2: float = 1.0
    edge_gap_m: float = 0.5
    outside_tolerance_m: float = 5.0

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if (
                not (isinstance(value, int | float) and math.isfinite(value))
                or value < 0
            ):
                raise InvalidInput("value_invalid", field=field.name, value=value)


@dataclass(frozen=True)
class _Children:
    """The children of one level, repaired, with their group and code rank."""

    geoms: _Array
    codes: _Array
    group: _Array
    rank: _Array
    tree: shapely.STRtree

    def single(
        self, rule: str, idx: _Array, measure: list[dict[str, Any]], where: _Array
    ) -> _Found:
        """Findings of one child each: rule, codes, group, measure, geometry."""
        codes = [(code,) for code in self.codes[idx]]
        return np.full(len(idx), rule), codes, self.group[idx], measure, where


def _unions(geoms: _Array, group: _Array, n: int, gap: float) -> tuple[_Array, _Array]:
    """Per group its union; per child its invalid coverage edges (None: none)."""
    order = np.argsort(group, kind="stable")
    starts = np.searchsorted(group[order], np.arange(n + 1))
    unions, edges = np.empty(n, dtype=object), np.full(len(geoms), None, dtype=object)
    for g in range(n):  # parents, not features: GEOS takes one coverage per call
        members = order[starts[g] : starts[g + 1]]
        if len(members) == 1:  # an only child has nothing to match
            unions[g] = geoms[members[0]]
            continue
        # The validator is linear; a valid coverage then takes the linear
        # coverage union (10-20x faster than union_all) and reports nothing.
        own = shapely.coverage_invalid_edges(geoms[members], gap_width=gap)
        flagged = ~shapely.is_empty(own)
        edges[members[flagged]] = own[flagged]
        if flagged.any():
            unions[g] = shapely.union_all(geoms[members])
        else:
            unions[g] = shapely.coverage_union_all(geoms[members])
    return unions, edges


def _holes(unions: _Array, which: _Array) -> tuple[_Array, _Array]:
    """The holes of unions ``which`` as polygons less any island, and their group."""
    parts, owner = shapely.get_parts(unions[which], return_index=True)
    owner = which[owner]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    inner = np.zeros(len(rings), dtype=bool)  # each part's exterior comes first
    inner[1:] = ring_part[1:] == ring_part[:-1]
    holes = np.asarray(shapely.polygons(rings[inner]), dtype=object)
    group = owner[ring_part[inner]]
    # A hole may hold an island: another part of the same union inside it.
    hi, pj = shapely.STRtree(parts).query(holes, predicate="contains")
    islanded = np.unique(hi[owner[pj] == group[hi]])
    holes[islanded] = shapely.difference(holes[islanded], unions[group[islanded]])
    return holes, group


def _widths(pieces: _Array, threshold: float) -> _Array:
    """Diameters of the maximum inscribed circles, exact to 1 cm near ``threshold``."""
    # A 1 cm search costs ~50 ms on a long jagged sliver: search to 0.1 % of
    # the extent, then to 1 cm only where that could flip the sliver call.
    # The circle found is inscribed, so the true width lies in [w, w + 2 tol].
    xmin, ymin, xmax, ymax = shapely.bounds(pieces).T
    tol = np.maximum(np.maximum(xmax - xmin, ymax - ymin) / 1000, _WIDTH_TOLERANCE_M)
    width = 2 * shapely.length(shapely.maximum_inscribed_circle(pieces, tol))
    near = np.flatnonzero((width < threshold) & (width + 2 * tol >= threshold))
    circle = shapely.maximum_inscribed_circle(pieces[near], _WIDTH_TOLERANCE_M)
    width[near] = 2 * shapely.length(circle)
    return width


def _ring_crumbs(
    pieces: _Array,
    from_difference: _Array,
    owner: _Array,
    area: _Array,
    unions: _Array,
    groups: _Array,
    o: CoverageOptions,
) -> _Array:
    """Small difference pieces that are holes of the children's union.

    A difference leaves 1e-9 m² crumbs where edges match exactly, so pieces
    below ``min_area_m2`` are dropped; but a ring the data itself holds is no
    noise, however small, and is kept as it is without a parent.
    """
    small = np.flatnonzero(from_difference & (area < o.min_area_m2) & (area > 0))
    if not len(small) or not len(groups):
        return small[:0]
    rings, ring_group = _holes(unions, groups)
    pi, hj = shapely.STRtree(rings).query(
        shapely.point_on_surface(pieces[small]), predicate="within"
    )
    return small[np.unique(pi[ring_group[hj] == owner[small[pi]]])]


def _gaps(c: _Children, unions: _Array, outlines: _Array, o: CoverageOptions) -> _Found:
    """Connected gap pieces (parent minus union, or holes without a parent).

    Holes of a union are all kept (a ring in the data is never numerical
    noise); other pieces below ``min_area_m2`` are crumbs of the overlay.
    """
    has = ~(shapely.is_missing(outlines) | shapely.is_empty(outlines))
    holes, hole_group = _holes(unions, np.flatnonzero(~has))
    with_parent = np.flatnonzero(has)
    rest = shapely.difference(outlines[with_parent], unions[with_parent])
    pieces, sub = shapely.get_parts(np.r_[rest, holes], return_index=True)
    owner = np.r_[with_parent, hole_group].astype(int)[sub]
    area = shapely.area(pieces)
    keep = (area >= o.min_area_m2) | ((sub >= len(rest)) & (area > 0))
    keep[_ring_crumbs(pieces, sub < len(rest), owner, area, unions, with_parent, o)] = (
        True
    )
    pieces, owner, area = pieces[keep], owner[keep], area[keep]
    width = _widths(pieces, o.sliver_width_m)
    thin = (area < o.sliver_area_m2) | (width < o.sliver_width_m)
    pi, cj = c.tree.query(pieces, predicate="dwithin", distance=_TOUCH_M)
    pi, cj = pi[c.group[cj] == owner[pi]], cj[c.group[cj] == owner[pi]]
    codes = code_tuples(len(pieces), pi, c.codes[cj], c.rank[cj])
    measure = [{"area_m2": a, "width_m": w} for a, w in zip(area, width, strict=True)]
    return np.where(thin, "sliver", "gap"), codes, owner, measure, pieces


def _overlaps(c: _Children, min_area: float) -> _Found:
    """Sibling pairs sharing at least ``min_area`` m², codes in order."""
    i, j = c.tree.query(c.geoms, predicate="intersects")
    keep = (c.rank[i] < c.rank[j]) & (c.group[i] == c.group[j])
    i, j = i[keep], j[keep]
    # Most siblings only share an edge: DE-9IM is ~3x cheaper than an overlay.
    keep = shapely.relate_pattern(c.geoms[i], c.geoms[j], "2********")
    i, j = i[keep], j[keep]
    shared = polygonal(shapely.intersection(c.geoms[i], c.geoms[j]))
    area = shapely.area(shared)
    keep = area >= min_area
    i, j, area = i[keep], j[keep], area[keep]
    codes = list(zip(c.codes[i], c.codes[j], strict=True))
    measure = [{"area_m2": a} for a in area]
    return np.full(len(i), "overlap"), codes, c.group[i], measure, shared[keep]


def _outside(c: _Children, outlines: _Array, o: CoverageOptions) -> _Found:
    """The part of each child beyond its parent grown by the tolerance."""
    has = ~(shapely.is_missing(outlines) | shapely.is_empty(outlines))
    zone = outlines.copy()
    if o.outside_tolerance_m > 0:
        zone[has] = shapely.buffer(zone[has], o.outside_tolerance_m, quad_segs=4)
    # Preparing caches on the geometry: what we add to the caller's is dropped.
    fresh = zone[has & ~shapely.is_prepared(zone)]
    shapely.prepare(fresh)
    idx = np.flatnonzero(has[c.group])
    idx = idx[~shapely.covers(zone[c.group[idx]], c.geoms[idx])]
    shapely.destroy_prepared(fresh)
    beyond = polygonal(shapely.difference(c.geoms[idx], zone[c.group[idx]]))
    area = shapely.area(beyond)
    keep = area >= o.min_area_m2
    idx, area = idx[keep], area[keep]
    share = area / shapely.area(c.geoms[idx])
    measure = [{"area_m2": a, "share": s} for a, s in zip(area, share, strict=True)]
    return c.single("outside_parent", idx, measure, beyond[keep])


def _check(
    geoms: _Array,
    codes: _Array,
    group: _Array,
    outlines: _Array,
    parent_codes: _Array,
    options: CoverageOptions,
) -> list[_Row]:
    """Rows (rule, codes, parent, measure, geometry) of children in groups 0..G-1.

    ``outlines[g]`` is group g's parent, None when it has none.
    """
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    geoms, codes, group = geoms[present], codes[present], group[present]
    if not len(geoms):
        return []  # no children: nothing to tile the parent with, nothing to check
    # Invalid children are reported, then repaired as the importer would, so
    # that one bow-tie does not stop the overlays of its siblings.
    bad = np.flatnonzero(~shapely.is_valid(geoms))
    reasons = [{"reason": r} for r in shapely.is_valid_reason(geoms[bad])]
    shown = geoms[bad]
    geoms, outlines = geoms.copy(), outlines.copy()
    geoms[bad] = repair(geoms[bad])
    broken = ~shapely.is_missing(outlines) & ~shapely.is_valid(outlines)
    outlines[broken] = repair(outlines[broken])
    rank = pd.factorize(codes, sort=True)[0]
    c = _Children(geoms, codes, group, rank, shapely.STRtree(geoms))
    unions, edges = _unions(geoms, group, len(outlines), options.edge_gap_m)
    lines = np.flatnonzero(~shapely.is_missing(edges))
    length = [{"length_m": v} for v in shapely.length(edges[lines])]
    found = (
        c.single("invalid_geometry", bad, reasons, shown),
        _overlaps(c, options.min_area_m2),
        _gaps(c, unions, outlines, options),
        _outside(c, outlines, options),
        c.single("edge_mismatch", lines, length, edges[lines]),
    )
    rows: list[_Row] = []
    for rule, tuples, owner, measure, where in found:  # five rules
        measure = [{k: _plain(v) for k, v in m.items()} for m in measure]
        rows += zip(
            rule.tolist(), tuples, parent_codes[owner], measure, where, strict=True
        )
    return rows


def _plain(value: object) -> object:
    """Turn a numpy scalar into a Python one: measures are shown and stored as JSON."""
    return value.item() if isinstance(value, np.generic) else value


def _frame_of(rows: list[_Row], crs: Any) -> gpd.GeoDataFrame:
    """A findings frame of rows, sorted by rule, parent, codes and place."""
    if not rows:
        return empty_findings(crs)
    columns = [list(c) for c in zip(*rows, strict=True)]
    rule, codes, parent, _, geometry = columns
    corner = np.nan_to_num(shapely.bounds(object_array(geometry))[:, :2]).tolist()
    keys = [
        (_RULE_RANK[r], "" if p is None else str(p), tuple(map(str, c)), xy)
        for r, p, c, xy in zip(rule, parent, codes, corner, strict=True)
    ]
    order = sorted(range(len(rows)), key=keys.__getitem__)
    return findings_frame(*([col[k] for k in order] for col in columns), crs=crs)


def area_findings(
    children: gpd.GeoDataFrame,
    parent: BaseGeometry | None,
    *,
    parent_code: str | None,
    options: CoverageOptions,
) -> gpd.GeoDataFrame:
    """Check the siblings under one parent (下级区域覆盖检查): gaps, overlaps, edges.

    Rules found (see :data:`geogrid.domain.findings.RULES`):

    - ``gap``/``sliver``: ``parent`` minus the union of the children, split in
      connected pieces; without a parent, the holes enclosed by that union.
      A piece below ``sliver_area_m2`` or thinner than ``sliver_width_m`` is
      a sliver. Codes: the children within 1 cm of it. Measure ``area_m2``
      and ``width_m``, the diameter of its maximum inscribed circle (to 0.1 %
      of the piece's extent, and to 1 cm where that decides the rule).
    - ``overlap``: each pair of children sharing area; codes sorted, geometry
      the shared polygons, measure ``area_m2``.
    - ``outside_parent``: the part of a child beyond ``parent`` grown by
      ``outside_tolerance_m``; measure ``area_m2`` and ``share`` of the child.
    - ``invalid_geometry``: measure ``reason``. Such a child is then repaired
      (``make_valid``, polygons kept) for the other rules.
    - ``edge_mismatch``: per child, its edges that
      :func:`shapely.coverage_invalid_edges` flags at ``gap_width=edge_gap_m``
      (edges that nearly but do not exactly meet, and overlapping ones);
      measure ``length_m``.

    Gaps, overlaps and outside parts below ``min_area_m2`` are left out, but
    not holes of the union: a ring in the data is never numerical noise.

    Args:
        children: Columns ``code`` and polygon ``geometry`` (None or empty
            ones are ignored), in a projected metric CRS: the caller converts,
            e.g. to :func:`geogrid.spatial.crs.local_crs`.
        parent: The parent's outline in the same CRS, or None.
        parent_code: Written to every finding's ``parent_code``.
        options: Tolerances.

    Returns:
        A findings frame (:data:`FINDING_COLUMNS`) in the children's CRS,
        sorted by rule, then codes; empty when all is well.

    Raises:
        InvalidInput: A missing column or code, a CRS in degrees, or
            geometries that are not polygons.

    Examples:
        >>> from shapely import box
        >>> grids = gpd.GeoDataFrame({"code": ["G1", "G2", "G3"]}, geometry=[
        ...     box(0, 0, 100, 100), box(100, 0, 200, 100), box(190, 0, 250, 100)])
        >>> found = area_findings(grids, box(0, 0, 300, 100), parent_code="C1",
        ...                       options=CoverageOptions())
        >>> found[["rule", "codes", "parent_code"]]
                    rule     codes parent_code
        0            gap     (G3,)          C1
        1        overlap  (G2, G3)          C1
        2  edge_mismatch     (G2,)          C1
        3  edge_mismatch     (G3,)          C1
        >>> found.loc[0, "measure"], found.loc[1, "measure"]
        ({'area_m2': 5000.0, 'width_m': 50.0}, {'area_m2': 1000.0})
    """
    geoms = check_frame(children, POLYGONAL)
    rows = _check(
        geoms,
        children["code"].to_numpy(dtype=object),
        np.zeros(len(geoms), dtype=int),
        object_array([parent]),
        object_array([parent_code]),
        options,
    )
    return _frame_of(rows, children.crs)


def check_areas(
    areas: gpd.GeoDataFrame, *, options: CoverageOptions
) -> gpd.GeoDataFrame:
    """Check every parent's children at once (全域覆盖检查).

    Children are grouped by (parent, level): each group is checked as
    :func:`area_findings` would, under its parent's outline. Children whose
    ``parent_code`` is empty or names no row of ``areas`` are grouped by level
    and checked with no parent (holes only; ``parent_code`` None). Everything
    but the union and the coverage validator runs over all groups at once.

    Args:
        areas: Columns ``code`` (unique), ``level``, ``parent_code`` and
            polygon ``geometry``: all current areas of every level, in one
            projected metric CRS (the caller converts).
        options: Tolerances.

    Returns:
        The findings of all groups, sorted by rule, parent and codes.

    Raises:
        InvalidInput: A missing column, a missing or repeated code, a CRS in
            degrees, or geometries that are not polygons.

    Examples:
        >>> from shapely import box
        >>> areas = gpd.GeoDataFrame({"code": ["C1", "G1", "G2"],
        ...     "level": ["community", "grid", "grid"],
        ...     "parent_code": [None, "C1", "C1"]},
        ...     geometry=[box(0, 0, 20, 10), box(0, 0, 9, 10), box(10, 0, 20, 10)])
        >>> check_areas(areas, options=CoverageOptions())[["rule", "codes", "parent_code"]]
             rule     codes parent_code
        0  sliver  (G1, G2)          C1
    """
    geoms = check_frame(areas, POLYGONAL, "level", "parent_code")
    codes = areas["code"].to_numpy(dtype=object)
    index = pd.Index(codes)
    if index.has_duplicates:
        first = index[index.duplicated()][0]
        where = np.flatnonzero(codes == first)
        raise InvalidInput("code_duplicate", code=first, other=int(where[1]))
    parent = index.get_indexer(areas["parent_code"].to_numpy(dtype=object))
    parent[parent == np.arange(len(codes))] = -1  # its own parent: none
    level, _ = pd.factorize(
        areas["level"].to_numpy(dtype=object), use_na_sentinel=False
    )
    rows = []
    for value in np.unique(level):  # levels: a handful
        members = np.flatnonzero(level == value)
        keys, group = np.unique(parent[members], return_inverse=True)
        outlines = object_array([geoms[k] if k >= 0 else None for k in keys])
        parents = object_array([codes[k] if k >= 0 else None for k in keys])
        rows += _check_robust(
            geoms[members], codes[members], group, outlines, parents, options
        )
    return _frame_of(rows, areas.crs)


_SNAP_M = 0.001  # a 1 mm grid: far below any edge tolerance, enough to re-node GEOS


def _check_robust(
    geoms: _Array,
    codes: _Array,
    group: _Array,
    outlines: _Array,
    parent_codes: _Array,
    options: CoverageOptions,
) -> list[_Row]:
    """:func:`_check`, which GEOS may refuse on real digitising error, made total.

    Overlays can raise a TopologyException (side location conflict, free hole)
    on near-coincident vertices. The whole level is tried first; on failure,
    each parent alone, then that parent snapped to a 1 mm grid; a parent that
    still fails becomes one ``geometry_unprocessable`` finding instead of
    stopping the report for everyone else.
    """
    try:
        return _check(geoms, codes, group, outlines, parent_codes, options)
    except shapely.errors.GEOSException:
        pass
    rows: list[_Row] = []
    for g in range(len(outlines)):
        members = np.flatnonzero(group == g)
        one = (geoms[members], codes[members], np.zeros(len(members), dtype=int))
        try:
            rows += _check(*one, outlines[g : g + 1], parent_codes[g : g + 1], options)
            continue
        except shapely.errors.GEOSException:
            pass
        try:
            snapped = shapely.set_precision(one[0], _SNAP_M)
            outline = shapely.set_precision(outlines[g : g + 1], _SNAP_M)
            rows += _check(snapped, *one[1:], outline, parent_codes[g : g + 1], options)
        except shapely.errors.GEOSException as exc:
            rows.append(_unprocessable(one[0], one[1], parent_codes[g], exc))
    return rows


def _unprocessable(
    geoms: _Array, codes: _Array, parent_code: object, exc: Exception
) -> _Row:
    """The finding for a parent whose children GEOS cannot overlay."""
    where = shapely.envelope(shapely.GeometryCollection(list(geoms)))
    # GEOS names the failure and the point: the kind is kept, the text is not
    # shown to users (it is English only and means nothing to a planner).
    kind = str(exc).split(":", 1)[0].strip() or type(exc).__name__
    measure = {"geos_error": kind, "children": len(codes)}
    return "geometry_unprocessable", tuple(sorted(codes)), parent_code, measure, where
