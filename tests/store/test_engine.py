from pathlib import Path

import pytest

from geogrid.errors import StorageError
from geogrid.store.engine import display_url, make_engine


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
