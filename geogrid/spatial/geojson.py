"""RFC 7946 GeoJSON (GeoJSON 几何与要素): rounded lon/lat, right-hand-rule rings, JSON values."""

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from geogrid.domain.layers import INTEGER_FIELDS

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


def rfc3339(moment: datetime) -> str:
    """A stored time (naive UTC, or aware) as RFC 3339 in UTC, to the second.

    Examples:
        >>> rfc3339(datetime(2026, 12, 7, 10, 58, 16, 399846))
        '2026-12-07T10:58:16Z'
    """
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds") + "Z"


def json_value(name: str, value: Any) -> Any:
    """A frame value as JSON holds it: None for missing, RFC 3339 times, whole counts.

    Examples:
        >>> json_value("households", np.float64(42.0)), json_value("name", float("nan"))
        (42, None)
    """
    if value is None or (not isinstance(value, str | dict) and pd.isna(value)):
        return None
    if isinstance(value, datetime):
        return rfc3339(value)
    if name in INTEGER_FIELDS:
        return int(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def frame_features(
    frame: gpd.GeoDataFrame, *, id_field: str = "code"
) -> list[dict[str, Any]]:
    """A frame's rows as RFC 7946 Features: ``id`` from ``id_field``, values as JSON."""
    geometries = rfc7946_geometries(frame.geometry.to_numpy())
    records = pd.DataFrame(frame.drop(columns=frame.geometry.name)).to_dict("records")
    return [
        {
            "type": "Feature",
            "id": str(record[id_field]),
            "geometry": geometry,
            "properties": {k: json_value(k, v) for k, v in record.items()},
        }
        for record, geometry in zip(records, geometries, strict=True)
    ]
