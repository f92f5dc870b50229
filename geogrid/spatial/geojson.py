"""RFC 7946 geometries (GeoJSON 几何): rounded lon/lat with right-hand-rule rings."""

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

import shapely
from shapely.geometry.base import BaseGeometry

PRECISION = 7
"""Decimal places kept: 1e-7° is about 1 cm, finer than any survey we import."""


def rfc7946_geometries(
    geoms: Sequence[BaseGeometry | None] | np.ndarray, *, precision: int = PRECISION
) -> list[dict[str, Any] | None]:
    """GeoJSON geometry objects as RFC 7946 wants them (RFC 7946 几何).

    Coordinates are rounded to ``precision`` decimals, and polygon rings
    follow the right-hand rule (exterior counter-clockwise, holes clockwise,
    §3.1.6), which some clients (d3, Mapbox) rely on and shapefiles reverse.
    The caller hands in lon/lat (EPSG:4326); no ``crs`` member is written.

    Args:
        geoms: shapely geometries in EPSG:4326; None or empty ones give None.
        precision: decimal places to keep.

    Returns:
        One GeoJSON geometry dict (or None) per input, in order.

    Examples:
        >>> from shapely.geometry import Polygon
        >>> cw = Polygon([(0, 0), (0, 1), (1.000000049, 1), (1, 0)])
        >>> rfc7946_geometries([cw, None])[0]["coordinates"][0]
        [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]
        >>> rfc7946_geometries([None])
        [None]
    """
    array = np.asarray(geoms, dtype=object)
    missing = shapely.is_missing(array) | shapely.is_empty(array)
    present = array[~missing]
    rounded = shapely.transform(present, lambda c: np.round(c, precision))
    texts = shapely.to_geojson(shapely.orient_polygons(rounded))
    out: list[dict[str, Any] | None] = [None] * len(array)
    for i, text in zip(np.flatnonzero(~missing), texts, strict=True):
        out[i] = json.loads(text)
    return out
