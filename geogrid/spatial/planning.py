"""Planning edits and their impact (网格调整): pure functions over a draft's grids.

A draft is a GeoDataFrame of grids (``code``, ``name``, ``parent_code``,
polygon ``geometry``) in a projected metric CRS. Each edit returns a new
frame and never changes its input, so a plan can keep every step and undo
by dropping the last one, and a rebase can replay the steps on a newer
generation. Edits refuse what would leave the draft broken (a split line
that does not cross the grid, a merge of grids that do not touch, buildings
moved to a grid they do not border) with an :class:`InvalidInput` naming the
grid and the problem.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import split as split_polygon

from geogrid.domain.answers import (
    BuildingMove,
    DraftChanges,
    GridChanges,
    HolderRef,
    HouseholdCounts,
    MissingRole,
    PeopleImpact,
)
from geogrid.errors import InvalidInput, NotFound
from geogrid.spatial.assign import assign_buildings
from geogrid.spatial.cells import cell_graph

COLUMNS = ["code", "name", "parent_code", "geometry"]
CHANGED_M2 = 0.01
"""Less land than this moving is no change of a grid (a vertex added, say)."""
SNAP_M = 1e-3
"""Overlay precision for reshaped grids (1 mm): the two sides of a moved edge
meet exactly instead of leaving a floating-point hairline between them."""


def _row(draft: gpd.GeoDataFrame, code: str) -> int:
    hits = np.flatnonzero(draft["code"].to_numpy() == code)
    if len(hits) == 0:
        raise NotFound("plan_grid_unknown", code=code)
    return int(hits[0])


def _with(
    draft: gpd.GeoDataFrame, drop: Sequence[str], add: list[dict[str, Any]]
) -> gpd.GeoDataFrame:
    kept = draft[~draft["code"].isin(list(drop))]
    new = gpd.GeoDataFrame(add, columns=COLUMNS, geometry="geometry", crs=draft.crs)
    out = pd.concat([kept, new], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=draft.crs).sort_values(
        "code", ignore_index=True
    )


def _free(draft: gpd.GeoDataFrame, code: str) -> None:
    if code in set(draft["code"]):
        raise InvalidInput("plan_code_taken", code=code)


def replace_grids(
    draft: gpd.GeoDataFrame, new: gpd.GeoDataFrame, parents: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Replace every grid with uploaded polygons; each finds its community by location.

    Args:
        draft: The current draft (its grids are all dropped).
        new: ``code``, ``name``, polygon ``geometry`` in the draft's CRS.
        parents: The scope's communities (``code``, ``geometry``).
    """
    codes = list(new["code"])
    if len(set(codes)) != len(codes):
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        raise InvalidInput("plan_code_taken", code="、".join(dupes))
    points = shapely.point_on_surface(new.geometry.to_numpy())
    rows = []
    for code, name, geom, point in zip(
        codes, new["name"], new.geometry, points, strict=True
    ):
        inside = parents[parents.contains(point)]
        if inside.empty:
            raise InvalidInput("plan_grid_outside", code=code)
        rows.append(
            {
                "code": code,
                "name": name,
                "parent_code": inside["code"].iloc[0],
                "geometry": geom,
            }
        )
    return _with(draft, list(draft["code"]), rows)


def split_grid(
    draft: gpd.GeoDataFrame,
    code: str,
    line: shapely.LineString,
    *,
    new: tuple[tuple[str, str], tuple[str, str]],
) -> gpd.GeoDataFrame:
    """Split a grid in two along a drawn line (one end outside the grid to the other).

    Args:
        draft: The current draft.
        code: The grid to split.
        line: The dividing line, in the draft's CRS.
        new: (code, name) of the two halves; the half holding the more
            northern / western part gets the first.
    """
    i = _row(draft, code)
    grid = draft.geometry.iloc[i]
    pieces = list(split_polygon(grid, line).geoms)
    if len(pieces) != 2:
        raise InvalidInput("plan_split_line", code=code, n=len(pieces))
    for half_code, _ in new:
        if half_code != code:
            _free(draft, half_code)
    # North first, then west: the halves get their codes the same way every time.
    pieces.sort(key=lambda p: (-p.centroid.y, p.centroid.x))
    parent = draft["parent_code"].iloc[i]
    rows = [
        {"code": c, "name": n, "parent_code": parent, "geometry": p}
        for (c, n), p in zip(new, pieces, strict=True)
    ]
    return _with(draft, [code], rows)


