"""Map colours (配色): every grid of a community its own, neighbours never alike."""

from collections.abc import Sequence

import shapely
from shapely.geometry.base import BaseGeometry

PALETTE = (
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
    "#a0cbe8", "#ffbe7d", "#8cd17d", "#ff9d9a", "#499894",
    "#f1ce63", "#d4a6c8", "#fabfd2", "#d37295", "#86bcb6",
)  # fmt: skip
"""Tableau 20: ten strong colours first, then their lighter partners."""


def distinct_colors(
    geoms: Sequence[BaseGeometry], *, buffer: float = 1e-6
) -> list[str]:
    """A colour per area: all different while the palette lasts, else touching ones differ.

    A resident matches the colour on a 公示牌 to the map, so with up to 20
    areas each gets its own colour (7 grids had shared 3). Beyond that,
    greedy colouring, most neighbours first, keeps touching areas apart:
    it needs at most as many colours as an area has neighbours plus one.
    ``buffer`` (in the geometries' units) joins areas separated by a
    digitising slit, which a reader sees as neighbours.

    Examples:
        >>> from shapely.geometry import box
        >>> distinct_colors([box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6)])
        ['#4e79a7', '#f28e2b', '#59a14f']
    """
    if len(geoms) <= len(PALETTE):
        return list(PALETTE[: len(geoms)])
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
