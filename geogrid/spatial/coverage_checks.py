"""Coverage of lanes and services (弄巷与服务半径检查): findings beyond the areas.

Same conventions as :mod:`geogrid.spatial.coverage`: frames in ONE projected
metric CRS (the caller converts, e.g. to :func:`geogrid.spatial.crs.local_crs`),
work vectorised over features, results as findings frames.
"""

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from geogrid.errors import InvalidInput
from geogrid.spatial.coverage_frames import (
    code_tuples,
    empty_findings,
    findings_frame,
)
from geogrid.spatial.inputs import LINEAR, POINT, POLYGONAL, check_frame

_Array = np.ndarray


def lane_findings(
    lanes: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, *, min_length_m: float = 1.0
) -> gpd.GeoDataFrame:
    """Find lanes that cross grids (弄巷跨网格).

    A lane (弄/巷) is one unit of door-to-door work: split across grids, no
    grid worker owns it whole. A grid counts when at least ``min_length_m`` of
    the lane lies in it (its boundary included: a lane drawn exactly along a
    shared edge counts in both grids).

    Args:
        lanes: Columns ``code`` and (multi)line ``geometry``.
        grids: Columns ``code`` and polygon ``geometry``; both frames in one
            projected metric CRS (the caller converts).
        min_length_m: The length in a grid that counts, in metres.

    Returns:
        A findings frame: one ``lane_crosses_grids`` row per lane in two or
        more grids, codes ``(lane, grid, grid…)`` (grids by code), measure
        ``{"lengths_m": {grid: metres}}``, geometry the lane, parent None.

    Raises:
        InvalidInput: A missing column or code, a CRS in degrees, wrong
            geometry types, or a negative length.

    Examples:
        >>> from shapely import LineString, box
        >>> grids = gpd.GeoDataFrame({"code": ["G1", "G2"]},
        ...     geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)])
        >>> lanes = gpd.GeoDataFrame({"code": ["L1", "L2"]},
        ...     geometry=[LineString([(50, 50), (130, 50)]), LineString([(10, 10), (90, 10)])])
        >>> found = lane_findings(lanes, grids)
        >>> found.loc[0, "codes"], found.loc[0, "measure"]
        (('L1', 'G1', 'G2'), {'lengths_m': {'G1': 50.0, 'G2': 30.0}})
    """
    if not min_length_m >= 0:
        raise InvalidInput("value_invalid", field="min_length_m", value=min_length_m)
    lines = check_frame(lanes, LINEAR)
    cells = check_frame(grids, POLYGONAL)
    lane_codes = lanes["code"].to_numpy(dtype=object)
    grid_codes = grids["code"].to_numpy(dtype=object)
    li, gj = shapely.STRtree(cells).query(lines, predicate="intersects")
    # Most lanes lie inside one grid: a prepared test gives their whole length
    # and only lanes on an edge pay for an overlay.
    fresh = cells[~shapely.is_prepared(cells)]
    shapely.prepare(fresh)
    inside = shapely.contains_properly(cells[gj], lines[li])
    shapely.destroy_prepared(fresh)
    length = shapely.length(lines[li])
    edge = np.flatnonzero(~inside)
    length[edge] = shapely.length(
        shapely.intersection(lines[li[edge]], cells[gj[edge]])
    )
    keep = (length >= min_length_m) & (length > 0)
    li, gj, length = li[keep], gj[keep], length[keep]
    crossing = np.flatnonzero(np.bincount(li, minlength=len(lines)) >= 2)
    keep = np.isin(li, crossing)
    li, gj, length = li[keep], gj[keep], length[keep]
    owner = np.searchsorted(crossing, li)
    rank = pd.factorize(grid_codes, sort=True)[0]
    grids_of = code_tuples(len(crossing), owner, grid_codes[gj], rank[gj])
    metres = code_tuples(len(crossing), owner, length, rank[gj])
    return findings_frame(
        ["lane_crosses_grids"] * len(crossing),
        [(lane, *g) for lane, g in zip(lane_codes[crossing], grids_of, strict=True)],
        [None] * len(crossing),
        [
            {"lengths_m": dict(zip(g, map(float, m), strict=True))}
            for g, m in zip(grids_of, metres, strict=True)
        ],
        lines[crossing],
        crs=lanes.crs,
    )


def _radii(centres: gpd.GeoDataFrame, kind: str, radius: float | None) -> _Array:
    """Per centre of ``kind``, the radius it serves: ``radius``, or its own."""
    if radius is None:
        values = pd.to_numeric(centres["radius_m"], errors="coerce").to_numpy(float)
    else:
        values = np.full(len(centres), radius, dtype=float)
    bad = np.flatnonzero(~(np.isfinite(values) & (values >= 0)))
    if len(bad):
        raise InvalidInput(
            "value_invalid", field="radius_m", value=f"{kind}: {values[bad[0]]}"
        )
    return values


