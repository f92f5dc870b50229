"""Where SpatiaLite and PostGIS differ (方言差异), in one place.

Every SQL expression whose spelling depends on the backend is built here, so
the other store modules describe what they want once. The two bulk writers
(COPY on PostGIS, prepared batches on SpatiaLite) stay with the frames and
links they write, and ask :func:`is_postgis`.
"""

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Select,
    String,
    any_,
    bindparam,
    false,
    func,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from geogrid.store.models import SRID


def is_postgis(where: Session | Connection | Engine) -> bool:
    """Whether ``where`` talks to PostgreSQL/PostGIS (else SQLite/SpatiaLite)."""
    bind = where.get_bind() if isinstance(where, Session) else where
    return bind.dialect.name == "postgresql"


def extent_functions(session: Session) -> tuple[str, str, str, str]:
    """The names of the envelope accessors (min x, min y, max x, max y)."""
    if is_postgis(session):
        return ("ST_XMin", "ST_YMin", "ST_XMax", "ST_YMax")
    return ("MbrMinX", "MbrMinY", "MbrMaxX", "MbrMaxY")


def one_of(session: Session, column: Any, values: Sequence[str]) -> Any:
    """``column IN values`` bound as one parameter, however many values there are.

    A plain IN binds one parameter per value, and a city's building codes
    pass PostgreSQL's 65,535 (and SQLite's 32,766): the import of ten
    scattered addresses failed on PostGIS. PostgreSQL takes one array
    (``= ANY``), SQLite one JSON text it unpacks with ``json_each``.
    """
    values = [str(v) for v in values]
    if is_postgis(session):
        return column == any_(bindparam(None, values, type_=ARRAY(String)))
    unpacked: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(bindparam(None, json.dumps(values), type_=String))
    )
    return column.in_(unpacked)


def in_bbox(session: Session, model: Any, bbox: tuple[float, ...]) -> Any:
    """Rows whose geometry's bounding box meets ``bbox``, through the spatial index.

    SpatiaLite does not use its R-tree unless asked through the SpatialIndex
    table, and the R-tree keeps float32 bounds, so the search frame is widened
    by about 10 cm and callers confirm with exact predicates.
    """
    minx, miny, maxx, maxy = bbox
    eps = 1e-6
    if is_postgis(session):
        envelope = func.ST_MakeEnvelope(
            minx - eps, miny - eps, maxx + eps, maxy + eps, SRID
        )
        return model.geom.op("&&")(envelope)
    frame = func.BuildMbr(minx - eps, miny - eps, maxx + eps, maxy + eps, SRID)
    index: Select[Any] = (
        select(literal_column("ROWID"))
        .select_from(table("SpatialIndex"))
        .where(
            literal_column("f_table_name") == model.__tablename__,
            literal_column("f_geometry_column") == "geom",
            literal_column("search_frame") == frame,
        )
    )
    return model.id.in_(index)


def in_any_box(session: Session, model: Any, boxes: Sequence[tuple[float, ...]]) -> Any:
    """Rows whose bounding box meets any of ``boxes`` (each through the index)."""
    return or_(*(in_bbox(session, model, box) for box in boxes)) if boxes else false()


def envelope(session: Session, bbox: tuple[float, ...]) -> Any:
    """A rectangle in storage coordinates (EPSG:4326)."""
    if is_postgis(session):
        return func.ST_MakeEnvelope(*bbox, SRID)
    return func.BuildMbr(*bbox, SRID)


def intersects(session: Session, geom: Any, other: Any) -> Any:
    """A WHERE condition true where two geometries meet."""
    # SpatiaLite answers -1 (not false) when it cannot decide, which a WHERE
    # clause would take as true; PostGIS answers a boolean.
    if is_postgis(session):
        return func.ST_Intersects(geom, other)
    return func.ST_Intersects(geom, other) == 1
