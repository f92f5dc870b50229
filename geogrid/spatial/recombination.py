"""Recombination of neighbouring regions (区域重组).

Single-node moves (:mod:`geogrid.spatial.regions`) cannot change which
regions touch which, so a region that snakes around its neighbour stays
snaking. Recombination merges two neighbouring regions and splits the union
again along the best of a family of cuts: the nodes sorted by (distance from
seed A - distance from seed B) over the graph, every prefix a candidate.
Each side of such a cut is connected, since a node's shortest path to its
seed stays on its side, and one pass scores them all with the same cost as
the other moves. A split is kept only when it lowers the cost of the pair.
"""

import math

import numpy as np

from geogrid.spatial.regions import Links, Regions, region_cost, shortest

_Array = np.ndarray
_Stats = tuple[float, float, float, float]  # households, area, perimeter, across
_Split = tuple[float, list[int], list[int], _Stats, _Stats]


def recombine(
    regions: Regions, rng: np.random.Generator, *, rounds: int, tries: int
) -> None:
    """Merge neighbouring regions two by two and split them again, if better.

    After the first round only pairs with a region changed in the round
    before are tried again: the others are unlikely to do better.
    """
    links = regions.links
    changed: set[int] | None = None
    for _ in range(rounds):
        labels = np.asarray(regions.lab)
        ends = labels[links.edges]
        ends = np.sort(ends[ends[:, 0] != ends[:, 1]], axis=1)
        pairs = np.unique(ends, axis=0)
        fresh: set[int] = set()
        for r, s in pairs[rng.permutation(len(pairs))].tolist():
            if changed is not None and r not in changed and s not in changed:
                continue
            labels = np.asarray(regions.lab)
            nodes = np.flatnonzero((labels == r) | (labels == s)).tolist()
            before = regions.current[r] + regions.current[s]
            best = _best_split(regions, nodes, r, s, rng, tries)
            if best is not None and best[0] < before - 1e-9:
                _, order, side, stats_r, stats_s = best
                regions.assign(
                    order, [r if x == 0 else s for x in side], {r: stats_r, s: stats_s}
                )
                fresh.update((r, s))
        if not fresh:
            break
        changed = fresh


def _best_split(
    regions: Regions,
    nodes: list[int],
    r: int,
    s: int,
    rng: np.random.Generator,
    tries: int,
) -> _Split | None:
    """Best two-way cut of ``nodes`` along shortest-path fronts from two seeds.

    Nodes sorted by (distance from seed A - distance from seed B) give a
    family of cuts, one per prefix; each side of such a cut is connected
    (ties aside, which a check catches), and all are scored in one pass.
    """
    links = regions.links
    n = len(links.nbrs)
    inside = [False] * n
    for v in nodes:
        inside[v] = True
    xy = links.xy[nodes]
    weights = np.asarray([links.weight[v] for v in nodes], dtype=float) + 1e-9
    best = None
    for attempt in range(tries):
        if attempt == 0:  # the two regions' own centres: refine the current cut
            pick = [
                _central(xy, weights, [regions.lab[v] == g for v in nodes])
                for g in (r, s)
            ]
        else:
            pick = _two_seeds(xy, weights, rng)
        if pick[0] == pick[1]:
            continue
        _, d0 = shortest(links, [nodes[pick[0]]], [0.0], inside)
        _, d1 = shortest(links, [nodes[pick[1]]], [0.0], inside)
        key = [d0[v] - d1[v] for v in nodes]
        order = [
            nodes[i]
            for i in np.lexsort(
                (np.arange(len(nodes)), np.array([d0[v] for v in nodes]), np.array(key))
            )
        ]
        found = _scan(regions, order, inside)
        if found is not None and (best is None or found[0] < best[0]):
            best = found
    return best


def _central(xy: _Array, weights: _Array, mine: list[bool]) -> int:
    """Position of the node nearest the weighted centre of the marked nodes."""
    mask = np.asarray(mine)
    centre = (xy[mask] * weights[mask, None]).sum(0) / weights[mask].sum()
    d = ((xy - centre) ** 2).sum(1)
    d[~mask] = np.inf
    return int(np.argmin(d))


def _two_seeds(xy: _Array, weights: _Array, rng: np.random.Generator) -> list[int]:
    """Two k-means++ seeds (household-weighted) among the nodes."""
    first = int(rng.choice(len(xy), p=weights / weights.sum()))
    far = ((xy - xy[first]) ** 2).sum(1) * weights
    if far.sum() <= 0:
        return [first, first]
    return [first, int(rng.choice(len(xy), p=far / far.sum()))]


def _scan(regions: Regions, order: list[int], inside: list[bool]) -> _Split | None:
    """Score every prefix cut of ``order``; the best, if both sides connect.

    Returns:
        The cost, ``order``, the side (0 or 1) of each node in it, and
        both sides' figures; None when a side would be in pieces.
    """
    links = regions.links
    band = regions.band
    side = dict.fromkeys(order, 1)
    h_b = sum(links.weight[v] for v in order)
    a_b = sum(links.area[v] for v in order)
    p_b = sum(links.perimeter[v] for v in order)
    x_b = 0.0
    for v in order:
        for u, _, e, x in links.nbrs[v]:
            if inside[u]:  # each inner edge is seen from both sides
                p_b -= e
                x_b += x / 2
    h_a = a_a = p_a = x_a = 0.0
    best_cost, best_m, best_stats = math.inf, -1, None
    for m, v in enumerate(order[:-1]):
        e_a = e_b = c_a = c_b = 0.0
        for u, _, e, x in links.nbrs[v]:
            if inside[u]:
                if side[u] == 0:
                    e_a, c_a = e_a + e, c_a + x
                else:
                    e_b, c_b = e_b + e, c_b + x
        side[v] = 0
        w, a, p = links.weight[v], links.area[v], links.perimeter[v]
        h_a, a_a, p_a, x_a = h_a + w, a_a + a, p_a + p - 2 * e_a, x_a + c_a
        h_b, a_b, p_b, x_b = h_b - w, a_b - a, p_b - p + 2 * e_b, x_b - c_b
        total = region_cost(band, h_a, a_a, p_a, x_a) + region_cost(
            band, h_b, a_b, p_b, x_b
        )
        if total < best_cost:
            best_cost, best_m = total, m
            best_stats = ((h_a, a_a, p_a, x_a), (h_b, a_b, p_b, x_b))
    if best_stats is None:
        return None
    labels = [0 if i <= best_m else 1 for i in range(len(order))]
    if not (
        _connected(links, order, labels, 0) and _connected(links, order, labels, 1)
    ):
        return None
    return best_cost, order, labels, best_stats[0], best_stats[1]


def _connected(links: Links, nodes: list[int], labels: list[int], which: int) -> bool:
    members = {v for v, x in zip(nodes, labels, strict=True) if x == which}
    start = next(iter(members))
    seen, stack = {start}, [start]
    while stack:
        for u, _, _, _ in links.nbrs[stack.pop()]:
            if u in members and u not in seen:
                seen.add(u)
                stack.append(u)
    return len(seen) == len(members)