def merge_grids(
    draft: gpd.GeoDataFrame, codes: Sequence[str], *, code: str, name: str
) -> gpd.GeoDataFrame:
    """Merge grids of one community that touch into one grid."""
    rows = [_row(draft, c) for c in codes]
    if len(rows) < 2:
        raise InvalidInput("plan_merge_few")
    parents = set(draft["parent_code"].iloc[rows])
    if len(parents) > 1:
        raise InvalidInput("plan_merge_parents", codes="、".join(codes))
    merged = shapely.union_all(draft.geometry.iloc[rows].to_numpy(), grid_size=None)
    merged = _clean(merged)
    if merged.geom_type != "Polygon":
        raise InvalidInput("plan_not_contiguous", code="、".join(codes))
    if code not in codes:
        _free(draft, code)
    row = {"code": code, "name": name, "parent_code": parents.pop(), "geometry": merged}
    return _with(draft, list(codes), [row])


def move_buildings(
    draft: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    codes: Sequence[str],
    *,
    to: str,
) -> gpd.GeoDataFrame:
    """Move chosen buildings into a neighbouring grid; the boundary follows them.

    The land handed over is each moved building's cell: within its source
    grid, the part nearer to its footprint than to any other building's
    (:func:`~geogrid.spatial.cells.cell_graph`), so the new edge runs midway
    between neighbours and never through a building, as a planner would draw
    it. Contiguity is decided on that land: each building's cell must border
    the receiving grid, directly or through other moved cells.

    Args:
        draft: The current draft.
        buildings: ``code``, ``geometry`` of the scope's buildings, draft CRS.
        codes: The buildings to move.
        to: The grid that receives them.

    Raises:
        InvalidInput: ``plan_move_not_adjacent`` naming the first building
            whose land does not reach ``to``, how far it is, and a building
            nearer the edge that could move with it.
    """
    target = _row(draft, to)
    wanted = buildings["code"].isin(list(codes)).to_numpy()
    missing = sorted(set(codes) - set(buildings["code"][wanted]))
    if missing:
        raise NotFound("building_not_found", code="、".join(missing))
    points = shapely.point_on_surface(buildings.geometry.to_numpy())
    receiving = draft.geometry.iloc[target]
    out = draft.copy()
    handed: list[tuple[BaseGeometry, list[str]]] = []
    edge_cells: list[tuple[BaseGeometry, str]] = []
    for i, grid in enumerate(draft.geometry):
        if i == target:
            continue
        inside = np.flatnonzero(shapely.within(points, grid))
        moved_here = inside[wanted[inside]]
        if not len(moved_here):
            continue
        names = list(buildings["code"].to_numpy()[moved_here])
        if len(moved_here) == len(inside):  # every building leaves: so does the grid
            handed.append((grid, names))
            out.loc[out.index[i], "geometry"] = shapely.Polygon()
            continue
        graph = cell_graph(
            grid,
            buildings.geometry.to_numpy()[inside],
            np.zeros(len(inside), dtype=np.int64),
        )
        node = graph.node_of
        moving = np.isin(inside, moved_here)
        for k in np.flatnonzero(moving):
            handed.append((graph.cells[node[k]], [buildings["code"].iloc[inside[k]]]))
        for k in np.flatnonzero(~moving & (node >= 0)):
            edge_cells.append((graph.cells[node[k]], buildings["code"].iloc[inside[k]]))
        land = shapely.union_all(graph.cells[np.unique(node[moving & (node >= 0)])])
        # On a 1 mm grid: cells end a hair off the outline they were cut to,
        # and an exact overlay would keep that hair as a gap or a sliver.
        remaining = shapely.difference(grid, land, grid_size=SNAP_M)
        out.loc[out.index[i], "geometry"] = _clean(remaining)
    if not handed:
        raise InvalidInput("plan_move_nothing", code=to)
    _check_reaches(receiving, handed, edge_cells, to)
    grown = _clean(
        shapely.union_all([receiving, *(land for land, _ in handed)], grid_size=SNAP_M)
    )
    if grown.geom_type != "Polygon":
        raise InvalidInput("plan_not_contiguous", code=to)
    out.loc[out.index[target], "geometry"] = grown
    emptied = shapely.is_empty(out.geometry.to_numpy())
    return out[~emptied].reset_index(drop=True)


