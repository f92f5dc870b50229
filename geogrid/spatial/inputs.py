"""Checked inputs of the engines (输入检查): columns, codes, metric CRS, geometry types."""

import numpy as np

import geopandas as gpd
import shapely

from geogrid.errors import InvalidInput

POLYGONAL = (3, 6)  # shapely type ids of Polygon and MultiPolygon
LINEAR = (1, 5)
POINT = (0,)
BUILDING = (0, 3, 6)  # a footprint, or a point where an office has no footprint


def check_frame(
    frame: gpd.GeoDataFrame, types: tuple[int, ...], *fields: str
) -> np.ndarray:
    """Check columns, codes, CRS and geometry types; return the geometries.

    Raises:
        InvalidInput: A missing column or code, a CRS in degrees, a wrong type
            (None and empty geometries always pass).
    """
    for field in ("code", *fields):
        if field not in frame.columns:
            available = ", ".join(map(str, frame.columns))
            raise InvalidInput("field_missing", field=field, available=available)
    if frame["code"].isna().any():
        raise InvalidInput("code_missing")
    if frame.crs is not None and not frame.crs.is_projected:
        raise InvalidInput("value_invalid", field="crs", value=frame.crs.to_string())
    geoms = np.asarray(frame.geometry.array, dtype=object)
    wrong = ~np.isin(shapely.get_type_id(geoms), (-1, *types)) & ~shapely.is_empty(
        geoms
    )
    if wrong.any():
        expected = {(0,): "Point", (1, 5): "LineString"}.get(types, "Polygon")
        actual = geoms[np.flatnonzero(wrong)[0]].geom_type
        raise InvalidInput("geometry_type_wrong", expected=expected, actual=actual)
    return geoms