def _service(
    homes: gpd.GeoDataFrame,
    centres: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    radii_m: Mapping[str, float | None],
) -> tuple[pd.DataFrame, _Array, dict[str, _Array]]:
    """The summary, each home's community (-1: none) and per kind who is served."""
    points = check_frame(homes, POINT, "households", "residents")
    hubs = check_frame(centres, POINT, "kind", "radius_m")
    cells = check_frame(communities, POLYGONAL)
    codes = communities["code"].to_numpy(dtype=object)
    n, m = len(points), len(codes)
    # Each home's community; on a shared edge, the lowest code.
    hi, cj = shapely.STRtree(cells).query(points, predicate="intersects")
    order = np.lexsort((pd.factorize(codes, sort=True)[0][cj], hi))
    first = order[np.unique(hi[order], return_index=True)[1]]
    community = np.full(n, -1)
    community[hi[first]] = cj[first]
    tree, kinds = shapely.STRtree(points), centres["kind"].to_numpy(dtype=object)
    weights = {"homes": np.ones(n)} | {
        name: pd.to_numeric(homes[name], errors="coerce").fillna(0).to_numpy(float)
        for name in ("households", "residents")
    }
    placed, served, rows = community >= 0, {}, []
    for kind, radius in radii_m.items():  # kinds of centre: a handful
        mine = np.flatnonzero(kinds == kind)
        radii = _radii(centres.iloc[mine], kind, radius)
        # A kind may mix radii (each centre its own): so each centre finds the
        # homes within its distance, rather than each home its nearest centre.
        near = tree.query(hubs[mine], predicate="dwithin", distance=radii)[1]
        served[kind] = np.zeros(n, dtype=bool)
        served[kind][near] = True
        out = placed & ~served[kind]
        widest = radii.max() if len(radii) else np.nan
        shown = radius if radius is not None else widest
        row = {"community_code": codes, "kind": kind, "radius_m": float(shown)}
        for name, w in weights.items():
            row[f"{name}_total"] = np.bincount(
                community[placed], w[placed], minlength=m
            )
            row[f"{name}_uncovered"] = np.bincount(community[out], w[out], minlength=m)
        rows.append(pd.DataFrame(row).astype({"community_code": object}))
    if not rows:
        return _summary(pd.DataFrame(columns=_COLUMNS)), community, served
    return _summary(pd.concat(rows, ignore_index=True)), community, served


_COLUMNS = ["community_code", "kind", "radius_m"] + [
    f"{name}_{part}"
    for name in ("homes", "households", "residents")
    for part in ("total", "uncovered")
]