_TOUCH_M = 0.05  # land sharing less edge than this only meets at a corner


def _check_reaches(
    receiving: BaseGeometry,
    handed: list[tuple[BaseGeometry, list[str]]],
    staying: list[tuple[BaseGeometry, str]],
    to: str,
) -> None:
    """Every handed cell must border the receiving grid, itself or through others."""

    def borders(a: BaseGeometry, b: BaseGeometry) -> bool:
        return bool(
            shapely.length(shapely.intersection(a.boundary, b.buffer(SNAP_M)))
            > _TOUCH_M
        )

    reached = receiving
    pending = list(handed)
    while pending:
        touching = [h for h in pending if borders(h[0], reached)]
        if not touching:
            break
        reached = shapely.union_all([reached, *(land for land, _ in touching)])
        pending = [h for h in pending if not any(h is t for t in touching)]
    if not pending:
        return
    land, names = pending[0]
    gap = shapely.distance(land, receiving)
    bridge = min(
        (
            (shapely.distance(cell, land), code)
            for cell, code in staying
            if borders(cell, receiving)
        ),
        default=(0.0, ""),
    )[1]
    raise InvalidInput(
        "plan_move_not_adjacent",
        building=names[0],
        grid=to,
        distance_m=round(float(gap), 1),
        bridge=bridge or "-",
    )


def rename_grid(draft: gpd.GeoDataFrame, code: str, *, name: str) -> gpd.GeoDataFrame:
    """Give a grid a new name."""
    out = draft.copy()
    out.loc[out.index[_row(draft, code)], "name"] = name
    return out


def renumber_grid(draft: gpd.GeoDataFrame, code: str, *, to: str) -> gpd.GeoDataFrame:
    """Give a grid a new code."""
    i = _row(draft, code)
    _free(draft, to)
    out = draft.copy()
    out.loc[out.index[i], "code"] = to
    return out.sort_values("code", ignore_index=True)


def knit_edges(
    before: gpd.GeoSeries,
    after: gpd.GeoDataFrame,
    changed: np.ndarray,
    tolerance: float,
) -> gpd.GeoDataFrame:
    """Make reshaped grids and their neighbours share edges vertex for vertex (拓扑一致).

    An edit computed in a metric CRS comes back with every coordinate a few
    nanodegrees off, and a split line adds a vertex where it meets the grid's
    outline that the neighbour beyond lacks. The coverage check then reports
    the untouched neighbours' edges as ``edge_mismatch``. So each reshaped
    grid takes back the draft's own vertices within ``tolerance``, and every
    grid near a reshaped one takes in its new vertices: the shared edge is
    then written into both sides, as a topological editor would.

    Args:
        before: The draft's grids before the edit (their exact coordinates).
        after: The grids after the edit, same CRS.
        changed: Mask over ``after`` of the grids the edit reshaped.
        tolerance: How far a vertex may move, in the CRS's units (≈ 1 cm).

    Returns:
        ``after`` with knitted geometries; a grid whose snapped geometry would
        be invalid keeps its own.
    """
    geoms = after.geometry.to_numpy().copy()
    reshaped = np.flatnonzero(changed)
    if not len(reshaped) or not len(geoms):
        return after
    original = shapely.MultiPoint(shapely.get_coordinates(before.to_numpy()))
    for i in reshaped:
        geoms[i] = _snapped(geoms[i], original, tolerance)
    near = shapely.STRtree(geoms).query(
        geoms[reshaped], predicate="dwithin", distance=tolerance
    )
    for k, j in zip(*near, strict=True):
        i = reshaped[k]
        if i != j:
            vertices = shapely.MultiPoint(shapely.get_coordinates(geoms[i]))
            geoms[j] = _snapped(geoms[j], vertices, tolerance)
    return after.set_geometry(gpd.GeoSeries(geoms, index=after.index, crs=after.crs))


def _snapped(
    geom: BaseGeometry, vertices: BaseGeometry, tolerance: float
) -> BaseGeometry:
    """``geom`` with ``vertices`` within ``tolerance`` snapped onto or inserted into it."""
    out = shapely.snap(geom, vertices, tolerance)
    # Snapping moves the outline by at most the tolerance: more area change
    # than that strip means GEOS folded something, so keep the grid as it was.
    moved = abs(out.area - geom.area)
    if not shapely.is_valid(out) or moved > tolerance * geom.length:
        return geom
    return out


