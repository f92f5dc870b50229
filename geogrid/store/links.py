"""Derived links (归属关系): building → grid/estate and address → building → grid.

Written in bulk by the assignment service, read by lookups so that a known
address needs no geometry work at all.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, or_, select
from sqlalchemy.orm import Session

import geopandas as gpd

from geogrid.store.dialect import in_any_box, in_bbox, is_postgis, one_of
from geogrid.store.frames import (
    BULK_ROWS,
    bookkeeping_paused,
    read_frame,
    read_table,
    rows_frame,
    wkb_of,
    xy_of,
)
from geogrid.store.models import Address, Building

BUILDING_LINKS = (
    "grid_code",
    "grid_share",
    "split_grid_code",
    "split_share",
    "estate_code",
)
ADDRESS_LINKS = ("building_code", "grid_code", "assign_reason", "building_distance_m")


def buildings_frame(
    session: Session,
    *,
    codes: Sequence[str] | None = None,
    bbox: tuple[float, ...] | None = None,
    boxes: Sequence[tuple[float, ...]] | None = None,
) -> gpd.GeoDataFrame:
    """Buildings with their links: all, some codes, or those touching a bbox or any of ``boxes``."""
    stmt = select(
        Building.code,
        Building.name,
        Building.number,
        Building.estate,
        Building.households,
        Building.residents,
        *(getattr(Building, c) for c in BUILDING_LINKS),
        wkb_of(Building.geom),
    ).order_by(Building.code)
    if codes is not None:
        stmt = stmt.where(one_of(session, Building.code, codes))
    if bbox is not None:
        stmt = stmt.where(in_bbox(session, Building, bbox))
    if boxes is not None:
        stmt = stmt.where(in_any_box(session, Building, boxes))
    return read_frame(session, stmt)


def addresses_frame(
    session: Session,
    *,
    bbox: tuple[float, ...] | None = None,
    boxes: Sequence[tuple[float, ...]] | None = None,
    building_codes: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Addresses with their links; ``bbox``, ``boxes`` and ``building_codes`` select any (OR)."""
    stmt = select(
        Address.code,
        Address.text,
        *(getattr(Address, c) for c in ADDRESS_LINKS),
        *xy_of(Address.geom),
    ).order_by(Address.code)
    stmt = _any_of(session, stmt, bbox, boxes, building_codes)
    return read_frame(session, stmt, points=True)


def _any_of(
    session: Session,
    stmt: Any,
    bbox: tuple[float, ...] | None,
    boxes: Sequence[tuple[float, ...]] | None,
    building_codes: Sequence[str] | None,
) -> Any:
    """``stmt`` narrowed to addresses in ``bbox``, in any of ``boxes`` or in the buildings (OR)."""
    conditions = []
    if bbox is not None:
        conditions.append(in_bbox(session, Address, bbox))
    if boxes is not None:
        conditions.append(in_any_box(session, Address, boxes))
    if building_codes is not None:
        conditions.append(one_of(session, Address.building_code, building_codes))
    return stmt.where(or_(*conditions)) if conditions else stmt


def address_points(
    session: Session,
    *,
    bbox: tuple[float, ...] | None = None,
    boxes: Sequence[tuple[float, ...]] | None = None,
    building_codes: Sequence[str] | None = None,
    links: bool = False,
) -> pd.DataFrame:
    """Addresses' codes and lon/lat (``x``, ``y``; NaN without a point), and their links.

    What the coverage rules and the assignment read of them: texts stay in
    the database (for a city's million addresses the texts alone cost more
    to fetch than the points), and the points are made only once projected,
    not first in lon/lat as well. ``bbox``, ``boxes`` and ``building_codes``
    select any (OR); ``links`` adds the stored links.
    """
    stmt = select(
        Address.code,
        *((getattr(Address, c) for c in ADDRESS_LINKS) if links else ()),
        *xy_of(Address.geom),
    ).order_by(Address.code)
    stmt = _any_of(session, stmt, bbox, boxes, building_codes)
    frame = read_table(session, stmt)
    for axis in ("x", "y"):
        frame[axis] = frame[axis].to_numpy(dtype=float, na_value=np.nan)
    return frame


def addresses_with_text(
    session: Session, text: str, *, limit: int
) -> list[tuple[str, str, str | None]]:
    """(code, text, building) of up to ``limit`` addresses stored with exactly ``text``."""
    stmt = (
        select(Address.code, Address.text, Address.building_code)
        .where(Address.text == text)
        .order_by(Address.code)
        .limit(limit)
    )
    return [(r[0], r[1], r[2]) for r in session.execute(stmt)]


def address_text_chunks(session: Session, size: int = 20_000) -> Iterator[pd.DataFrame]:
    """Every address's code, text and building, ``size`` rows at a time (the address index).

    No points: the index matches text. Streamed (a server-side cursor on
    PostGIS), so a city's million rows never sit in memory at once.
    """
    stmt = (
        select(Address.code, Address.text, Address.building_code)
        .order_by(Address.code)
        .execution_options(yield_per=size)
    )
    result = session.execute(stmt)
    columns = list(result.keys())
    for rows in result.partitions():
        yield rows_frame(rows, columns)


