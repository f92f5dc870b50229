"""Regions of a cell graph and the moves that improve them (区域调整).

The search of :mod:`geogrid.spatial.partition` works node by node, so the
graph is held as Python lists and each region's households, area and
perimeter are kept exact move by move: a region's perimeter is the sum of
its cells' perimeters less twice their shared edges, so a move costs only a
look at the moved cell's neighbours, never a geometry operation.

The cost of a region, lower is better, puts the band first (households
outside it), then a lane crossed (the length of through-lane edges inside
the region, against the region's size), then the distance from the band's
middle and compactness (Polsby-Popper 4πA/P²). Crossing is priced rather
than forbidden, so a grid still crosses a lane when the band leaves no other
way.

Two kinds of single-node move live here (recombination of whole regions is
in :mod:`geogrid.spatial.recombination`):

- **descent**: each boundary node takes its best improving move; fast, but
  stops at the first local optimum;
- **annealing**: random boundary moves, worse ones accepted with a chance
  that falls with the temperature, to get out of that optimum.

No move may cut a region in two or empty it.
"""

import heapq
import math

import numpy as np

from geogrid.spatial.cells import CellGraph

LANE_COST = 4.0
"""Distance multiplier, in growth and splits, for an edge across a through lane."""

_W_BAND = 100.0  # per target's worth of households outside the band
_W_ACROSS = 1.0  # per lane length inside a region, against its equal-area circle
_W_TARGET = 0.5  # per squared relative distance from the target
_W_COMPACT = 1.0  # per unit of Polsby-Popper
_SWEEPS = 60
_T_START = 0.02  # annealing temperatures, in units of Polsby-Popper
_T_END = 0.0005
_NONE = (0.0, 0.0)
_Array = np.ndarray
_Stats = tuple[float, float, float, float]  # households, area, perimeter, across


class Links:
    """The cell graph as Python lists, for the node-by-node loops.

    ``nbrs[v]`` lists ``(u, growth cost, shared length, length across a
    through lane)``; the last is the shared length or 0.
    """

    def __init__(self, graph: CellGraph) -> None:
        n = len(graph.households)
        first, second = graph.edges[:, 0], graph.edges[:, 1]
        through = graph.crosses_through
        length = np.hypot(*(graph.xy[first] - graph.xy[second]).T)
        cost = length * np.where(through, LANE_COST, 1.0)
        across = np.where(through, graph.shared_m, 0.0)
        self.nbrs: list[list[tuple[int, float, float, float]]] = [[] for _ in range(n)]
        for a, b, c, e, x in zip(
            first.tolist(),
            second.tolist(),
            cost.tolist(),
            graph.shared_m.tolist(),
            across.tolist(),
            strict=True,
        ):
            self.nbrs[a].append((b, c, e, x))
            self.nbrs[b].append((a, c, e, x))
        self.perimeter = graph.perimeter_m.tolist()
        self.weight = graph.households.tolist()
        self.area = graph.area_m2.tolist()
        self.xy = graph.xy
        self.edges = graph.edges


def shortest(
    links: Links,
    sources: list[int],
    starts: list[float],
    inside: list[bool] | None = None,
) -> tuple[list[int], list[float]]:
    """Multi-source shortest paths: the source (by position) and distance per node.

    Each source starts at its own distance (a head start) and keeps its own
    node; other nodes join the source that reaches them first, through a
    neighbour that joined it before, so each source's nodes are connected.
    ``inside`` limits the search.

    Returns:
        Source position per node (-1 unreached) and its distance.
    """
    n = len(links.nbrs)
    label = [-1] * n
    dist = [math.inf] * n
    nbrs = links.nbrs
    heap: list[tuple[float, int, int]] = []
    for r, s in enumerate(sources):  # a source is its own, however late it starts
        label[s], dist[s] = r, starts[r]
    for r, s in enumerate(sources):
        heap.extend(
            (starts[r] + c, r, u)
            for u, c, _, _ in nbrs[s]
            if label[u] < 0 and (inside is None or inside[u])
        )
    heapq.heapify(heap)
    while heap:
        d, r, v = heapq.heappop(heap)
        if label[v] >= 0:
            continue
        label[v] = r
        dist[v] = d
        for u, c, _, _ in nbrs[v]:
            nd = d + c
            if label[u] < 0 and nd < dist[u] and (inside is None or inside[u]):
                dist[u] = nd
                heapq.heappush(heap, (nd, r, u))
    return label, dist


