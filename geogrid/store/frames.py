"""Frames in and out of the database (数据框读写): WKB both ways, vectorised."""

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import LargeBinary, Select, bindparam, func, insert
from sqlalchemy.orm import Session

import geopandas as gpd
import shapely

from geogrid.store.models import SRID, Base

Model = type[Base]


def read_frame(
    session: Session, stmt: Select[Any], *, geom: str = "geom"
) -> gpd.GeoDataFrame:
    """Run ``stmt`` and return a frame in EPSG:4326.

    The statement selects the geometry as WKB under the label ``geom``
    (use :func:`wkb_of`), so the whole column is parsed by shapely at once.
    """
    result = session.execute(stmt)
    frame = pd.DataFrame(result.all(), columns=list(result.keys()))
    wkb = np.array(
        [bytes(b) if b is not None else None for b in frame.pop(geom)], dtype=object
    )
    return gpd.GeoDataFrame(frame, geometry=shapely.from_wkb(wkb), crs=f"EPSG:{SRID}")


def wkb_of(column: Any) -> Any:
    """Select a geometry column as plain WKB, labelled ``geom``."""
    return func.ST_AsBinary(column).label("geom")


def insert_rows(
    session: Session,
    model: Model,
    rows: Sequence[dict[str, Any]],
    geoms: Sequence[shapely.Geometry | None] | np.ndarray,
    *,
    chunk: int = 20_000,
) -> None:
    """Insert ``rows`` with their geometries in executemany chunks.

    Geometries travel as WKB and are built with an explicit SRID on the
    server: a geometry without SRID is silently stored under the column's.
    """
    if not rows:
        return
    wkb = shapely.to_wkb(np.asarray(geoms, dtype=object))
    stmt = insert(model).values(
        geom=func.ST_GeomFromWKB(bindparam("_wkb", type_=LargeBinary), SRID)
    )
    for start in range(0, len(rows), chunk):
        batch = [
            {**row, "_wkb": w}
            for row, w in zip(
                rows[start : start + chunk], wkb[start : start + chunk], strict=True
            )
        ]
        session.execute(stmt, batch)
