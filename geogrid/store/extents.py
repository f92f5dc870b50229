"""Extents (范围): where a layer's features lie and since when, for collection metadata."""

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geogrid.store.areas import valid_at
from geogrid.store.dialect import extent_functions
from geogrid.store.models import Area, Building

Bbox = tuple[float, float, float, float]


def areas_extent(
    session: Session, *, level: str
) -> tuple[Bbox | None, datetime | None]:
    """The bounds of the current areas of ``level``, and when its oldest generation began."""
    bounds = _bounds(session, Area, [Area.level == level, valid_at(Area, None)])
    first = session.scalar(select(func.min(Area.valid_from)).where(Area.level == level))
    return bounds, first


def buildings_extent(session: Session) -> Bbox | None:
    """The bounds of every building."""
    return _bounds(session, Building, [])


def _bounds(session: Session, model: Any, where: list[Any]) -> Bbox | None:
    names = extent_functions(session)
    aggregates: tuple[Any, ...] = (func.min, func.min, func.max, func.max)
    row = session.execute(
        select(
            *(
                agg(getattr(func, name)(model.geom))
                for agg, name in zip(aggregates, names, strict=True)
            )
        ).where(*where)
    ).one()
    if row[0] is None:
        return None
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))