def region_cost(band: tuple[int, int], h: float, a: float, p: float, x: float) -> float:
    """Cost of a region; lower is better.

    Args:
        band: Lowest and highest households.
        h: Households.
        a: Area in square metres.
        p: Perimeter in metres.
        x: Metres of through-lane edges inside the region.

    Returns:
        Households outside the band (per target's worth) first, then lanes
        crossed, the gap to the target and Polsby-Popper, as one number.

    Examples:
        >>> round(region_cost((300, 500), 400, 10_000.0, 400.0, 0.0), 4)  # a square
        -0.7854
    """
    target = (band[0] + band[1]) / 2
    outside = max(band[0] - h, 0.0) + max(h - band[1], 0.0)
    pp = 4.0 * math.pi * a / (p * p) if p > 0 else 0.0
    across = x / (2.0 * math.sqrt(math.pi * a)) if a > 0 else 0.0
    gap = (h - target) / target
    return (
        _W_BAND * outside / target
        + _W_ACROSS * across
        + _W_TARGET * gap * gap
        - _W_COMPACT * pp
    )


class Regions:
    """A labelling of the nodes with each region's figures kept exact."""

    def __init__(
        self, links: Links, labels: _Array, k: int, band: tuple[int, int]
    ) -> None:
        self.links = links
        self.band = band
        self.lab = labels.tolist()
        self.size = np.bincount(labels, minlength=k).tolist()
        self.load = np.bincount(labels, links.weight, k).tolist()
        self.region_area = np.bincount(labels, links.area, k).tolist()
        self.region_perim = [0.0] * k
        self.region_across = [0.0] * k
        for v, r in enumerate(self.lab):
            self.region_perim[r] += links.perimeter[v]
            for u, _, e, x in links.nbrs[v]:
                if self.lab[u] == r:  # each inner edge is seen from both sides
                    self.region_perim[r] -= e
                    self.region_across[r] += x / 2
        self.current = [self.cost(r) for r in range(k)]

    def stats(self, r: int) -> _Stats:
        """Households, area, perimeter and length across lanes of region ``r``."""
        return (
            self.load[r],
            self.region_area[r],
            self.region_perim[r],
            self.region_across[r],
        )

    def cost(self, r: int) -> float:
        """Cost of region ``r``."""
        return region_cost(self.band, *self.stats(r))

    def total(self) -> float:
        """Cost of the whole labelling."""
        return sum(self.current)

    def touching(self, v: int) -> dict[int, list[float]]:
        """Shared length and length across lanes of ``v`` with each region it touches."""
        touch: dict[int, list[float]] = {}
        lab = self.lab
        for u, _, e, x in self.links.nbrs[v]:
            got = touch.get(lab[u])
            if got is None:
                touch[lab[u]] = [e, x]
            else:
                got[0] += e
                got[1] += x
        return touch

    def delta(self, v: int, s: int, touch: dict[int, list[float]]) -> float:
        """Change of cost if ``v`` moves to region ``s``."""
        r = self.lab[v]
        w, a, p = self.links.weight[v], self.links.area[v], self.links.perimeter[v]
        er, xr = touch.get(r, _NONE)
        es, xs = touch[s]
        h_r, a_r, p_r, x_r = self.stats(r)
        h_s, a_s, p_s, x_s = self.stats(s)
        after_r = region_cost(self.band, h_r - w, a_r - a, p_r - p + 2 * er, x_r - xr)
        after_s = region_cost(self.band, h_s + w, a_s + a, p_s + p - 2 * es, x_s + xs)
        return after_r + after_s - self.current[r] - self.current[s]

    def movable(self, v: int) -> bool:
        """Whether ``v`` can leave its region without emptying or cutting it."""
        r = self.lab[v]
        return self.size[r] > 1 and _stays_connected(self.links.nbrs, self.lab, v, r)

    def move(self, v: int, s: int, touch: dict[int, list[float]]) -> None:
        """Move ``v`` to region ``s``; ``touch`` is :meth:`touching` of ``v``."""
        r = self.lab[v]
        w, a, p = self.links.weight[v], self.links.area[v], self.links.perimeter[v]
        er, xr = touch.get(r, _NONE)
        es, xs = touch[s]
        self.lab[v] = s
        self.size[r] -= 1
        self.size[s] += 1
        self.load[r] -= w
        self.load[s] += w
        self.region_area[r] -= a
        self.region_area[s] += a
        self.region_perim[r] += -p + 2 * er
        self.region_perim[s] += p - 2 * es
        self.region_across[r] -= xr
        self.region_across[s] += xs
        self.current[r] = self.cost(r)
        self.current[s] = self.cost(s)

    def assign(
        self, nodes: list[int], labels: list[int], stats: dict[int, _Stats]
    ) -> None:
        """Relabel ``nodes`` at once; ``stats`` holds the touched regions' figures."""
        for v, r in zip(nodes, labels, strict=True):
            self.size[self.lab[v]] -= 1
            self.size[r] += 1
            self.lab[v] = r
        for r, (h, a, p, x) in stats.items():
            self.load[r], self.region_area[r] = h, a
            self.region_perim[r], self.region_across[r] = p, x
            self.current[r] = self.cost(r)