def _clean(geom: BaseGeometry) -> BaseGeometry:
    """Drop the hairline slivers floating-point overlay leaves (under 1 cm²)."""
    parts = [p for p in shapely.get_parts(shapely.make_valid(geom)) if p.area > 1e-4]
    parts = [p for p in parts if p.geom_type == "Polygon"]
    if not parts:
        return shapely.Polygon()
    merged = shapely.union_all(parts)
    if isinstance(merged, shapely.MultiPolygon) and len(merged.geoms) == 1:
        return merged.geoms[0]
    return merged


def impact(
    old: gpd.GeoDataFrame,
    new: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    holders: pd.DataFrame,
    grid_roles: Sequence[tuple[str, str]],
    *,
    rule: Any,
) -> DraftChanges:
    """What a draft changes against the current grids (影响分析).

    Args:
        old: The current grids (``code``, ``name``, ``geometry``).
        new: The draft's grids, likewise.
        buildings: ``code``, ``name``, ``households``, ``addresses``, geometry.
        holders: current assignments: ``person_code``, ``name``, ``role``,
            ``title``, ``target_level``, ``target_code``.
        grid_roles: (key, title) of the roles a grid must have.
        rule: the building rule (a :class:`~geogrid.spatial.assign.BuildingRule`).
    """
    before = assign_buildings(buildings, old[["code", "geometry"]], rule=rule)[
        "grid_code"
    ]
    after = assign_buildings(buildings, new[["code", "geometry"]], rule=rule)[
        "grid_code"
    ]
    moved = buildings.assign(from_grid=before.to_numpy(), to_grid=after.to_numpy())
    moved = moved[moved["from_grid"].fillna("") != moved["to_grid"].fillna("")]
    old_by, new_by = old.set_index("code"), new.set_index("code")
    added = sorted(set(new_by.index) - set(old_by.index))
    removed = sorted(set(old_by.index) - set(new_by.index))
    # A neighbour that only took in the vertex of a new shared edge has not
    # changed for a planner: compare land, not vertex lists.
    changed = sorted(
        c
        for c in set(old_by.index) & set(new_by.index)
        if old_by.at[c, "name"] != new_by.at[c, "name"]
        or shapely.area(
            shapely.symmetric_difference(
                old_by.at[c, "geometry"], new_by.at[c, "geometry"]
            )
        )
        > CHANGED_M2
    )

    def households(assigned: pd.Series) -> dict[str, int]:
        sums = buildings["households"].groupby(assigned.to_numpy()).sum()
        return {str(k): int(v) for k, v in sums.items()}

    grid_holders = holders[holders["target_level"] == "grid"]
    building_holders = holders[holders["target_level"] == "building"]
    moved_codes = set(moved["code"])

    def refs(rows: pd.DataFrame) -> list[HolderRef]:
        keys = ["person_code", "name", "title", "target_code"]
        return [HolderRef.model_validate(r) for r in rows[keys].to_dict("records")]

    return DraftChanges(
        grids=GridChanges(added=added, removed=removed, changed=changed),
        households=HouseholdCounts(before=households(before), after=households(after)),
        moves=[
            BuildingMove(
                building=r.code,
                name=_text_or_none(r.name),
                from_grid=_text_or_none(r.from_grid),
                to_grid=_text_or_none(r.to_grid),
                households=int(r.households),
                addresses=int(r.addresses),
            )
            for r in moved.itertuples()
        ],
        people=PeopleImpact(
            left_without_grid=refs(
                grid_holders[grid_holders["target_code"].isin(removed)]
            ),
            new_grids_missing=[
                MissingRole(grid=code, title=title)
                for code in added
                for key, title in grid_roles
                if grid_holders[
                    (grid_holders["target_code"] == code)
                    & (grid_holders["role"] == key)
                ].empty
            ],
            building_changed_grid=refs(
                building_holders[building_holders["target_code"].isin(moved_codes)]
            ),
        ),
    )


def _text_or_none(value: object) -> str | None:
    """A frame cell as text, None where the frame holds NaN (a building with no grid)."""
    return None if pd.isna(value) else str(value)