def write_links(
    session: Session,
    model: type[Building] | type[Address],
    links: pd.DataFrame,
    *,
    current: pd.DataFrame | None = None,
) -> None:
    """Store derived links by code (``links`` has ``code`` and the link columns).

    With ``current`` (the same rows as read, links included), rows whose
    links did not change are not written: a re-run over a city rewrote a
    million unchanged rows, each a new row version on PostGIS.
    """
    columns = [
        c
        for c in (BUILDING_LINKS if model is Building else ADDRESS_LINKS)
        if c in links
    ]
    if current is not None:
        links = _changed(links, current, columns)
    if links.empty:
        return
    table = model.__tablename__
    frame = links[["code", *columns]].astype(object)
    rows = frame.where(frame.notna(), None).itertuples(index=False, name=None)
    connection = session.connection()
    if is_postgis(connection):
        # COPY into a temporary table and one UPDATE … FROM: an UPDATE per row
        # through executemany managed about 20,000 rows/s.
        types = {
            c: model.__table__.c[c].type.compile(connection.dialect) for c in columns
        }
        ddl = ", ".join(f"{c} {types[c]}" for c in columns)
        connection.exec_driver_sql(
            f"CREATE TEMP TABLE _links (code varchar, {ddl}) ON COMMIT DROP"
        )
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with (
            cursor,
            cursor.copy(f"COPY _links (code, {', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        sets = ", ".join(f"{c} = _links.{c}" for c in columns)
        with _link_indexes_dropped(connection, model, columns, len(frame)):
            connection.exec_driver_sql(
                f"UPDATE {table} SET {sets} FROM _links WHERE {table}.code = _links.code"
            )
        connection.exec_driver_sql("DROP TABLE _links")
    else:
        sets = ", ".join(f"{c} = ?" for c in columns)
        with (
            _link_indexes_dropped(connection, model, columns, len(frame)),
            bookkeeping_paused(connection, table, len(frame)),
        ):
            connection.exec_driver_sql(
                f"UPDATE {table} SET {sets} WHERE code = ?",
                [(*row[1:], row[0]) for row in rows],
            )


def _changed(
    links: pd.DataFrame, current: pd.DataFrame, columns: list[str]
) -> pd.DataFrame:
    """The rows of ``links`` that differ from ``current`` in any link column."""
    old = current[["code", *columns]].drop_duplicates("code")
    merged = links[["code", *columns]].merge(
        old, on="code", how="left", suffixes=("", "_old"), indicator=True
    )
    differs = (merged["_merge"] != "both").to_numpy().copy()
    for c in columns:
        new, was = merged[c].astype(object), merged[f"{c}_old"].astype(object)
        same = (new.isna() & was.isna()) | (new == was).fillna(False)
        differs |= ~same.to_numpy(dtype=bool)
    return links[differs]


@contextmanager
def _link_indexes_dropped(
    connection: Connection, model: Any, columns: list[str], n_rows: int
) -> Iterator[None]:
    """Write most of a table's links with the indexes they would move dropped.

    SpatiaLite: each updated row moved two index entries: 13 s of writing a
    city's million address links, 3 s without the indexes plus 2 s to build
    them again. PostGIS: an update is a new row version with new entries in
    every index, the GiST one too (no HOT update when indexed columns
    change): 24.9 s for a million links, 7.6 s with the link and GiST
    indexes dropped plus 5.6 s to build them again. Both in the write's
    transaction, so a failed write restores them; on PostGIS, readers of the
    table wait for the commit meanwhile (a city-wide relink only).
    """
    if n_rows < BULK_ROWS:
        yield
        return
    total = connection.execute(select(func.count()).select_from(model)).scalar() or 0
    if 2 * n_rows < total:
        yield
        return
    indexes = [
        index
        for index in model.__table__.indexes
        if any(c.name in columns for c in index.columns)
    ]
    gist = f"idx_{model.__tablename__}_geom" if is_postgis(connection) else None
    for index in indexes:
        index.drop(connection)
    if gist:
        connection.exec_driver_sql(f"DROP INDEX {gist}")
    yield
    if gist:
        connection.exec_driver_sql(
            f"CREATE INDEX {gist} ON {model.__tablename__} USING gist (geom)"
        )
    for index in indexes:
        index.create(connection)


def has_address_links(session: Session) -> bool:
    """Whether any address was ever assigned (one row read, not a count of a city)."""
    found = session.execute(
        select(Address.id).where(Address.assign_reason.is_not(None)).limit(1)
    ).first()
    return found is not None


def link_counts(session: Session) -> dict[str, int]:
    """How many addresses have each assignment reason (None: never assigned)."""
    rows = session.execute(
        select(Address.assign_reason, func.count()).group_by(Address.assign_reason)
    )
    return {str(reason): n for reason, n in rows}


def households_by_grid(session: Session, grid_codes: Sequence[str]) -> dict[str, int]:
    """Households of the buildings linked to each grid."""
    rows = session.execute(
        select(Building.grid_code, func.sum(Building.households))
        .where(one_of(session, Building.grid_code, grid_codes))
        .group_by(Building.grid_code)
    )
    return {code: int(n or 0) for code, n in rows if code is not None}
