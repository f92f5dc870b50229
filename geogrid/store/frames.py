"""Frames in and out of the database (数据框读写): WKB both ways, vectorised."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
from sqlalchemy import (
    JSON,
    Connection,
    CursorResult,
    Enum,
    Executable,
    Float,
    Integer,
    Select,
    String,
    Table,
    func,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.sqltypes import NullType

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from geogrid.errors import InvalidInput
from geogrid.store import rtree
from geogrid.store.dialect import is_postgis
from geogrid.store.models import SRID, Base

Model = type[Base]


def read_frame(
    session: Session, stmt: Select[Any], *, points: bool = False
) -> gpd.GeoDataFrame:
    """Run ``stmt`` and return a frame in EPSG:4326.

    The statement selects the geometry as WKB under the label ``geom``
    (use :func:`wkb_of`), so the whole column is parsed by shapely at once;
    with ``points``, as coordinates labelled ``x`` and ``y`` (use
    :func:`xy_of`), no WKB bytes to copy and parse.
    """
    frame = read_table(session, stmt)
    if points:
        x = frame.pop("x").to_numpy(dtype=float, na_value=np.nan)
        y = frame.pop("y").to_numpy(dtype=float, na_value=np.nan)
        geoms = shapely.points(x, y)
        geoms[np.isnan(x) | np.isnan(y)] = None
    else:
        geoms = shapely.from_wkb(
            np.array(
                [bytes(b) if b is not None else None for b in frame.pop("geom")],
                dtype=object,
            )
        )
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=f"EPSG:{SRID}")


def read_table(session: Session, stmt: Select[Any]) -> pd.DataFrame:
    """Run ``stmt`` and return its columns as a frame.

    Run on the session's connection, not through the ORM, which spent 2 s
    loading a million rows it would hand back unchanged.
    """
    session.flush()
    result = session.connection().execute(stmt)
    if not _plain(stmt):
        return rows_frame(result.all(), list(result.keys()))
    # Nothing to convert: the driver's own tuples, without a Row object
    # around each of a million rows (1.4 s), transposed by numpy.
    columns, rows = list(result.keys()), result.cursor.fetchall()
    result.close()
    table = np.array(rows, dtype=object).reshape(len(rows), len(columns))
    return pd.DataFrame(table, columns=columns).infer_objects()


def _plain(stmt: Select[Any]) -> bool:
    """Whether every selected column comes from the driver as it is read."""
    for column in stmt.selected_columns:
        kind = column.type
        if isinstance(kind, Enum) or not isinstance(
            kind, (String, Integer, Float, NullType)
        ):
            return False
        if isinstance(kind, Float) and kind.asdecimal:
            return False
    return True


def rows_frame(rows: Sequence[Any], columns: list[str]) -> pd.DataFrame:
    """Result rows as a frame, built column by column.

    Handing pandas the rows makes it probe each one for being a named tuple
    or a dataclass (SQLAlchemy's Row answers every probe with a caught
    KeyError): 3.6 s for a city's million addresses, against 1.3 s here for
    the same frame and dtypes.
    """
    if not rows or len(set(columns)) < len(columns):  # a dict keeps one of twins
        return pd.DataFrame(rows, columns=columns)
    return pd.DataFrame(
        dict(zip(columns, map(list, zip(*rows, strict=True)), strict=True))
    )


def changed_rows(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE; how many rows it changed."""
    result = session.execute(statement)
    return int(cast("CursorResult[Any]", result).rowcount)


def wkb_of(column: Any) -> Any:
    """Select a geometry column as plain WKB, labelled ``geom``."""
    return func.ST_AsBinary(column).label("geom")


def xy_of(column: Any) -> tuple[Any, Any]:
    """Select a point column as its coordinates, labelled ``x`` and ``y``."""
    return func.ST_X(column).label("x"), func.ST_Y(column).label("y")


def insert_rows(
    session: Session,
    model: Model,
    rows: Sequence[dict[str, Any]] | pd.DataFrame,
    geoms: Sequence[BaseGeometry | None] | np.ndarray,
) -> None:
    """Bulk-insert ``rows`` (dicts, or a frame's rows) with their geometries.

    PostGIS gets COPY, SpatiaLite one executemany, both below the ORM: at a
    million addresses the per-row ORM work cost more than the database did.
    Values still pass through each column type's own bind processor, so what
    is stored is what the ORM would have stored; they are processed a column
    at a time (a frame turned into a million dicts first cost 6 s). Geometries
    always carry their SRID (a geometry without one is silently stored under
    the column's).
    """
    if len(rows) == 0:
        return
    connection = session.connection()
    table = cast("Table", model.__table__)
    names, values = _bound_columns(connection, table, rows)
    geoms = np.asarray(geoms, dtype=object)
    columns = ", ".join([*names, "geom"])
    with (
        _index_rebuilt_if_bulk(connection, table, len(rows)),
        bookkeeping_paused(connection, table.name, len(rows), change="insert"),
    ):
        if is_postgis(connection):
            ewkb = shapely.to_wkb(
                shapely.set_srid(geoms, SRID), hex=True, include_srid=True
            )
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with (
                cursor,
                cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy,
            ):
                for row in zip(*values, ewkb, strict=True):
                    copy.write_row(row)
        else:
            marks = ", ".join(["?"] * len(names))
            connection.exec_driver_sql(
                f"INSERT INTO {table.name} ({columns}) VALUES ({marks}, GeomFromWKB(?, {SRID}))",
                list(zip(*values, shapely.to_wkb(geoms), strict=True)),
            )


