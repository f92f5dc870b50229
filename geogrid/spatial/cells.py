"""Building cells (楼栋单元格): an area tiled by its buildings, as a graph.

A grid (网格) proposal is a grouping of buildings (楼栋), but the grid it
draws must cover the whole area. Giving each building the part of the area
nearest to it (its Voronoi cell) turns any grouping into a tiling with no gap
and no overlap, and a group of cells that share edges into one polygon.

Why footprints, not points: cells of the buildings' inner points put an edge
on the bisector of two points, which cuts a long block whenever a small house
stands off its end, and the coverage checks then report the block as split.
Each footprint's outline is sampled every ``spacing_m`` and a building's site
cells are merged, which approximates the Voronoi diagram of the footprints:
edges run between buildings. Where buildings stand closer than the sampling
can resolve, each still claims its whole footprint from its neighbours' cells.
The inner point is a site too, so it always lies in its own building's cell.

Why faces: lanes (弄巷) or roads that cut the area through split it into faces
first and cells are cut along them, so a grid edge can run exactly on the lane
rather than weave across it, and an edge between two faces is known to cross
one. A lane that ends inside a face cuts nothing and is ignored: it is one
unit of door-to-door work, better inside one grid than along a grid edge.

Why loose pieces are nodes: a cell cut by a lane or by a bend of the outline
can fall apart. The pieces away from the building become nodes without
households, so every bit of the area belongs to a node and adjacency follows
the area itself. Slivers that a lane drawn along the outline cuts off are
merged into their neighbour instead.

Shared edges come from matching the pieces' segments, which one Voronoi
diagram makes identical on both sides; where lanes or claims cut the cells
the two sides differ, and the length of one outline within 1 mm of the other
piece is measured instead.
"""

from dataclasses import dataclass

import numpy as np

import shapely
from shapely.geometry.base import BaseGeometry

_EPS_M = 1e-3  # how near two boundaries must run to count as shared
_MIN_SHARED_M = 0.05  # shorter contacts (corners, slivers) do not connect cells
_SITE_GRID_M = 1e-3  # sites closer than this are one site (shared walls)
_REACH_M = 0.5  # lanes reach this much further: drawn to an edge, they meet it
_SLIVER_WIDTH_M = 0.05  # pieces thinner on average than this are slivers
_Array = np.ndarray


@dataclass(frozen=True)
class CellGraph:
    """Nodes tiling an area, with their adjacency (单元格邻接图).

    Attributes:
        cells: Node polygons, in the area's metric CRS.
        xy: One point per node: the inner point of its first building, else
            the piece's own inner point; shape ``(n, 2)``.
        households: Households per node (0 for pieces without a building).
        area_m2: Area per node.
        perimeter_m: Perimeter per node.
        edges: Pairs ``(i, j)`` with ``i < j`` of nodes sharing an edge.
        shared_m: Length of each pair's shared edge.
        face: Face of each node: lanes crossing the area through cut it
            into faces, and a pair in two faces lies on both sides of one.
        node_of: Node of each input building, -1 when outside the area.
    """

    cells: _Array
    xy: _Array
    households: _Array
    area_m2: _Array
    perimeter_m: _Array
    edges: _Array
    shared_m: _Array
    face: _Array
    node_of: _Array

    @classmethod
    def empty(cls, n_buildings: int) -> "CellGraph":
        """A graph of no nodes: ``n_buildings`` buildings, all outside."""
        none = np.zeros(0)
        return cls(
            cells=np.empty(0, dtype=object),
            xy=np.zeros((0, 2)),
            households=np.zeros(0, dtype=np.int64),
            area_m2=none,
            perimeter_m=none,
            edges=np.zeros((0, 2), dtype=np.int64),
            shared_m=none,
            face=np.zeros(0, dtype=np.int64),
            node_of=np.full(n_buildings, -1),
        )

    @property
    def crosses_through(self) -> _Array:
        """Whether each edge crosses a lane that cuts the area through."""
        return self.face[self.edges[:, 0]] != self.face[self.edges[:, 1]]

    def components(self, *, within_faces: bool = False) -> list[_Array]:
        """Sorted nodes of each connected part of the graph.

        With ``within_faces``, edges across a through lane do not connect.
        """
        edges = self.edges[~self.crosses_through] if within_faces else self.edges
        return components(len(self.households), edges)

    def subgraph(self, nodes: _Array) -> "CellGraph":
        """The graph on ``nodes`` (sorted positions), renumbered from 0."""
        position = np.full(len(self.households), -1)
        position[nodes] = np.arange(len(nodes))
        keep = (position[self.edges[:, 0]] >= 0) & (position[self.edges[:, 1]] >= 0)
        return CellGraph(
            cells=self.cells[nodes],
            xy=self.xy[nodes],
            households=self.households[nodes],
            area_m2=self.area_m2[nodes],
            perimeter_m=self.perimeter_m[nodes],
            edges=position[self.edges[keep]],
            shared_m=self.shared_m[keep],
            face=self.face[nodes],
            node_of=np.where(self.node_of >= 0, position[self.node_of], -1),
        )


