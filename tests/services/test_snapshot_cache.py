"""Lookup snapshots saved by one process and loaded by the next, never stale or foreign."""

import threading
import time
from pathlib import Path

import pytest

from geogrid.domain.access import Role
from geogrid.services import lookup
from geogrid.services.imports import ImportOptions, import_features
from geogrid.services.lookup import LookupService
from geogrid.services.snapshot_cache import SnapshotCache, snapshot_cache
from geogrid.store.batches import data_stamp
from geogrid.store.engine import Bind, session_scope

ADDRESS = "东大街1号9单元909室"


def _service(db: Bind, folder: Path) -> LookupService:
    return LookupService(db, cache=SnapshotCache(folder, "the-database"))


def _refuse(*args: object) -> None:
    raise AssertionError("built, although a saved snapshot matched")


def _no_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lookup, "_build_snapshot", _refuse)
    monkeypatch.setattr(lookup.AddressIndex, "build", _refuse)


def test_the_next_process_loads_the_snapshot_instead_of_building_it(
    sample_db: Bind, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _service(sample_db, tmp_path)
    expected = first.address("东大街1号", caller=Role.ADMIN)
    assert list(tmp_path.glob("lookup-*.pickle"))

    _no_builds(monkeypatch)
    second = _service(sample_db, tmp_path)

    assert second.address("东大街1号", caller=Role.ADMIN) == expected
    assert second.snapshot().has_addresses


def test_after_a_write_the_saved_snapshot_is_not_used(
    sample_copy: Bind, tmp_path: Path
) -> None:
    _service(sample_copy, tmp_path).address("东大街1号")
    path = tmp_path / "new.csv"
    path.write_text(
        f"code,text,lon,lat\nNEW-1,{ADDRESS},107.368035,35.34172425\n",
        encoding="utf-8",
    )
    import_features(
        sample_copy, path, layer="addresses", options=ImportOptions(crs="EPSG:4326")
    )

    found = _service(sample_copy, tmp_path).address(ADDRESS, caller=Role.ADMIN)

    assert found.address is not None
    assert found.address.code == "NEW-1"
    assert len(list(tmp_path.glob("lookup-*.pickle"))) == 1  # the old one dropped


@pytest.mark.backends("spatialite")
def test_a_file_others_may_write_or_a_torn_file_is_never_read(
    sample_db: Bind, tmp_path: Path
) -> None:
    _service(sample_db, tmp_path).address("东大街1号")
    [saved] = tmp_path.glob("lookup-*.pickle")
    whole = saved.read_bytes()
    cache = SnapshotCache(tmp_path, "the-database")
    with session_scope(sample_db) as session:
        stamp = data_stamp(session)

    assert cache.load(stamp) is not None
    saved.chmod(0o666)  # anyone could have put code in it
    assert cache.load(stamp) is None
    saved.chmod(0o600)
    saved.write_bytes(whole[: len(whole) // 2])
    assert cache.load(stamp) is None
    assert SnapshotCache(tmp_path, "another-database").load(stamp) is None


def test_off_keeps_no_cache_and_empty_means_the_users_cache_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert snapshot_cache("off", "db") is None
    default = snapshot_cache("", "db")
    assert default is not None
    assert default.folder == tmp_path / "geogrid"


def test_one_worker_builds_while_the_others_wait_for_it(tmp_path: Path) -> None:
    """Two workers told of one write built the same index at once: 2 cores for 20 s."""
    cache = SnapshotCache(tmp_path, "the-database")
    holding, order = threading.Event(), []

    def first() -> None:
        with cache.one_builder():
            holding.set()
            time.sleep(0.3)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    holding.wait(5)
    with SnapshotCache(tmp_path, "the-database").one_builder():
        order.append("second in")
    thread.join()

    assert order == ["first done", "second in"]


def test_a_worker_that_waited_takes_the_index_the_other_saved(
    sample_db: Bind, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waiting = _service(sample_db, tmp_path)
    snap = waiting.snapshot()  # built before the other worker saved its own
    expected = _service(sample_db, tmp_path).address("东大街1号", caller=Role.ADMIN)

    monkeypatch.setattr(lookup.AddressIndex, "build", _refuse)

    assert waiting.address_index(snap) is not None
    assert waiting.address("东大街1号", caller=Role.ADMIN) == expected
