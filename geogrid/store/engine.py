"""Connections (数据库连接): SpatiaLite set-up hooks, PostGIS options, migrations."""

# shapely, pyproj and pyogrio must be loaded before any connection loads
# mod_spatialite: the other order crashed pyogrio reads on these machines.
import shapely  # noqa: F401  # isort: skip
import pyproj  # noqa: F401  # isort: skip
import pyogrio  # noqa: F401  # isort: skip

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from geogrid.errors import StorageError


def make_engine(url: str, *, spatialite_path: str = "mod_spatialite") -> Engine:
    """Create an engine for a SpatiaLite file or a PostGIS database and check it answers.

    Raises:
        StorageError: mod_spatialite cannot be loaded (``spatialite_missing``) or
            the database cannot be reached (``database_unavailable``).
    """
    is_sqlite = url.startswith("sqlite")
    engine = (
        create_engine(url)
        if is_sqlite
        # pre_ping: a restarted server is reconnected to, not answered with
        # dead connections; connect_timeout: a host that drops packets fails
        # in seconds instead of the OS's TCP timeout.
        else create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5})
    )
    if is_sqlite:
        _install_spatialite_hooks(engine, spatialite_path)
    try:
        engine.connect().close()
    except AttributeError as exc:
        # A Python whose sqlite3 was built without extension loading (pyenv).
        raise StorageError("spatialite_missing", reason=str(exc)) from exc
    except DBAPIError as exc:
        reason = str(exc.orig).strip()
        if is_sqlite and ("spatialite" in reason or spatialite_path in reason):
            raise StorageError("spatialite_missing", reason=reason) from exc
        raise StorageError(
            "database_unavailable", url=display_url(url), reason=reason
        ) from exc
    return engine


def _install_spatialite_hooks(engine: Engine, spatialite_path: str) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite otherwise starts transactions late and lets SAVEPOINTs commit
        # on their own (SQLAlchemy's SQLite notes); we emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        dbapi_connection.enable_load_extension(True)
        dbapi_connection.load_extension(spatialite_path)
        dbapi_connection.enable_load_extension(False)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        # Writers wait for each other instead of failing "database is locked",
        # and readers never block a writer (WAL; ignored for :memory:).
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        if cursor.execute("SELECT CheckSpatialMetaData()").fetchone()[0] < 1:
            # One transaction and only the WGS84 family of SRIDs: 0.1 s instead
            # of 16 s on a new file; storage is EPSG:4326 only.
            cursor.execute("SELECT InitSpatialMetaData(1, 'WGS84')")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # A write takes the write lock when it starts: two editors of one
        # record then run one after the other, and the second sees the first
        # one's version (412), instead of both reading and one failing BUSY.
        immediate = connection.info.get(_IMMEDIATE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def display_url(url: str) -> str:
    """The database URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def alembic_config() -> Config:
    """Alembic configuration pointing at the packaged migrations."""
    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("geogrid.store") / "migrations")
    )
    return config


def init_db(engine: Engine) -> None:
    """Bring the schema to the newest migration (建库/升级); safe to repeat."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        config = alembic_config()
        config.attributes["connection"] = connection
        _refuse_newer_schema(connection, config)
        command.upgrade(config, "head")


def _refuse_newer_schema(connection: Connection, config: Config) -> None:
    """A database written by a newer geogrid is refused by name, not as a crash.

    Alembic would fail with "Can't locate revision" deep in a traceback; an
    office that went back to an older release must be told to upgrade.
    """
    current = MigrationContext.configure(connection).get_current_revision()
    scripts = ScriptDirectory.from_config(config)
    if current is None:
        return
    try:
        scripts.get_revision(current)
    except CommandError:
        raise StorageError(
            "schema_newer", revision=current, head=scripts.get_current_head()
        ) from None


Bind = Engine | Connection
"""Where services run: an engine, or a connection already in a transaction (tests)."""


SQLITE_BUSY_MS = 10_000
"""How long a SQLite writer waits for another before the database counts as busy."""
_IMMEDIATE = "geogrid_begin_immediate"


@contextmanager
def session_scope(bind: Bind, *, write: bool = False) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error.

    ``write`` marks a read-then-write unit (an edit checked against a
    version): on SQLite it starts with the write lock, so concurrent edits
    are serialised rather than refused as "database is locked".

    Given a connection inside a transaction, the unit becomes a SAVEPOINT, so
    a caller (a test, a plan preview) can still roll everything back.

    Raises:
        StorageError: the database went away or cannot be reached
            (``database_unavailable``); the unit left nothing behind. The
            engine's pool (``pool_pre_ping``) reconnects on a later unit.
    """
    if write and isinstance(bind, Engine) and bind.dialect.name == "sqlite":
        with _unavailable_as_storage_error(bind), bind.connect() as connection:
            connection.info[_IMMEDIATE] = True
            try:
                with session_scope(connection) as session:
                    yield session
            finally:
                connection.info.pop(_IMMEDIATE, None)
        return
    with (
        _unavailable_as_storage_error(bind),
        Session(
            bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
        ) as session,
        session.begin(),
    ):
        yield session


@contextmanager
def _unavailable_as_storage_error(bind: Bind) -> Iterator[None]:
    try:
        yield
    except (DBAPIError, DisconnectionError, PoolTimeout) as exc:
        if not _is_unavailable(exc):
            raise
        # The driver's own words, without the SQL statement SQLAlchemy appends.
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        raise StorageError(
            "database_unavailable",
            url=bind.engine.url.render_as_string(hide_password=True),
            reason=reason[0] if reason else type(exc).__name__,
        ) from exc


# SQLite's primary result codes that mean "not now" rather than a bug:
# BUSY, LOCKED, IOERR, FULL, CANTOPEN. Its OperationalError also covers
# syntax and schema errors, which must stay loud.
_SQLITE_UNAVAILABLE = {5, 6, 10, 13, 14}
_POSTGRES_UNAVAILABLE = {"08", "40", "53", "57"}


def _is_unavailable(exc: Exception) -> bool:
    """Whether a database error means the database cannot serve now, not a bug."""
    if not isinstance(exc, DBAPIError):
        return True  # the pool gave up: disconnected, or no connection in time
    if exc.connection_invalidated or exc.statement is None:
        return True  # the connection dropped, or none could be made
    code = getattr(exc.orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _SQLITE_UNAVAILABLE
    # PostgreSQL: connection lost or refused (08), shutdown or cancel (57),
    # out of resources (53), lock or serialisation conflict (40). A statement
    # the client library refused (too many parameters, say) has no SQLSTATE:
    # a bug to report as one, not a database to wait for.
    state = getattr(exc.orig, "sqlstate", None)
    if state is None:
        return isinstance(exc, OperationalError) and "parameters" not in str(exc.orig)
    return state[:2] in _POSTGRES_UNAVAILABLE