def components(n: int, edges: _Array) -> list[_Array]:
    """Sorted nodes of each connected part of a graph of ``n`` nodes.

    Examples:
        >>> [part.tolist() for part in components(5, np.array([[0, 3], [1, 4]]))]
        [[0, 3], [1, 4], [2]]
    """
    nbrs: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges.tolist():
        nbrs[a].append(b)
        nbrs[b].append(a)
    seen = np.zeros(n, dtype=bool)
    parts = []
    for start in range(n):  # a walk over the graph, visiting each node once
        if seen[start]:
            continue
        seen[start] = True
        stack, members = [start], [start]
        while stack:
            for u in nbrs[stack.pop()]:
                if not seen[u]:
                    seen[u] = True
                    stack.append(u)
                    members.append(u)
        parts.append(np.sort(np.array(members)))
    return parts


def cell_graph(
    area: BaseGeometry,
    footprints: _Array,
    households: _Array,
    *,
    lanes: _Array | None = None,
    spacing_m: float = 10.0,
) -> CellGraph:
    """Tile an area with building cells and find which cells touch.

    Args:
        area: (Multi)polygon to tile, in a metric CRS.
        footprints: Building polygons in the same CRS.
        households: Households per building.
        lanes: Lane or road lines in the same CRS, or None; those that cross
            the area through cut it into faces.
        spacing_m: Distance between the sites sampled on each outline.

    Returns:
        The graph; nodes tile ``area`` exactly (up to floating point).

    Examples:
        >>> from shapely import box
        >>> graph = cell_graph(box(0, 0, 100, 50),
        ...     np.array([box(10, 10, 30, 40), box(70, 10, 90, 40)]), np.array([3, 4]))
        >>> graph.households.tolist(), graph.edges.tolist(), graph.shared_m.round(3).tolist()
        ([3, 4], [[0, 1]], [50.0])
    """
    faces = _faces(area, _lines(lanes))
    inner = shapely.point_on_surface(footprints)
    home = _home_face(faces, inner)
    xy, owner = _sites(footprints, inner, home, faces, spacing_m)
    if len(xy) == 0:  # no building: the faces themselves are the nodes
        cells = faces
    else:
        cells = _building_cells(xy, owner, len(footprints), area)
        cells = _claim_footprints(cells, footprints)
    pieces, piece_owner, piece_face = _merge_slivers(*_pieces(cells, faces))
    node_of = _node_of(pieces, piece_owner, inner, home)
    weights = np.zeros(len(pieces), dtype=np.int64)
    placed = node_of >= 0
    np.add.at(weights, node_of[placed], np.asarray(households, dtype=np.int64)[placed])
    points = shapely.get_coordinates(shapely.point_on_surface(pieces))
    # A node holding buildings stands at its first building: seeds and
    # distances should see where the homes are, not the middle of the cell.
    first = np.flatnonzero(placed)[::-1]
    points[node_of[first]] = shapely.get_coordinates(inner[first])
    edges, shared = _adjacency(pieces, area)
    return CellGraph(
        cells=pieces,
        xy=points,
        households=weights,
        area_m2=shapely.area(pieces),
        perimeter_m=shapely.length(pieces),
        edges=edges,
        shared_m=shared,
        face=piece_face,
        node_of=node_of,
    )