def _bound_columns(
    connection: Connection, table: Table, rows: Sequence[dict[str, Any]] | pd.DataFrame
) -> tuple[list[str], list[list[Any]]]:
    """Column names and each column's values as the column type binds them."""
    if isinstance(rows, pd.DataFrame):
        names = [str(c) for c in rows.columns]
        raw = [rows[name].tolist() for name in names]
    else:
        names = list(rows[0])
        raw = [[row[name] for row in rows] for name in names]
    dialect = connection.dialect
    values = []
    for name, column in zip(names, raw, strict=True):
        kind = table.c[name].type
        process = kind.dialect_impl(dialect).bind_processor(dialect)
        if process is None:
            values.append(column)
        elif isinstance(kind, JSON):
            # A city's million addresses carry a million empty attrs: one
            # JSON text, not a million json.dumps (2.2 s).
            empty = process({})
            values.append(
                [empty if isinstance(v, dict) and not v else process(v) for v in column]
            )
        else:
            values.append([process(v) for v in column])
    return names, values


PAUSE_ROWS = 1_000
"""From this many rows, SpatiaLite's per-row bookkeeping triggers are paused."""

_BOOKKEEPING = ("ggi", "ggu", "tmi", "tmu", "tmd")


@contextmanager
def bookkeeping_paused(
    connection: Connection,
    table: str,
    n_rows: int,
    *,
    change: Literal["insert", "update", "delete"] = "update",
) -> Iterator[None]:
    """On SpatiaLite, run one bulk write without its per-row bookkeeping triggers.

    Every geometry column carries triggers that, for each row, check the
    geometry's type and SRID through a subquery (``gg*``) and stamp the
    table's last change in ``geometry_columns_time`` (``tm*``, on any
    update, even of a column that is not the geometry). They took 4 of the
    5.7 s of 217,000 rows into one table. They are dropped for the write and
    made again from their own SQL, the type check runs once over the new
    rows, and the time stamp is set once; all in the write's transaction.

    Raises:
        InvalidInput: ``geometry_type_wrong`` when a new row's geometry breaks
            the column's type or SRID, as the trigger would have refused it.
    """
    if n_rows < PAUSE_ROWS or is_postgis(connection):
        yield
        return
    last = connection.exec_driver_sql(f"SELECT max(rowid) FROM {table}").scalar()
    with _triggers_dropped(connection, table, _BOOKKEEPING):
        yield
    if change == "insert":
        _check_new_geometries(connection, table, last or 0)
    connection.exec_driver_sql(
        f"UPDATE geometry_columns_time SET last_{change} = "
        "strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE f_table_name = ?",
        (table,),
    )


@contextmanager
def _triggers_dropped(
    connection: Connection, table: str, kinds: Sequence[str]
) -> Iterator[None]:
    """SpatiaLite's triggers ``{kind}_{table}_geom`` dropped, then made again from their SQL."""
    names = [f"{kind}_{table}_geom" for kind in kinds]
    found = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN"
        f" ({', '.join('?' * len(names))})",
        tuple(names),
    ).all()
    for name, _ in found:
        connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
    yield
    for _, sql in found:
        connection.exec_driver_sql(sql)


def _check_new_geometries(connection: Connection, table: str, after: int) -> None:
    kind, srid = connection.exec_driver_sql(
        "SELECT geometry_type, srid FROM geometry_columns WHERE f_table_name = ?",
        (table,),
    ).one()
    bad = connection.exec_driver_sql(
        f"SELECT GeometryType(geom) FROM {table} WHERE rowid > ? AND geom IS NOT"
        " NULL AND GeometryConstraints(geom, ?, ?) IS NOT 1 LIMIT 1",
        (after, kind, srid),
    ).first()
    if bad is not None:
        raise InvalidInput(
            "geometry_type_wrong", expected=f"{table}.geom", actual=str(bad[0])
        )


BULK_ROWS = 50_000
"""From this many new rows, and more than the table holds, the spatial index is rebuilt."""


@contextmanager
def _index_rebuilt_if_bulk(
    connection: Connection, table: Table, n_new: int
) -> Iterator[None]:
    """Drop the spatial index and the plain ones for a big load, build them once after.

    Measured on 300,000 points into SpatiaLite: 11.9 s with the R-tree kept
    up to date row by row, 5.3 s with one rebuild at the end. SpatiaLite's
    own rebuild still inserts row by row (19 s for a city's million
    addresses); :mod:`geogrid.store.rtree` packs the tree in one pass (3 s).
    PostGIS builds a GiST index faster in one pass too (DESIGN: COPY, then
    the index). So are B-trees over values in no order: a million address
    texts took 5 s kept row by row, 0.7 s built after. Unique indexes stay:
    they refuse a duplicate as the row arrives. Everything stays in the
    transaction, so a failed import restores it.
    """
    name = table.name
    existing = connection.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar() or 0
    if n_new < max(BULK_ROWS, existing):
        yield
        return
    spatial = f"idx_{name}_geom"  # dropped below, as each backend needs
    plain = [i for i in table.indexes if not i.unique and i.name != spatial]
    for index in plain:
        index.drop(connection)
    if is_postgis(connection):
        connection.exec_driver_sql(f"DROP INDEX {spatial}")
        yield
        connection.exec_driver_sql(
            f"CREATE INDEX {spatial} ON {name} USING gist (geom)"
        )
    else:
        # The triggers that keep the R-tree in step, row by row, rest.
        with _triggers_dropped(connection, name, ("gii", "giu", "gid")):
            yield
        rtree.rebuild(connection, name)
    for index in plain:
        index.create(connection)
