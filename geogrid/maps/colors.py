"""Map colours (配色): neighbouring areas never share a colour."""

from collections.abc import Sequence

import shapely

PALETTE = (
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
)  # fmt: skip


def distinct_colors(
    geoms: Sequence[shapely.Geometry], *, buffer: float = 1e-6
) -> list[str]:
    """A colour per area so that touching areas differ (greedy, most neighbours first).

    Four colours always suffice for a planar map; greedy colouring in this
    order needs at most as many as an area has neighbours plus one, and ten
    are offered. ``buffer`` (in the geometries' units) joins areas separated
    by a digitising slit, which a reader sees as neighbours.

    Examples:
        >>> from shapely.geometry import box
        >>> distinct_colors([box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6)])
        ['#4e79a7', '#f28e2b', '#4e79a7']
    """
    tree = shapely.STRtree(list(geoms))
    a, b = tree.query(shapely.buffer(list(geoms), buffer), predicate="intersects")
    neighbours: dict[int, set[int]] = {i: set() for i in range(len(geoms))}
    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        if i != j:
            neighbours[i].add(j)
            neighbours[j].add(i)
    order = sorted(neighbours, key=lambda i: (-len(neighbours[i]), i))
    chosen: dict[int, int] = {}
    for i in order:
        taken = {chosen[j] for j in neighbours[i] if j in chosen}
        chosen[i] = next(c for c in range(len(PALETTE) + len(geoms)) if c not in taken)
    return [PALETTE[chosen[i] % len(PALETTE)] for i in range(len(geoms))]