def _lines(lanes: _Array | None) -> _Array:
    if lanes is None or len(lanes) == 0:
        return np.empty(0, dtype=object)
    parts = shapely.get_parts(np.asarray(lanes, dtype=object))
    return parts[np.isin(shapely.get_type_id(parts), (1, 2))]


def _faces(area: BaseGeometry, lines: _Array) -> _Array:
    """The area cut by the lanes that cross it through (lanes that end inside cut nothing)."""
    parts = shapely.get_parts(area)
    lines = lines[shapely.intersects(lines, area)] if len(lines) else lines
    if len(lines) == 0:
        return parts
    # Whole lanes, a little longer: a lane clipped to the area, or drawn to
    # end on its edge, ends a hair inside it and would never be noded to it.
    noded = shapely.union_all([*_extend(lines, _REACH_M), shapely.boundary(area)])
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    # polygonize also fills holes and closes rings outside; keep faces inside.
    faces = faces[shapely.contains_properly(area, shapely.point_on_surface(faces))]
    if abs(shapely.area(faces).sum() - area.area) > 1e-9 * area.area:
        return parts  # noding lost something: the lanes do not cut
    # Noding order follows the lanes' order; sorting makes it not matter.
    xy = shapely.get_coordinates(shapely.point_on_surface(faces))
    return faces[np.lexsort((xy[:, 1], xy[:, 0]))]


def _extend(lines: _Array, reach_m: float) -> _Array:
    """Lines lengthened by ``reach_m`` at both ends, along their end segments."""
    xy, which = shapely.get_coordinates(lines, return_index=True)
    first = np.flatnonzero(np.r_[True, which[1:] != which[:-1]])
    last = np.r_[first[1:] - 1, len(which) - 1]
    for end, inner in ((first, first + 1), (last, last - 1)):
        step = xy[end] - xy[inner]
        norm = np.hypot(*step.T)
        xy[end] += step * (reach_m / np.where(norm > 0, norm, np.inf))[:, None]
    return np.asarray(shapely.linestrings(xy, indices=which), dtype=object)


def _merge_slivers(pieces: _Array, *labels: _Array) -> tuple[_Array, ...]:
    """Join pieces thinner than a wall to the neighbour they share most edge with.

    A lane drawn along the outline, or two lanes drawn on top of each other,
    cut slivers a micrometre wide; as nodes they would bridge cells that do
    not really touch. ``labels`` (owner, face) follow the kept pieces.
    """
    thin = np.flatnonzero(
        shapely.area(pieces) < _SLIVER_WIDTH_M * shapely.length(pieces)
    )
    if len(thin) == 0 or len(thin) == len(pieces):
        return (pieces, *labels)
    wide = np.setdiff1d(np.arange(len(pieces)), thin)
    sliver, other = shapely.STRtree(pieces[wide]).query(
        pieces[thin], predicate="dwithin", distance=_EPS_M
    )
    near = shapely.buffer(pieces[wide[other]], _EPS_M, quad_segs=1)
    shared = shapely.length(
        shapely.intersection(shapely.boundary(pieces[thin[sliver]]), near)
    )
    order = np.lexsort((-shared, sliver))
    sliver, other = sliver[order], other[order]
    first = np.unique(sliver, return_index=True)[1]
    merged = pieces.copy()
    for target in np.unique(wide[other[first]]):  # a few slivers, not the features
        joining = thin[sliver[first][wide[other[first]] == target]]
        merged[target] = shapely.union_all([pieces[target], *pieces[joining]])
    keep = np.setdiff1d(np.arange(len(pieces)), thin[sliver[first]])
    return (merged[keep], *(label[keep] for label in labels))


def _home_face(faces: _Array, inner: _Array) -> _Array:
    """Face of each inner point (-1 outside): the first face that holds it."""
    home = np.full(len(inner), -1)
    point, face = shapely.STRtree(faces).query(inner, predicate="intersects")
    order = np.lexsort((face, point))
    point, face = point[order], face[order]
    first = np.unique(point, return_index=True)[1]
    home[point[first]] = face[first]
    return home