def _summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Typed counts and the share covered: of households, else of homes."""
    frame = frame.astype({"homes_total": int, "homes_uncovered": int})
    has = frame["households_total"] > 0
    total = frame["households_total"].where(has, frame["homes_total"])
    missed = frame["households_uncovered"].where(has, frame["homes_uncovered"])
    frame["share_covered"] = ((total - missed) / total).where(total > 0)
    return frame.reset_index(drop=True)


def service_coverage(
    homes: gpd.GeoDataFrame,
    centres: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    *,
    radii_m: Mapping[str, float | None],
) -> pd.DataFrame:
    """Share of homes each kind of centre serves, per community (服务覆盖率).

    A home is served by a kind when it lies within the radius of at least one
    centre of that kind. Homes in no community are left out (the assignment
    findings report them); on a shared edge a home goes to the lowest code.

    Args:
        homes: Columns ``code``, ``households``, ``residents`` (NaN counts as
            0) and point ``geometry`` (buildings' point on surface, addresses).
        centres: Columns ``code``, ``kind`` (e.g. ``"睦邻中心"``), ``radius_m``
            and point ``geometry``.
        communities: Columns ``code`` and polygon ``geometry``; all three
            frames in one projected metric CRS (the caller converts).
        radii_m: Per kind to check, its radius in metres; None: each centre's
            own ``radius_m``.

    Returns:
        One row per community and kind (kinds in ``radii_m`` order), fully
        served ones included: ``community_code``, ``kind``, ``radius_m`` (the
        largest own radius when None was given), ``homes_total``,
        ``homes_uncovered``, ``households_total``, ``households_uncovered``,
        ``residents_total``, ``residents_uncovered`` and ``share_covered``
        (of households; of homes when there are none; NaN with no home).

    Raises:
        InvalidInput: A missing column or code, a CRS in degrees, a wrong
            geometry type, or a radius that is missing or negative.

    Examples:
        >>> from shapely import Point, box
        >>> communities = gpd.GeoDataFrame({"code": ["C1", "C2"]},
        ...     geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)])
        >>> homes = gpd.GeoDataFrame({"code": ["H1", "H2", "H3"],
        ...     "households": [10, 30, 5], "residents": [25, 70, 12]},
        ...     geometry=[Point(100, 100), Point(900, 900), Point(1500, 500)])
        >>> centres = gpd.GeoDataFrame({"code": ["S1"], "kind": ["睦邻中心"],
        ...     "radius_m": [None]}, geometry=[Point(0, 0)])
        >>> service_coverage(homes, centres, communities, radii_m={"睦邻中心": 500})[
        ...     ["community_code", "households_uncovered", "share_covered"]]
          community_code  households_uncovered  share_covered
        0             C1                  30.0           0.25
        1             C2                   5.0           0.00
    """
    return _service(homes, centres, communities, radii_m)[0]


def service_findings(
    homes: gpd.GeoDataFrame,
    centres: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    *,
    radii_m: Mapping[str, float | None],
) -> gpd.GeoDataFrame:
    """Find homes beyond every centre's service radius (超出服务半径).

    Args:
        homes: As for :func:`service_coverage`.
        centres: As for :func:`service_coverage`.
        communities: As for :func:`service_coverage`; all in one projected
            metric CRS (the caller converts).
        radii_m: Per kind to check, its radius in metres, or None for each
            centre's own ``radius_m``.

    Returns:
        A findings frame in the homes' CRS: one ``service_radius`` row per
        community and kind with a home not served; codes ``(community,
        home…)`` (homes by code), parent the community, geometry a MultiPoint
        of those homes, measure ``kind``, ``radius_m``,
        ``households_uncovered``, ``residents_uncovered``,
        ``households_total`` and ``share_covered``.

    Raises:
        InvalidInput: As for :func:`service_coverage`.

    Examples:
        >>> from shapely import Point, box
        >>> communities = gpd.GeoDataFrame({"code": ["C1"]},
        ...     geometry=[box(0, 0, 1000, 1000)])
        >>> homes = gpd.GeoDataFrame({"code": ["H1", "H2"],
        ...     "households": [10, 30], "residents": [25, 70]},
        ...     geometry=[Point(100, 100), Point(900, 900)])
        >>> centres = gpd.GeoDataFrame({"code": ["S1"], "kind": ["睦邻中心"],
        ...     "radius_m": [500.0]}, geometry=[Point(0, 0)])
        >>> found = service_findings(homes, centres, communities,
        ...                          radii_m={"睦邻中心": None})
        >>> found.loc[0, "codes"], found.loc[0, "measure"]["share_covered"]
        (('C1', 'H2'), 0.25)
    """
    summary, community, served = _service(homes, centres, communities, radii_m)
    if summary.empty:
        return empty_findings(homes.crs)
    points = np.asarray(homes.geometry.array, dtype=object)
    home_codes = homes["code"].to_numpy(dtype=object)
    home_rank = pd.factorize(home_codes, sort=True)[0]
    m = len(communities)
    parts: list[tuple[list[Any], list[Any], list[Any], list[Any]]] = []
    for k, (kind, mask) in enumerate(served.items()):  # kinds: a handful
        rows = summary.iloc[k * m : (k + 1) * m]
        hit = np.flatnonzero(rows["homes_uncovered"].to_numpy() > 0)
        out = np.flatnonzero((community >= 0) & ~mask)
        owner = np.searchsorted(hit, community[out])  # every owner is in hit
        tuples = code_tuples(len(hit), owner, home_codes[out], home_rank[out])
        order = np.argsort(owner, kind="stable")
        spots = shapely.multipoints(points[out][order], indices=owner[order])
        rows = rows.iloc[hit]
        parts.append(
            (
                [(c, *t) for c, t in zip(rows["community_code"], tuples, strict=True)],
                rows["community_code"].tolist(),
                [_measure(kind, r) for r in rows.itertuples(index=False)],
                list(np.asarray(spots, dtype=object)),
            )
        )
    codes = [x for part in parts for x in part[0]]
    parents = [x for part in parts for x in part[1]]
    measures = [x for part in parts for x in part[2]]
    places = [x for part in parts for x in part[3]]
    return findings_frame(
        ["service_radius"] * len(codes), codes, parents, measures, places, crs=homes.crs
    )


def _measure(kind: str, row: tuple[Any, ...]) -> dict[str, Any]:
    """The measure of one ``service_radius`` finding, as plain floats."""
    names = (
        "radius_m",
        "households_uncovered",
        "residents_uncovered",
        "households_total",
        "share_covered",
    )
    return {"kind": kind} | {name: float(getattr(row, name)) for name in names}
