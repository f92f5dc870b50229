import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from geogrid.errors import StorageError
from geogrid.store.engine import display_url, init_db, make_engine, session_scope


def test_missing_spatialite_extension_is_named(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as caught:
        make_engine(
            f"sqlite:///{tmp_path / 'x.sqlite'}",
            spatialite_path="mod_spatialite_nowhere",
        )

    assert caught.value.code == "spatialite_missing"
    assert "libsqlite3-mod-spatialite" in caught.value.message()


def test_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError) as caught:
        make_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.sqlite'}")

    assert caught.value.code == "database_unavailable"


def test_unreachable_postgis_hides_the_password() -> None:
    with pytest.raises(StorageError) as caught:
        make_engine("postgresql+psycopg://user:secret@127.0.0.1:1/geogrid")

    assert caught.value.code == "database_unavailable"
    assert "secret" not in caught.value.message()
    assert (
        display_url("postgresql+psycopg://user:secret@h/db")
        == "postgresql+psycopg://user:***@h/db"
    )


def test_sql_errors_stay_loud_in_a_unit_of_work(tmp_path: Path) -> None:
    # SQLite reports syntax errors as OperationalError too: they are bugs, not
    # an unavailable database, and must not turn into a 503.
    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with pytest.raises(OperationalError), session_scope(engine) as session:
        session.execute(text("SELEC 1"))
    engine.dispose()


def test_locked_spatialite_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    # Loading mod_spatialite sets a 5 s busy timeout; wait 50 ms instead.
    event.listen(
        engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA busy_timeout = 50")
    )
    engine.dispose()
    engine.connect().close()  # pooled, set up before the lock is taken
    holder = sqlite3.connect(path)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StorageError) as caught, session_scope(engine) as session:
            session.execute(text("CREATE TABLE t (x INTEGER)"))
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()

    assert caught.value.code == "database_unavailable"
    assert "locked" in caught.value.message("en")


def test_a_hundred_thousand_codes_are_one_parameter(sample_db) -> None:
    # A city's building codes passed PostgreSQL's 65,535 bind parameters: the
    # import of ten scattered addresses failed there (issue 15).
    from geogrid.store import links as link_store
    from geogrid.store.engine import session_scope

    codes = [f"NOPE-{i}" for i in range(100_000)] + ["620899001001-B0001"]
    with session_scope(sample_db) as session:
        buildings = link_store.buildings_frame(session, codes=codes)
        addresses = link_store.addresses_frame(session, building_codes=codes)
        households = link_store.households_by_grid(
            session, ["620899001001001"] * 70_000
        )

    assert buildings["code"].tolist() == ["620899001001-B0001"]
    assert set(addresses["building_code"]) == {"620899001001-B0001"}
    assert households == {"620899001001001": 414}


def test_a_database_from_a_newer_geogrid_is_refused_by_name(tmp_path: Path) -> None:
    """Going back to an older release must say so, not crash in the migrations."""
    url = f"sqlite:///{tmp_path / 'newer.sqlite'}"
    engine = make_engine(url)
    init_db(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))

    with pytest.raises(StorageError) as caught:
        init_db(engine)
    engine.dispose()

    assert caught.value.code == "schema_newer"
    assert "9999" in caught.value.message()
    assert "升级 geogrid" in caught.value.message()