def _sites(
    footprints: _Array, inner: _Array, home: _Array, faces: _Array, spacing_m: float
) -> tuple[_Array, _Array]:
    """Voronoi sites: inner points, then outline samples in the building's face."""
    placed = np.flatnonzero(home >= 0)
    outline = shapely.segmentize(shapely.boundary(footprints[placed]), spacing_m)
    xy, which = shapely.get_coordinates(outline, return_index=True)
    owner = placed[which]
    # Samples across a lane or outside the area would give the building a
    # cell on the wrong side: keep only those strictly in its own face.
    site, face = shapely.STRtree(faces).query(shapely.points(xy), predicate="within")
    keep = site[face == home[owner[site]]]
    xy = np.concatenate([shapely.get_coordinates(inner[placed]), xy[keep]])
    owner = np.concatenate([placed, owner[keep]])
    # Inner points come first, so a shared site goes to a building's inner
    # point before anyone's outline.
    _, first = np.unique(np.round(xy / _SITE_GRID_M), axis=0, return_index=True)
    first.sort()
    return xy[first], owner[first]


def _building_cells(xy: _Array, owner: _Array, n: int, area: BaseGeometry) -> _Array:
    """One cell per building: the union of its sites' Voronoi cells."""
    cells = np.full(n, None, dtype=object)
    if len(xy) == 0:
        return cells
    x0, y0, x1, y1 = shapely.bounds(area)
    # Cells are cut to the area later; they need only reach well past it.
    frame = shapely.box(x0, y0, x1, y1).buffer(max(x1 - x0, y1 - y0) + 1.0)
    if len(xy) == 1:
        cells[owner[0]] = frame
        return cells
    diagram = shapely.voronoi_polygons(
        shapely.multipoints(xy), extend_to=frame, ordered=True
    )
    # Sites' cells share exact edges: a coverage union merges them cheaply.
    return _union_by(shapely.get_parts(diagram), owner, n, coverage=True)


def _claim_footprints(cells: _Array, footprints: _Array) -> _Array:
    """Give each building its whole footprint: sampled sites only approximate it.

    Between two samples a neighbour's cell can reach a metre into a footprint
    when buildings stand close. Footprints not covered by their own cell are
    cut out of the cells they reach into and added to their own. Claims are
    made disjoint first (overlapping footprints claim neither's share), so
    the cells still tile the same area.
    """
    present = shapely.is_geometry(cells)
    bad = np.flatnonzero(present & ~shapely.covers(cells, footprints))
    if len(bad) == 0:
        return cells
    cells = cells.copy()
    claims = footprints[bad].copy()
    claim, other = shapely.STRtree(footprints).query(claims, predicate="intersects")
    keep = other != bad[claim]
    if keep.any():
        rivals = _union_by(footprints[other[keep]], claim[keep], len(claims))
        mine = shapely.is_geometry(rivals)
        claims[mine] = shapely.difference(claims[mine], rivals[mine])
    claim, cell = shapely.STRtree(cells).query(claims, predicate="intersects")
    keep = cell != bad[claim]
    taken = _union_by(claims[claim[keep]], cell[keep], len(cells))
    lose = shapely.is_geometry(taken)
    cells[lose] = shapely.difference(cells[lose], taken[lose])
    cells[bad] = shapely.union(cells[bad], claims)
    return cells


def _union_by(
    geoms: _Array, group: _Array, n: int, *, coverage: bool = False
) -> _Array:
    """Union of the geometries of each group 0..n-1 (None for empty groups).

    The groups are padded into the rows of a 2-D array, so one vectorised
    call does every union. ``coverage``: the geometries of a group share
    exact edges and never overlap, so the faster coverage union will do.
    """
    out = np.full(n, None, dtype=object)
    if len(geoms) == 0:
        return out
    order = np.argsort(group, kind="stable")
    rows = group[order]
    column = np.arange(len(order)) - np.searchsorted(rows, rows, side="left")
    table = np.full((n, column.max() + 1), None, dtype=object)
    table[rows, column] = geoms[order]
    has = np.unique(group)
    union = shapely.coverage_union_all if coverage else shapely.union_all
    out[has] = union(table[has], axis=1)
    return out


