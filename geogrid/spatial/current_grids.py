"""Current grids (现有网格) of a community, made ready to keep.

A proposal keeps the current grids that still work, so they must first be
made to fit the community: clipped to it, their overlaps given to the lower
code (a stable rule any planner can predict), crumbs below a square metre
dropped (they come from outlines digitised a hair apart, not from intent), and
their households counted from the buildings' inner points.
"""

from dataclasses import dataclass

import numpy as np

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from geogrid.spatial.crs import STORAGE_CRS
from geogrid.spatial.inputs import POLYGONAL, check_frame

_SLIVER_M2 = 1.0  # parts of a clipped grid smaller than this are dropped
_Array = np.ndarray


@dataclass(frozen=True)
class CurrentGrids:
    """Current grids clipped to a community, without overlaps, sorted by code.

    Attributes:
        codes: Grid codes.
        geoms: (Multi)polygons in the community's metric CRS; empty when
            nothing of a grid is left.
        households: Households of the buildings whose inner point it holds.
        counts: Number of those buildings.
        drawn: The grids as given, in the metric CRS: what a kept grid's
            outline is compared with.
    """

    codes: _Array
    geoms: _Array
    households: _Array
    counts: _Array
    drawn: _Array


def current_grids(
    area: BaseGeometry,
    existing: gpd.GeoDataFrame | None,
    crs: object,
    inner: _Array,
    households: _Array,
) -> CurrentGrids:
    """Current grids clipped to ``area``, each minus those of lower code.

    Args:
        area: The community, in the metric CRS ``crs``.
        existing: ``code`` and polygon ``geometry`` (EPSG:4326 without a
            CRS), or None.
        crs: The metric CRS.
        inner: The buildings' inner points, in ``crs``.
        households: The buildings' households.

    Returns:
        The grids, sorted by code.

    Examples:
        >>> from shapely import Point, box
        >>> frame = gpd.GeoDataFrame({"code": ["G2", "G1"]},
        ...     geometry=[box(0, 0, 10, 10), box(5, 0, 20, 10)], crs=3857)
        >>> grids = current_grids(box(0, 0, 15, 10), frame, frame.crs,
        ...     np.array([Point(2, 5), Point(7, 5)]), np.array([3, 4]))
        >>> grids.codes.tolist(), shapely.area(grids.geoms).tolist(), grids.households.tolist()
        (['G1', 'G2'], [100.0, 50.0], [4, 3])
    """
    if existing is None or len(existing) == 0:
        empty = np.empty(0, dtype=object)
        none = np.empty(0, np.int64)
        return CurrentGrids(empty, empty, none, none, empty)
    frame = existing if existing.crs is not None else existing.set_crs(STORAGE_CRS)
    frame = frame.to_crs(crs)
    check_frame(frame, POLYGONAL)
    frame = frame.assign(code=frame["code"].astype(str)).sort_values(
        "code", kind="stable"
    )
    codes = frame["code"].to_numpy(dtype=object)
    drawn = np.asarray(frame.geometry.array, dtype=object)
    geoms = shapely.intersection(drawn, area)
    taken = None
    for i in range(len(geoms)):  # one pass per existing grid, tens per community
        if taken is not None:
            geoms[i] = shapely.difference(geoms[i], taken)
        taken = geoms[i] if taken is None else shapely.union(taken, geoms[i])
    geoms = np.array([_drop_slivers(g) for g in geoms], dtype=object)
    owner = first_holder(geoms, inner)
    placed = owner >= 0
    count = np.bincount(owner[placed], minlength=len(geoms))
    load = np.bincount(owner[placed], households[placed], minlength=len(geoms))
    return CurrentGrids(codes, geoms, load.astype(np.int64), count, drawn)


def _drop_slivers(geom: BaseGeometry) -> BaseGeometry:
    parts = shapely.get_parts(geom)
    parts = parts[
        (shapely.get_type_id(parts) == 3) & (shapely.area(parts) >= _SLIVER_M2)
    ]
    if len(parts) == 0:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.multipolygons(parts)


def first_holder(geoms: _Array, points: _Array) -> _Array:
    """Index of the first polygon covering each point, -1 if none.

    Examples:
        >>> from shapely import Point, box
        >>> first_holder(np.array([box(0, 0, 2, 2), box(2, 0, 4, 2)]),
        ...     np.array([Point(3, 1), Point(2, 1), Point(9, 9)])).tolist()
        [1, 0, -1]
    """
    owner = np.full(len(points), -1)
    if len(geoms) == 0 or len(points) == 0:
        return owner
    point, geom = shapely.STRtree(geoms).query(points, predicate="covered_by")
    order = np.lexsort((geom, point))
    point, geom = point[order], geom[order]
    first = np.unique(point, return_index=True)[1]
    owner[point[first]] = geom[first]
    return owner
