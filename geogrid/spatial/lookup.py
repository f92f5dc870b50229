"""Point lookup index (点位查询索引): which areas and building hold a point, in microseconds.

Built once from frames and kept in memory by the service; answering a point
is two STRtree queries and a dictionary walk up the area tree, with no
database round trip.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

import geopandas as gpd
import pyproj
import shapely

from geogrid.domain.codes import AreaLevel
from geogrid.spatial.crs import STORAGE_CRS, local_crs

LEVELS = tuple(level.value for level in AreaLevel)
"""Area levels from the top down, as :class:`~geogrid.domain.codes.AreaLevel` orders them."""


@dataclass(frozen=True)
class PointHit:
    """What holds a point (点位命中): area codes by level, the building, the nearest one."""

    areas: dict[str, str]
    building: str | None
    nearest_building: tuple[str, float] | None = None


@dataclass
class LookupIndex:
    """Areas and buildings of one generation, ready for point queries."""

    area_code: np.ndarray
    area_level: np.ndarray
    area_tree: shapely.STRtree
    parents: dict[str, str | None]
    levels: dict[str, str]
    building_code: np.ndarray
    building_grid: dict[str, str | None]
    building_tree: shapely.STRtree
    to_metric: pyproj.Transformer
    metric_crs: pyproj.CRS
    building_geoms_m: np.ndarray = field(repr=False)
    area_geoms: np.ndarray = field(repr=False)


def build_lookup_index(
    areas: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame
) -> LookupIndex:
    """Build the index (构建查询索引) from areas and buildings in the storage CRS.

    Args:
        areas: columns code, level, parent_code, geometry (EPSG:4326).
        buildings: columns code, grid_code (may be None), geometry (EPSG:4326).

    Returns:
        The index; building distances are measured in a local metric CRS.

    Examples:
        >>> from shapely.geometry import box
        >>> areas = gpd.GeoDataFrame({"code": ["G1"], "level": ["grid"], "parent_code": [None]},
        ...     geometry=[box(107.0, 35.0, 107.01, 35.01)], crs=4326)
        >>> b = gpd.GeoDataFrame({"code": ["B1"], "grid_code": ["G1"]},
        ...     geometry=[box(107.001, 35.001, 107.002, 35.002)], crs=4326)
        >>> lookup_point(build_lookup_index(areas, b), 107.0015, 35.0015).building
        'B1'
    """
    both = pd.concat([areas.geometry, buildings.geometry])
    metric = (
        local_crs(gpd.GeoSeries(both.to_numpy(), crs=STORAGE_CRS))
        if len(both)
        else pyproj.CRS(3857)
    )
    area_geoms = areas.geometry.to_numpy()
    building_geoms_m = (
        buildings.geometry.to_crs(metric).to_numpy()
        if len(buildings)
        else np.array([], dtype=object)
    )
    return LookupIndex(
        area_code=areas["code"].to_numpy(dtype=object),
        area_level=areas["level"].to_numpy(dtype=object),
        area_tree=shapely.STRtree(area_geoms),
        parents=dict(
            zip(areas["code"], _codes_or_none(areas["parent_code"]), strict=True)
        ),
        levels=dict(zip(areas["code"], areas["level"], strict=True)),
        building_code=buildings["code"].to_numpy(dtype=object),
        building_grid=dict(
            zip(buildings["code"], _codes_or_none(buildings["grid_code"]), strict=True)
        ),
        building_tree=shapely.STRtree(building_geoms_m),
        to_metric=pyproj.Transformer.from_crs(STORAGE_CRS, metric, always_xy=True),
        metric_crs=metric,
        building_geoms_m=building_geoms_m,
        area_geoms=area_geoms,
    )


def _codes_or_none(column: pd.Series) -> list[str | None]:
    # pandas keeps NaN for missing text whatever where() is given; NaN is truthy.
    return [v if isinstance(v, str) else None for v in column]


def lookup_point(
    index: LookupIndex, lon: float, lat: float, *, near_m: float = 100.0
) -> PointHit:
    """Find the areas and building holding a point (点位查询), in EPSG:4326.

    A point on a shared edge belongs to the area with the lowest code, the
    same rule the assignment uses. When the point is inside a building that
    has been assigned to a grid, that grid (and its parents) answer: a
    building has one responsible grid even where a boundary cuts it.

    Args:
        index: from :func:`build_lookup_index`.
        lon: longitude, EPSG:4326.
        lat: latitude, EPSG:4326.
        near_m: how far to look for the nearest building when in none.

    Returns:
        The hit; ``areas`` maps level to code from the top down.
    """
    point = shapely.Point(lon, lat)
    hits = index.area_tree.query(point, predicate="intersects")
    found: dict[str, str] = {}
    for i in sorted(hits, key=lambda i: index.area_code[i]):
        found.setdefault(index.area_level[i], index.area_code[i])
    x, y = index.to_metric.transform(lon, lat)
    point_m = shapely.Point(x, y)
    inside = index.building_tree.query(point_m, predicate="intersects")
    building = min((index.building_code[i] for i in inside), default=None)
    nearest = None
    if building is None and len(index.building_code):
        near, dist = index.building_tree.query_nearest(
            point_m, max_distance=near_m, return_distance=True
        )
        if len(near):
            nearest = (str(index.building_code[near[0]]), float(dist[0]))
    grid = index.building_grid.get(building) if building else None
    if grid is not None:
        found = {
            lvl: code for lvl, code in found.items() if lvl in ("estate",)
        } | area_chain(index, grid)
    else:
        deepest = next((found[lvl] for lvl in reversed(LEVELS) if lvl in found), None)
        if deepest is not None:
            found = area_chain(index, deepest) | found
    ordered = {lvl: found[lvl] for lvl in LEVELS if lvl in found}
    return PointHit(areas=ordered, building=building, nearest_building=nearest)


def area_chain(index: LookupIndex, code: str) -> dict[str, str]:
    """The area and its ancestors by level, following parent codes."""
    chain: dict[str, str] = {}
    current: str | None = code
    while current is not None and current in index.levels and len(chain) < len(LEVELS):
        chain[index.levels[current]] = current
        current = index.parents.get(current)
    return chain