def _pieces(cells: _Array, faces: _Array) -> tuple[_Array, _Array, _Array]:
    """Cells cut by the faces into single polygons, with their building and face."""
    present = np.flatnonzero(shapely.is_geometry(cells))
    cell, face = shapely.STRtree(faces).query(cells[present], predicate="intersects")
    cut = shapely.intersection(cells[present[cell]], faces[face])
    parts, which = shapely.get_parts(cut, return_index=True)
    keep = (shapely.get_type_id(parts) == 3) & (shapely.area(parts) > 0)
    return parts[keep], present[cell[which[keep]]], face[which[keep]]


def _node_of(
    pieces: _Array, piece_owner: _Array, inner: _Array, home: _Array
) -> _Array:
    """The piece holding each building's inner point, its own piece first."""
    node_of = np.full(len(inner), -1)
    placed = np.flatnonzero(home >= 0)
    point, piece = shapely.STRtree(pieces).query(inner[placed], predicate="intersects")
    building = placed[point]
    foreign = piece_owner[piece] != building
    order = np.lexsort((piece, foreign, building))
    building, piece = building[order], piece[order]
    first = np.unique(building, return_index=True)[1]
    node_of[building[first]] = piece[first]
    return node_of


def _adjacency(pieces: _Array, outline: BaseGeometry) -> tuple[_Array, _Array]:
    """Pairs of pieces sharing an edge, and the edge's length.

    Cells of one Voronoi diagram match vertex for vertex along shared edges,
    so most pairs come from matching segments in one sort. Cuts along lanes
    put different vertices on the two sides: the pieces with an unmatched
    segment off the area's outline are measured geometrically instead.
    """
    rings, owner = shapely.get_rings(pieces, return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[:-1] == ring[1:]
    a, b, piece = xy[:-1][same], xy[1:][same], owner[ring[:-1][same]]
    ka = np.round(a / _SITE_GRID_M).astype(np.int64)
    kb = np.round(b / _SITE_GRID_M).astype(np.int64)
    swap = (ka[:, 0] > kb[:, 0]) | ((ka[:, 0] == kb[:, 0]) & (ka[:, 1] > kb[:, 1]))
    key = np.where(swap[:, None], np.hstack([kb, ka]), np.hstack([ka, kb]))
    _, group, count = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    group = group.ravel()
    paired = np.flatnonzero(count[group] == 2)
    paired = paired[np.argsort(group[paired], kind="stable")]
    length = np.hypot(*(b[paired] - a[paired]).T)[::2]
    i, j = piece[paired[::2]], piece[paired[1::2]]
    pairs = np.column_stack([np.minimum(i, j), np.maximum(i, j)])
    loose = np.flatnonzero(count[group] != 2)
    middle = shapely.points((a[loose] + b[loose]) / 2)
    inner = ~shapely.dwithin(shapely.boundary(outline), middle, _EPS_M)
    suspects = np.unique(piece[loose[inner]])
    # An unmatched edge has a suspect on both sides: pairs of two suspects
    # are measured geometrically, which sees their whole shared edge.
    mixed = ~(np.isin(pairs[:, 0], suspects) & np.isin(pairs[:, 1], suspects))
    pair, inverse = np.unique(pairs[mixed], axis=0, return_inverse=True)
    shared = np.bincount(inverse.ravel(), length[mixed], len(pair))
    if len(suspects) > 1:
        near, near_length = _adjacency_near(pieces[suspects])
        pair = np.concatenate([pair.reshape(-1, 2), suspects[near]])
        shared = np.concatenate([shared, near_length])
    keep = (shared >= _MIN_SHARED_M) & (pair[:, 0] != pair[:, 1])
    return pair[keep].astype(np.int64), shared[keep]


def _adjacency_near(pieces: _Array) -> tuple[_Array, _Array]:
    """Shared edges as the length of one outline within 1 mm of the other piece."""
    i, j = shapely.STRtree(pieces).query(pieces, predicate="dwithin", distance=_EPS_M)
    keep = i < j
    i, j = i[keep], j[keep]
    near = shapely.buffer(pieces, _EPS_M, quad_segs=1)
    shared = shapely.length(shapely.intersection(shapely.boundary(pieces[i]), near[j]))
    keep = shared >= _MIN_SHARED_M
    return np.column_stack([i[keep], j[keep]]).astype(np.int64), shared[keep]
