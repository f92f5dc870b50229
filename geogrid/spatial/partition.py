"""Graph partition into balanced, compact, connected regions (分区).

The nodes are building cells (:mod:`geogrid.spatial.cells`) weighted by
households; a region is a future grid (网格). The steps, each for a reason:

1. **Seeds by weighted k-means++ and Lloyd rounds** on the nodes' points:
   spread, household-weighted centres put the next step near a balanced,
   compact answer.
2. **Balanced growth.** A multi-source shortest-path search over the cell
   graph (edges cost their length, more across a lane that cuts the area
   through) gives each node to the seed that reaches it first. Every node
   joins through a neighbour of its own region, so regions are connected by
   construction, whatever the outline or the lanes. Each seed gets a head
   start, like a price: a region above the target starts later and shrinks,
   one below starts earlier and grows. Rounds of updates balance the
   households; now and then seeds move to their region's centre (Lloyd).
3. **Restarts** of 1-2 on small graphs, where one bad seed spoils a large
   share of the regions; the best after a greedy descent goes on.
4. **Improvement** by recombination (:mod:`geogrid.spatial.recombination`),
   then annealing and descent (:mod:`geogrid.spatial.regions`), none of
   which can cut a region.

All ties go by node number and the only randomness comes from ``seed``, so
the same input always gives the same regions.
"""

import math

import numpy as np

from geogrid.spatial.cells import CellGraph
from geogrid.spatial.recombination import recombine
from geogrid.spatial.regions import Links, Regions, anneal, descend, shortest

_LLOYD_ROUNDS = 8
_GROWTH_ROUNDS = 40
_RECENTRE_EVERY = 8
_MAX_STARTS = 16
_START_BUDGET = 40_000  # restarts while starts x nodes stays under this
_ANNEAL_STEPS = (100, 300, 200_000)  # per node at least, at most, and in all
_RECOMBINE_ROUNDS = 6
_RECOMBINE_TRIES = 4
_Array = np.ndarray