def descend(regions: Regions, rng: np.random.Generator) -> None:
    """Greedy sweeps: each boundary node takes its best improving move."""
    lab, edges = regions.lab, regions.links.edges
    for _ in range(_SWEEPS):
        labels = np.asarray(lab)
        cut = labels[edges[:, 0]] != labels[edges[:, 1]]
        border = np.unique(edges[cut])
        moved = 0
        for v in border[rng.permutation(len(border))].tolist():
            touch = regions.touching(v)
            r = lab[v]
            best_s, best_delta = -1, -1e-12
            for s in sorted(touch):
                if s != r:
                    d = regions.delta(v, s, touch)
                    if d < best_delta:
                        best_s, best_delta = s, d
            if best_s >= 0 and regions.movable(v):
                regions.move(v, best_s, touch)
                moved += 1
        if moved == 0:
            break


def anneal(regions: Regions, rng: np.random.Generator, steps: int) -> None:
    """Simulated annealing over boundary moves: escapes the greedy optimum."""
    edges = regions.links.edges
    if len(edges) == 0 or steps <= 0:
        return
    picks = rng.integers(len(edges), size=steps).tolist()
    side = rng.integers(2, size=steps).tolist()
    chance = np.log(rng.random(steps)).tolist()
    ends = edges.tolist()
    lab = regions.lab
    for step in range(steps):
        a, b = ends[picks[step]]
        if lab[a] == lab[b]:
            continue
        v, u = (a, b) if side[step] else (b, a)
        s = lab[u]
        touch = regions.touching(v)
        d = regions.delta(v, s, touch)
        temp = _T_START * (_T_END / _T_START) ** (step / steps)
        if d > 0 and chance[step] * temp > -d:
            continue
        if regions.movable(v):
            regions.move(v, s, touch)


def _stays_connected(
    nbrs: list[list[tuple[int, float, float, float]]], lab: list[int], v: int, r: int
) -> bool:
    """Whether region ``r`` stays connected without node ``v``."""
    ends = {u for u, _, _, _ in nbrs[v] if lab[u] == r}
    if len(ends) <= 1:
        return True
    start = min(ends)
    seen = {start, v}
    stack = [start]
    ends.discard(start)
    while stack and ends:
        x = stack.pop()
        for u, _, _, _ in nbrs[x]:
            if u not in seen and lab[u] == r:
                seen.add(u)
                ends.discard(u)
                stack.append(u)
    return not ends
