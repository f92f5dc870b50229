"""Grid proposals (网格划分建议): a community's buildings into grids within a band.

A proposal keeps what already works and redraws the rest:

- **Existing grids that satisfy the band are kept** (code and outline), since
  a grid keeps its code, staff and contact cards unless it must change. They
  are clipped to the community, overlaps go to the lower code, and a grid
  that ends up in pieces or outside the band is redrawn.
- **The rest is tiled by building cells** (:mod:`geogrid.spatial.cells`), so
  any grouping of buildings is a gap-free, overlap-free tiling and a grid's
  outline runs between buildings, never through one.
- **Lanes that cut the rest through split it into zones** when each side
  can hold whole grids within the band, so no grid crosses such a lane; a
  side that cannot (a park, a short strip) joins its neighbour.
- **Each zone is split by a graph partition**
  (:mod:`geogrid.spatial.partition`) into k connected regions, with k chosen
  so that total / k is nearest the middle of the band among the k that fit.
- **A part that cannot be split within the band** (too few households, or a
  total between two multiples of the band) joins a kept neighbour when the
  sum fits, else frees the kept neighbour it shares most edge with and the
  split starts again; only a community whose total cannot fit is reported.

Nothing here raises for bad luck in the data: a building above the band, a
total that cannot be split or a grid left outside the band is a line in
:attr:`Proposal.problems`, because a planner can act on a draft with known
flaws but not on an exception.

All metric work is in :func:`geogrid.spatial.crs.local_crs`; the result is in
EPSG:4326. Inputs are sorted by code first, so the same input in any order
with the same ``seed`` gives the same proposal.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from geogrid.errors import InvalidInput
from geogrid.spatial.cells import CellGraph, cell_graph
from geogrid.spatial.crs import STORAGE_CRS, local_crs
from geogrid.spatial.current_grids import CurrentGrids, current_grids, first_holder
from geogrid.spatial.inputs import BUILDING, POLYGONAL, check_frame
from geogrid.spatial.partition import best_k, fits, lane_zones, partition

_EPS_M = 1e-3  # how near two outlines must run to count as shared
_MIN_SHARED_M = 0.05  # shorter contacts (a corner) do not join a part to a grid
_CHANGED_M2 = 1.0  # a kept grid whose outline moves more than this is reported
_ROW_M = 400.0  # new codes go west to east in rows this tall, from the north
_Array = np.ndarray


@dataclass(frozen=True)
class Proposal:
    """A proposed set of grids for one community (网格划分建议).

    Attributes:
        grids: One row per grid in EPSG:4326: ``code`` (the existing code when
            kept, else ``P01``, ``P02``… west to east, north to south),
            ``kept``, ``households``, ``n_buildings`` and a polygon
            ``geometry``. The grids tile the community with no gap and no
            overlap. A kept grid's outline may differ from the one given:
            clipped to the community, less an overlap with a lower code, or
            grown by a leftover part that could not be a grid of its own
            (each such change is in ``problems``).
        assignment: Building code → grid code, for every building whose
            inner point (point on surface) lies in the community.
        problems: What could not be done, one line each, starting with a
            stable code (``building_over_band: …``).
    """

    grids: gpd.GeoDataFrame
    assignment: dict[str, str]
    problems: list[str] = field(default_factory=list)


def propose_grids(
    community: BaseGeometry,
    buildings: gpd.GeoDataFrame,
    *,
    band: tuple[int, int],
    lanes: gpd.GeoSeries | None = None,
    existing: gpd.GeoDataFrame | None = None,
    seed: int = 0,
) -> Proposal:
    """Propose contiguous, compact grids (网格) of a community (社区) within a band.

    Args:
        community: The community's (multi)polygon in EPSG:4326.
        buildings: Columns ``code``, ``households`` and footprint
            ``geometry`` (EPSG:4326 when the frame has no CRS). Buildings
            whose inner point lies outside the community are left out.
        band: Lowest and highest households of a grid, e.g. ``(300, 500)``.
        lanes: Lane (弄巷) or road lines. One that crosses the community (or
            a part of it left to redraw) from edge to edge cuts it, and grids
            stay on one side where the band allows. One that ends inside cuts
            nothing and is ignored: a dead-end lane is one unit of
            door-to-door work, better inside a grid than along its edge.
        existing: Current grids (``code``, ``name``, polygon ``geometry``);
            those within the band and in one piece are kept.
        seed: Seed of the random choices (a whole number >= 0); the same
            seed gives the same result.

    Returns:
        The proposal; see :class:`Proposal`.

    Raises:
        InvalidInput: A missing column or code, a duplicate building code, a
            band that is not two whole numbers with 0 <= low <= high, a
            negative seed, or a community that is not polygonal.

    Examples:
        >>> from shapely import box
        >>> homes = gpd.GeoDataFrame({"code": ["B1", "B2", "B3", "B4"],
        ...     "households": [200, 200, 200, 200]}, crs=STORAGE_CRS,
        ...     geometry=[box(116.4 + i * 0.001, 39.9, 116.4003 + i * 0.001, 39.9003)
        ...               for i in range(4)])
        >>> result = propose_grids(box(116.399, 39.899, 116.405, 39.901), homes,
        ...     band=(300, 500))
        >>> result.grids[["code", "households", "n_buildings"]].values.tolist()
        [['P01', 400, 2], ['P02', 400, 2]]
        >>> result.assignment["B3"], result.problems
        ('P02', [])
    """
    low, high = _check_band(band)
    if not isinstance(seed, int) or seed < 0:
        raise InvalidInput("value_invalid", field="seed", value=str(seed))
    crs = local_crs(gpd.GeoSeries([community], crs=STORAGE_CRS))
    area = _metric_area(community, crs)
    problems: list[str] = []
    frame = _metric_buildings(buildings, crs, problems)
    codes = frame["code"].to_numpy(dtype=object)
    footprints = np.asarray(frame.geometry.array, dtype=object)
    households = _households(frame, problems)
    inner = shapely.point_on_surface(footprints)
    inside = shapely.covers(area, inner)
    if (~inside).any():
        out = codes[~inside]
        problems.append(
            f"buildings_outside: {len(out)} buildings lie outside the community "
            f"and are not assigned: {_listing(out)}"
        )
    codes, footprints, households, inner = (
        codes[inside],
        footprints[inside],
        households[inside],
        inner[inside],
    )
    for i in np.flatnonzero(households > high):  # the few that cannot fit
        problems.append(
            f"building_over_band: building {codes[i]} holds {households[i]} "
            f"households, more than the band's {high}: its grid cannot be within it"
        )
    old = current_grids(area, existing, crs, inner, households)
    lines = None if lanes is None else _metric_lines(lanes, crs)
    grid_of, geoms, kept_codes, is_kept = _plan(
        area, old, footprints, inner, households, lines, (low, high), seed, problems
    )
    return _proposal(
        codes,
        households,
        grid_of,
        geoms,
        kept_codes,
        is_kept,
        (low, high),
        crs,
        problems,
    )


def _check_band(band: tuple[int, int]) -> tuple[int, int]:
    try:
        low, high = (int(v) for v in band)
        fits = low == band[0] and high == band[1] and 0 <= low <= high
    except (TypeError, ValueError):
        fits = False
    if not fits:
        raise InvalidInput("value_invalid", field="band", value=str(band))
    return low, high


def _metric_area(community: BaseGeometry, crs: object) -> BaseGeometry:
    geom = gpd.GeoSeries([community], crs=STORAGE_CRS).to_crs(crs).iloc[0]
    if geom is None or shapely.get_type_id(geom) not in POLYGONAL or geom.is_empty:
        kind = "None" if geom is None else geom.geom_type
        raise InvalidInput("geometry_type_wrong", expected="Polygon", actual=kind)
    if not geom.is_valid:
        parts = shapely.get_parts(shapely.make_valid(geom))
        geom = shapely.union_all(parts[np.isin(shapely.get_type_id(parts), POLYGONAL)])
    return geom


def _metric_buildings(
    buildings: gpd.GeoDataFrame, crs: object, problems: list[str]
) -> gpd.GeoDataFrame:
    frame = buildings if buildings.crs is not None else buildings.set_crs(STORAGE_CRS)
    frame = frame.to_crs(crs)
    check_frame(frame, BUILDING, "households")
    shapeless = frame.geometry.isna() | frame.geometry.is_empty
    if shapeless.any():
        problems.append(
            f"buildings_without_geometry: {int(shapeless.sum())} buildings have no "
            f"footprint and are not assigned: {_listing(frame['code'][shapeless].to_numpy())}"
        )
    frame = frame[~shapeless]
    frame = frame.assign(code=frame["code"].astype(str)).sort_values(
        "code", kind="stable"
    )
    duplicated = frame["code"].duplicated()
    if duplicated.any():
        raise InvalidInput(
            "value_invalid", field="code", value=frame["code"][duplicated].iloc[0]
        )
    return frame.reset_index(drop=True)


def _households(frame: gpd.GeoDataFrame, problems: list[str]) -> _Array:
    values = pd.to_numeric(frame["households"], errors="coerce")
    missing = values.isna() | (values < 0)
    if missing.any():
        problems.append(
            f"households_missing: {int(missing.sum())} buildings have no household "
            f"count and count as 0: {_listing(frame['code'][missing].to_numpy())}"
        )
    return values.where(~missing, 0).round().astype(np.int64).to_numpy()


def _metric_lines(lanes: gpd.GeoSeries, crs: object) -> _Array:
    series = lanes if lanes.crs is not None else lanes.set_crs(STORAGE_CRS)
    geoms = np.asarray(series.to_crs(crs).array, dtype=object)
    return geoms[shapely.is_geometry(geoms)]


def _plan(
    area: BaseGeometry,
    old: CurrentGrids,
    footprints: _Array,
    inner: _Array,
    households: _Array,
    lines: _Array | None,
    band: tuple[int, int],
    seed: int,
    problems: list[str],
) -> tuple[_Array, list[BaseGeometry], list[str | None], list[bool]]:
    """Grid per building, and each grid's outline, old code and kept flag."""
    low, high = band
    keep = (
        (old.households >= low)
        & (old.households <= high)
        & (shapely.get_type_id(old.geoms) == 3)
    )
    while True:
        kept = np.flatnonzero(keep)
        holder = first_holder(old.geoms[kept], inner)
        rest = holder < 0
        remainder = _polygonal(
            shapely.difference(area, shapely.union_all(old.geoms[kept]))
        )
        graph = (
            cell_graph(remainder, footprints[rest], households[rest], lanes=lines)
            if not remainder.is_empty
            else CellGraph.empty(int(rest.sum()))  # the kept grids cover it all
        )
        parts = graph.components()
        joins: dict[int, list[int]] = {}
        extra = np.zeros(len(kept), dtype=np.int64)
        freed = None
        for i, nodes in enumerate(parts):
            total = int(graph.households[nodes].sum())
            if fits(total, band):
                continue
            outline = shapely.union_all(graph.cells[nodes])
            shared = _shared_with(outline, old.geoms[kept])
            after = old.households[kept] + extra + total
            touch = shared >= _MIN_SHARED_M
            fitting = np.flatnonzero(touch & (after >= low) & (after <= high))
            if len(fitting):  # the longest shared edge among the neighbours it fits
                j = int(fitting[np.argmax(shared[fitting])])
                joins.setdefault(j, []).append(i)
                extra[j] += total
            elif touch.any():
                freed = kept[int(np.argmax(shared))]
                break
        if freed is None:
            break
        keep[freed] = False  # its part of the community is split afresh
    return _assemble(
        old, kept, holder, graph, parts, joins, band, seed, problems, len(inner)
    )


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """The polygons of an overlay result (a difference can leave lines and points)."""
    parts = shapely.get_parts(geom)
    return shapely.union_all(parts[np.isin(shapely.get_type_id(parts), POLYGONAL)])