def partition(
    graph: CellGraph, k: int, band: tuple[int, int], *, seed: int | tuple[int, ...]
) -> _Array:
    """Split a connected cell graph into ``k`` connected regions.

    Args:
        graph: The cells; must be connected.
        k: How many regions.
        band: Lowest and highest households of a region.
        seed: Seed of the random draws (k-means++, annealing).

    Returns:
        Region (0..k-1) per node, numbered by first node; every region is
        connected and non-empty.

    Examples:
        >>> from shapely import box
        >>> from geogrid.spatial.cells import cell_graph
        >>> blocks = np.array([box(x, 0, x + 8, 8) for x in range(0, 100, 10)])
        >>> graph = cell_graph(box(-1, -1, 101, 9), blocks, np.full(10, 40))
        >>> partition(graph, 2, (150, 250), seed=0).tolist()
        [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    """
    n = len(graph.households)
    homes = int((graph.households > 0).sum())
    # A region needs a node of its own, and one with homes if there are any:
    # a grid of empty ground helps nobody.
    k = max(1, min(k, homes or n))
    if k == 1:
        return np.zeros(n, dtype=np.int64)
    entropy = [seed] if isinstance(seed, int) else list(seed)
    links = Links(graph)
    weights = graph.households.astype(float)
    best = None
    starts = max(1, min(_MAX_STARTS, _START_BUDGET // n))
    for start in range(starts):
        rng = np.random.default_rng([*entropy, start])
        centres = _kmeans(graph.xy, weights, k, rng)
        seeds = _nearest_free(graph.xy, centres, weights)
        labels = _grow_balanced(links, graph, seeds, band)
        regions = Regions(links, labels, k, band)
        descend(regions, rng)
        if best is None or regions.total() < best.total() - 1e-12:
            best = regions
    assert best is not None
    rng = np.random.default_rng([*entropy, starts])  # a stream of its own
    recombine(best, rng, rounds=_RECOMBINE_ROUNDS, tries=_RECOMBINE_TRIES)
    least, most, budget = _ANNEAL_STEPS
    anneal(best, rng, max(least * n, min(most * n, budget)))
    descend(best, rng)
    return _renumber(np.asarray(best.lab, dtype=np.int64))


def fits(total: int, band: tuple[int, int]) -> range:
    """The numbers of regions k with k * low <= total <= k * high.

    Examples:
        >>> list(fits(2000, (300, 500))), list(fits(550, (300, 500)))
        ([4, 5, 6], [])
    """
    low, high = band
    if high == 0:
        return range(1, 2) if total == 0 else range(0)
    least = max(1, -(-total // high))
    most = total // low if low > 0 else least  # any k fits: the fewest will do
    return range(least, most + 1)


def best_k(total: int, band: tuple[int, int]) -> int:
    """The k that fits the band with total / k nearest its middle, else nearest."""
    target = (band[0] + band[1]) / 2
    options = fits(total, band) or [max(1, round(total / target))]
    return min(options, key=lambda k: (abs(total / k - target), k))


def lane_zones(graph: CellGraph, band: tuple[int, int]) -> list[_Array]:
    """Group the faces of a connected graph into zones that can be split alone.

    Lanes that cross the area through cut it into faces. Partitioning each
    face alone keeps every grid off those lanes, but a face whose households
    no number of grids can hold within the band (a park between two roads,
    a short strip of houses) joins the neighbour it shares most edge with,
    smallest first, until every zone fits or one zone is left.

    Returns:
        The sorted nodes of each zone; each zone is connected.
    """
    units = graph.components(within_faces=True)  # a face, or a piece of one
    unit_of = np.empty(len(graph.households), dtype=np.int64)
    for u, nodes in enumerate(units):
        unit_of[nodes] = u
    zone = np.arange(len(units))
    totals = np.bincount(unit_of, graph.households, len(units)).astype(np.int64)
    a, b = unit_of[graph.edges[:, 0]], unit_of[graph.edges[:, 1]]
    cross = a != b
    a, b, shared = a[cross], b[cross], graph.shared_m[cross]
    stuck: set[int] = set()
    while True:  # one merge per round, a few rounds per community
        live = np.unique(zone).tolist()
        load = {z: int(totals[zone == z].sum()) for z in live}
        misfits = [z for z in live if not fits(load[z], band) and z not in stuck]
        if len(live) == 1 or not misfits:
            break
        z = min(misfits, key=lambda z: (load[z], z))
        za, zb = zone[a], zone[b]
        touching = (za == z) != (zb == z)
        if not touching.any():
            stuck.add(z)
            continue
        other = np.where(za[touching] == z, zb[touching], za[touching])
        length = np.bincount(other, shared[touching], len(units))
        zone[zone == z] = int(np.argmax(length))
    return [np.flatnonzero(zone[unit_of] == z) for z in np.unique(zone)]


def _renumber(labels: _Array) -> _Array:
    """Number regions 0.. in order of their first node, so output is canonical."""
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[inverse]


def _kmeans(xy: _Array, weights: _Array, k: int, rng: np.random.Generator) -> _Array:
    """Household-weighted k-means++ centres, then a few Lloyd rounds."""
    w = weights if weights.sum() > 0 else np.ones(len(xy))
    chosen = [xy[rng.choice(len(xy), p=w / w.sum())]]
    nearest = ((xy - chosen[0]) ** 2).sum(1)
    for _ in range(k - 1):
        p = nearest * w
        pick = (
            rng.choice(len(xy), p=p / p.sum()) if p.sum() > 0 else rng.integers(len(xy))
        )
        chosen.append(xy[pick])
        nearest = np.minimum(nearest, ((xy - xy[pick]) ** 2).sum(1))
    centres = np.array(chosen)
    for _ in range(_LLOYD_ROUNDS):
        owner = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(-1).argmin(1)
        mass = np.bincount(owner, w, k)
        for axis in (0, 1):
            total = np.bincount(owner, w * xy[:, axis], k)
            centres[:, axis] = np.where(
                mass > 0, total / np.maximum(mass, 1e-12), centres[:, axis]
            )
    return centres


def _nearest_free(xy: _Array, centres: _Array, weights: _Array) -> list[int]:
    """A distinct node near each centre, preferring nodes with households."""
    seeds: list[int] = []
    taken = np.zeros(len(xy), dtype=bool)
    enough = (weights > 0).sum() >= len(centres)
    penalty = np.where(weights > 0, 0.0, np.inf if enough else 1e12)
    for cx, cy in centres:  # k centres, not the nodes
        d = (xy[:, 0] - cx) ** 2 + (xy[:, 1] - cy) ** 2 + penalty
        d[taken] = np.inf
        node = int(np.argmin(d))
        taken[node] = True
        seeds.append(node)
    return seeds


def _grow_balanced(
    links: Links, graph: CellGraph, seeds: list[int], band: tuple[int, int]
) -> _Array:
    """Growth rounds with head starts moved towards balance; the best round wins."""
    k = len(seeds)
    target = (band[0] + band[1]) / 2
    weights = graph.households.astype(float)
    scale = math.sqrt(graph.area_m2.sum() / k)  # about a region's width
    offsets = np.zeros(k)
    best, best_score = None, (math.inf, math.inf)
    step = 0.5
    for round_ in range(_GROWTH_ROUNDS):
        label, _ = shortest(links, seeds, offsets.tolist())
        labels = np.asarray(label, dtype=np.int64)
        load = np.bincount(labels, weights, k)
        outside = np.maximum(band[0] - load, 0) + np.maximum(load - band[1], 0)
        score = (float(outside.sum()), float(((load - target) ** 2).sum()))
        if score < best_score:
            best, best_score = labels, score
        if score[0] == 0 and round_ >= _RECENTRE_EVERY:
            break
        offsets += step * scale * (load - target) / target
        offsets -= offsets.min()
        if (round_ + 1) % _RECENTRE_EVERY == 0:
            seeds = _recentre(graph, labels, weights, k)
            step *= 0.7
    assert best is not None
    return best


def _recentre(graph: CellGraph, labels: _Array, weights: _Array, k: int) -> list[int]:
    """Move each seed to its region's node nearest the household centroid."""
    w = weights + 1e-9  # regions of empty pieces still have a centre
    mass = np.bincount(labels, w, k)
    cx = np.bincount(labels, w * graph.xy[:, 0], k) / mass
    cy = np.bincount(labels, w * graph.xy[:, 1], k) / mass
    d = (graph.xy[:, 0] - cx[labels]) ** 2 + (graph.xy[:, 1] - cy[labels]) ** 2
    order = np.lexsort((np.arange(len(labels)), d, labels))
    first = np.unique(labels[order], return_index=True)[1]
    return order[first].tolist()
