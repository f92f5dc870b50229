"""Area repository (区域): generations of the area tree, read as frames."""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, true, update
from sqlalchemy.orm import Session

import geopandas as gpd

from geogrid.store.frames import insert_rows, read_frame, wkb_of
from geogrid.store.models import Area


def valid_at(model: Any, when: datetime | None) -> Any:
    """Rows valid at ``when`` (None: the current generation)."""
    if when is None:
        return model.valid_to.is_(None)
    return and_(
        model.valid_from <= when, or_(model.valid_to.is_(None), model.valid_to > when)
    )


def valid_during(model: Any, start: datetime | None, end: datetime | None) -> Any:
    """Rows valid at some moment between ``start`` and ``end`` (None: open)."""
    conditions: list[Any] = [true()]
    if end is not None:
        conditions.append(model.valid_from <= end)
    if start is not None:
        conditions.append(or_(model.valid_to.is_(None), model.valid_to > start))
    return and_(*conditions)


def _select_areas() -> Select[Any]:
    return select(
        Area.id,
        Area.code,
        Area.name,
        Area.level,
        Area.parent_code,
        Area.valid_from,
        Area.valid_to,
        Area.attrs,
        wkb_of(Area.geom),
    )


def areas_frame(
    session: Session,
    *,
    level: str | None = None,
    codes: Collection[str] | None = None,
    parent_codes: Collection[str | None] | None = None,
    as_of: datetime | None = None,
) -> gpd.GeoDataFrame:
    """Areas valid at ``as_of`` (default: now), filtered by level, codes or parents."""
    stmt = _select_areas().where(valid_at(Area, as_of)).order_by(Area.code)
    if level is not None:
        stmt = stmt.where(Area.level == level)
    if codes is not None:
        stmt = stmt.where(Area.code.in_(list(codes)))
    if parent_codes is not None:
        named = [c for c in parent_codes if c is not None]
        cond: Any = Area.parent_code.in_(named)
        if None in parent_codes:
            cond = or_(cond, Area.parent_code.is_(None))
        stmt = stmt.where(cond)
    return read_frame(session, stmt)


def history_frame(session: Session, code: str) -> gpd.GeoDataFrame:
    """Every generation of one area, oldest first (历史版本)."""
    stmt = _select_areas().where(Area.code == code).order_by(Area.valid_from)
    return read_frame(session, stmt)


def count_levels(session: Session) -> dict[str, int]:
    """How many current areas there are at each level."""
    rows = session.execute(
        select(Area.level, func.count())
        .where(Area.valid_to.is_(None))
        .group_by(Area.level)
    )
    return dict(rows.all())


def end_areas(session: Session, ids: Sequence[int], at: datetime) -> None:
    """Close the generations ``ids`` at ``at`` (they stay queryable by date)."""
    for start in range(0, len(ids), 500):
        session.execute(
            update(Area)
            .where(Area.id.in_(ids[start : start + 500]))
            .values(valid_to=at)
        )


def add_areas(
    session: Session,
    rows: Sequence[dict[str, Any]],
    geoms: Sequence[Any],
) -> None:
    """Insert new generations; each row carries code, name, level, parent_code, valid_from, attrs, batch_id."""
    insert_rows(session, Area, rows, geoms)