def _shared_with(part: BaseGeometry, grids: _Array) -> _Array:
    """Length of ``part``'s outline along each grid."""
    if len(grids) == 0:
        return np.zeros(0)
    near = shapely.buffer(grids, _EPS_M, quad_segs=1)
    return shapely.length(shapely.intersection(shapely.boundary(part), near))


def _assemble(
    old: CurrentGrids,
    kept: _Array,
    holder: _Array,
    graph: CellGraph,
    parts: list[_Array],
    joins: dict[int, list[int]],
    band: tuple[int, int],
    seed: int,
    problems: list[str],
    n_buildings: int,
) -> tuple[_Array, list[BaseGeometry], list[str | None], list[bool]]:
    grid_of = np.full(n_buildings, -1)
    rest = np.flatnonzero(holder < 0)
    placed = holder >= 0
    grid_of[placed] = holder[placed]
    geoms: list[BaseGeometry] = []
    for j in range(len(kept)):
        extra = [graph.cells[parts[p]] for p in joins.get(j, [])]
        geom = old.geoms[kept[j]]
        if extra:
            geom = shapely.union_all([geom, *np.concatenate(extra)])
            for p in joins[j]:
                mine = np.isin(graph.node_of, parts[p])
                grid_of[rest[mine]] = j
        changed = shapely.symmetric_difference(geom, old.drawn[kept[j]]).area
        if changed >= _CHANGED_M2:  # worth a look before it is published
            problems.append(
                f"kept_grid_reshaped: grid {old.codes[kept[j]]} keeps its code but "
                f"its outline changed by {changed:,.0f} m² (clipped to the community, "
                f"an overlap left to a lower code, or a leftover joined)"
            )
        geoms.append(geom)
    kept_codes: list[str | None] = [str(c) for c in old.codes[kept]]
    joined = {p for ps in joins.values() for p in ps}
    for i, nodes in enumerate(parts):
        if i in joined:
            continue
        total = int(graph.households[nodes].sum())
        if not fits(total, band):
            problems.append(
                f"total_outside_band: {total} households cannot be split into "
                f"grids of {band[0]}–{band[1]} households"
            )
        node_label = np.full(len(graph.households), -1)
        part = graph.subgraph(nodes)
        for z, zone in enumerate(lane_zones(part, band)):
            zone_total = int(part.households[zone].sum())
            labels = partition(
                part.subgraph(zone), best_k(zone_total, band), band, seed=(seed, i, z)
            )
            for r in range(int(labels.max()) + 1):
                node_label[nodes[zone[labels == r]]] = len(geoms)
                geoms.append(shapely.union_all(graph.cells[nodes[zone[labels == r]]]))
                kept_codes.append(None)
        split = np.flatnonzero(np.isin(graph.node_of, nodes))
        grid_of[rest[split]] = node_label[graph.node_of[split]]
    return grid_of, geoms, kept_codes, [c is not None for c in kept_codes]


