from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from shapely.geometry import box

from geogrid.errors import InvalidInput
from geogrid.services.imports import ImportOptions, import_features
from geogrid.store import frames, links
from geogrid.store.engine import Bind, session_scope
from geogrid.store.models import Address
from tests.factories import X0, Y0


def _addresses(path: Path, n: int, start: int = 0) -> Path:
    rows = "".join(
        f"A{i},东街{i}号,{X0 + i * 1e-5},{Y0}\n" for i in range(start, start + n)
    )
    path.write_text("code,text,lon,lat\n" + rows, encoding="utf-8")
    return path


def _indexed(db: Bind) -> int:
    with session_scope(db) as session:
        if session.bind.dialect.name == "postgresql":
            # The GiST index exists and a bbox query through it finds every row.
            assert session.scalar(
                text(
                    "SELECT count(*) FROM pg_indexes WHERE indexname = 'idx_address_geom'"
                )
            )
            return int(
                session.scalar(
                    text(
                        "SELECT count(*) FROM address WHERE geom && ST_MakeEnvelope(100, 30, 110, 40, 4326)"
                    )
                )
            )
        return int(session.scalar(text("SELECT count(*) FROM idx_address_geom")))


@pytest.mark.parametrize("bulk_rows", [3, 1_000_000], ids=["rebuilt", "kept"])
def test_spatial_index_holds_every_row_after_a_load(
    db: Bind, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bulk_rows: int
) -> None:
    monkeypatch.setattr(frames, "BULK_ROWS", bulk_rows)
    options = ImportOptions(crs="EPSG:4326")

    import_features(
        db, _addresses(tmp_path / "a.csv", 5), layer="addresses", options=options
    )
    import_features(
        db,
        _addresses(tmp_path / "b.csv", 2, start=5),
        layer="addresses",
        options=options,
    )

    assert _indexed(db) == 7
    # The plain indexes dropped for the load are back, under their names.
    with session_scope(db) as session:
        names = {
            i["name"] for i in inspect(session.connection()).get_indexes("address")
        }
    assert {
        "ix_address_text",
        "ix_address_building_code",
        "ix_address_grid_code",
    } <= names


def test_address_texts_stream_in_chunks_that_add_up_to_every_row(
    sample_db: Bind,
) -> None:
    """The address index reads a city's addresses a chunk at a time, none lost."""
    with session_scope(sample_db) as session:
        chunks = list(links.address_text_chunks(session, size=100))
        whole = int(session.scalar(text("SELECT count(*) FROM address")))
    assert len(chunks) == -(-whole // 100) > 1
    assert all(len(c) <= 100 for c in chunks)
    codes = [code for c in chunks for code in c["code"]]
    assert codes == sorted(codes)
    assert len(set(codes)) == whole
    assert list(chunks[0].columns) == ["code", "text", "building_code"]


def _triggers(db: Bind, table: str) -> list[tuple[str, str]]:
    with session_scope(db) as session:
        rows = session.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
                " AND tbl_name = :t ORDER BY name"
            ),
            {"t": table},
        )
        return [(r.name, r.sql) for r in rows]


@pytest.mark.backends("spatialite")
def test_a_bulk_load_without_bookkeeping_triggers_restores_them_and_still_checks_types(
    db: Bind, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SpatiaLite's per-row triggers took 4 of 5.7 s of a city's findings."""
    monkeypatch.setattr(frames, "PAUSE_ROWS", 2)
    before = _triggers(db, "address")
    options = ImportOptions(crs="EPSG:4326")
    import_features(
        db, _addresses(tmp_path / "a.csv", 5), layer="addresses", options=options
    )
    assert _triggers(db, "address") == before
    assert _indexed(db) == 5

    row = {"code": "P", "text": "x", "original_text": "x", "attrs": {}}
    rows = [row | {"code": f"P{i}"} for i in range(3)]
    polygons = [box(107, 35, 107.1, 35.1)] * 3

    def insert() -> None:
        with session_scope(db) as session:
            frames.insert_rows(session, Address, rows, polygons)

    with pytest.raises(InvalidInput) as caught:
        insert()

    assert caught.value.code == "geometry_type_wrong"  # a polygon is no address
    assert _triggers(db, "address") == before
    with session_scope(db) as session:
        assert session.scalar(text("SELECT count(*) FROM address")) == 5


def test_frames_read_as_driver_tuples_equal_frames_read_through_rows(
    db: Bind, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast read of plain columns gives the same frame, points and gaps included."""
    options = ImportOptions(crs="EPSG:4326")
    import_features(
        db, _addresses(tmp_path / "a.csv", 3), layer="addresses", options=options
    )
    with session_scope(db) as session:
        row = {"code": "A9", "text": "无点", "original_text": "无点", "attrs": {}}
        frames.insert_rows(session, Address, [row], [None])

    def read() -> tuple[object, object]:
        with session_scope(db) as session:
            return links.addresses_frame(session), links.address_points(session)

    fast, points = read()
    monkeypatch.setattr(frames, "_plain", lambda stmt: False)
    slow, _ = read()

    assert fast.dtypes.to_dict() == slow.dtypes.to_dict()
    assert fast.drop(columns="geometry").equals(slow.drop(columns="geometry"))
    assert list(fast.geometry.geom_equals_exact(slow.geometry, 0)[:3]) == [True] * 3
    assert list(points["code"]) == ["A0", "A1", "A2", "A9"]
    assert fast.geometry.iloc[3] is None
    assert points["x"].isna().tolist() == [False, False, False, True]
    assert points["x"].iloc[1] == pytest.approx(X0 + 1e-5, abs=1e-12)