def _proposal(
    codes: _Array,
    households: _Array,
    grid_of: _Array,
    geoms: list[BaseGeometry],
    kept_codes: list[str | None],
    is_kept: list[bool],
    band: tuple[int, int],
    crs: object,
    problems: list[str],
) -> Proposal:
    n = len(geoms)
    outlines = np.array(geoms, dtype=object)
    load = np.bincount(grid_of, households, minlength=n).astype(np.int64)
    count = np.bincount(grid_of, minlength=n)
    new = np.flatnonzero(~np.array(is_kept, dtype=bool))
    names = np.array(kept_codes, dtype=object)
    if len(new):
        xy = shapely.get_coordinates(shapely.point_on_surface(outlines[new]))
        top = xy[:, 1].max()
        order = np.lexsort((xy[:, 0], np.floor((top - xy[:, 1]) / _ROW_M)))
        taken = set(names[~np.isin(np.arange(n), new)])
        width = max(2, len(str(len(new))))
        fresh = (f"P{i:0{width}d}" for i in range(1, len(new) + len(taken) + 1))
        free = [c for c in fresh if c not in taken]
        names[new[order]] = free[: len(new)]
    grids = gpd.GeoDataFrame(
        {
            "code": names,
            "kept": np.array(is_kept, dtype=bool),
            "households": load,
            "n_buildings": count,
        },
        geometry=list(outlines),
        crs=crs,
    )
    grids = grids.sort_values(
        ["kept", "code"], ascending=[False, True], ignore_index=True
    )
    for code, total, geom in zip(
        grids["code"], grids["households"], grids.geometry, strict=True
    ):
        if not band[0] <= total <= band[1]:
            problems.append(
                f"grid_outside_band: grid {code} holds {total} households, outside "
                f"the band {band[0]}–{band[1]}"
            )
        if geom.geom_type != "Polygon":
            problems.append(f"grid_in_pieces: grid {code} is in more than one piece")
    assignment = dict(zip(codes.tolist(), names[grid_of].tolist(), strict=True))
    return Proposal(grids.to_crs(STORAGE_CRS), assignment, problems)


def _listing(codes: _Array, most: int = 5) -> str:
    shown = ", ".join(map(str, codes[:most]))
    return shown + (f" … (+{len(codes) - most})" if len(codes) > most else "")
