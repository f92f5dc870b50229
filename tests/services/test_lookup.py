"""Who covers a point, an address or a shape, on the sample county, both backends."""

from pathlib import Path

import pytest

from shapely.geometry import box, mapping

from geogrid.domain.access import Role
from geogrid.domain.answers import AddressAnswer, ContactCard, PointAnswer
from geogrid.errors import InvalidInput
from geogrid.services.imports import ImportOptions, import_features
from geogrid.services.lookup import LookupService, Snapshot
from geogrid.spatial.crs import wgs84_to_bd09, wgs84_to_gcj02
from geogrid.store.engine import Bind, session_scope

# Building 东大街1号 of 东街社区第1网格 and its point-on-surface.
BUILDING = "620899001001-B0001"
GRID = "620899001001001"
LON, LAT = 107.368035, 35.34172425
FLOOR_HEAD_PRIVATE_PHONE = (
    "13800008017"  # 邵西, 楼长 of that building, phone not public
)


def _levels(result: PointAnswer | AddressAnswer) -> dict[str, str]:
    return {level.level: level.code for level in result.chain}


def _holders(result: PointAnswer, level: str) -> dict[str, ContactCard]:
    entry = next(e for e in result.chain if e.level == level)
    return {card.role: card for card in entry.holders}


def test_point_in_a_building_gives_the_whole_chain(sample_db: Bind) -> None:
    result = LookupService(sample_db).point(LON, LAT, caller=Role.STAFF)

    assert result.found
    assert _levels(result) == {
        "district": "620899000000",
        "street": "620899001000",
        "community": "620899001001",
        "grid": GRID,
        "building": BUILDING,
    }
    grid = _holders(result, "grid")
    assert grid["grid_head"].name == "何婷"
    assert set(grid) == {
        "grid_head",
        "grid_worker",
        "health_worker",
        "legal_adviser",
        "police",
    }
    assert _holders(result, "building")["floor_head"].phone == FLOOR_HEAD_PRIVATE_PHONE


def test_public_caller_sees_masked_private_phones_only(sample_db: Bind) -> None:
    result = LookupService(sample_db).point(LON, LAT, caller=Role.PUBLIC)

    floor_head = _holders(result, "building")["floor_head"]
    assert floor_head.phone == "138****8017"
    assert FLOOR_HEAD_PRIVATE_PHONE not in result.model_dump_json()
    assert _holders(result, "building")["building_head"].organisation is None


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_point_in_chinese_map_coordinates_lands_on_the_same_building(
    sample_db: Bind, crs: str
) -> None:
    convert = wgs84_to_gcj02 if crs == "gcj02" else wgs84_to_bd09
    x, y = convert(LON, LAT)

    result = LookupService(sample_db).point(float(x), float(y), crs=crs)

    assert _levels(result)["building"] == BUILDING
    assert result.query.lon_wgs84 == pytest.approx(LON, abs=1e-8)


def test_point_in_the_seeded_gap_has_no_grid(sample_db: Bind) -> None:
    # The stray building 620899001006-B0017 sits in the gap between two grids.
    service = LookupService(sample_db)
    snap = service.snapshot()
    stray = snap.index.building_geoms_m[
        list(snap.index.building_code).index("620899001006-B0017")
    ]
    lon, lat = snap.index.to_metric.transform(
        stray.representative_point().x,
        stray.representative_point().y,
        direction="INVERSE",
    )

    result = service.point(lon, lat)

    levels = _levels(result)
    assert levels["community"] == "620899001006"
    assert "grid" not in levels
    assert levels["building"] == "620899001006-B0017"


def test_point_outside_the_county_is_not_found_but_names_no_building(
    sample_db: Bind,
) -> None:
    result = LookupService(sample_db).point(116.39, 39.91)

    assert (result.found, result.chain, result.nearest_building) == (False, [], None)


def test_swapped_point_is_refused(sample_db: Bind) -> None:
    with pytest.raises(InvalidInput) as caught:
        LookupService(sample_db).point(LAT, LON)

    assert caught.value.code == "latlon_swapped"


def test_exact_address_text_finds_its_building_and_grid(sample_db: Bind) -> None:
    text = "甘肃省平凉市安和县城关街道东街社区东大街1号1单元101室"

    result = LookupService(sample_db).address(text, caller=Role.STAFF)

    assert result.found
    assert result.address is not None
    assert result.address.code == "620899001001-B0001-001"
    assert _levels(result)["grid"] == GRID
    assert _levels(result)["building"] == BUILDING


def test_address_in_another_form_still_matches(sample_db: Bind) -> None:
    result = LookupService(sample_db).address(
        "西街社区龙泉小区一号楼一单元102", caller=Role.STAFF
    )

    assert result.found
    assert result.address is not None
    assert result.address.code == "620899001002-B0181-002"


def test_estate_and_building_number_alone_find_the_building(sample_db: Bind) -> None:
    result = LookupService(sample_db).address("商业局家属院2号楼")

    assert result.found
    assert _levels(result)["building"] == "620899001001-B0137"


def test_unknown_address_is_not_a_confident_answer(sample_db: Bind) -> None:
    result = LookupService(sample_db).address("上海市浦东新区陆家嘴环路1000号")

    assert not result.found
    assert result.chain == []


def test_public_address_lookup_never_returns_address_records(sample_db: Bind) -> None:
    result = LookupService(sample_db).address(
        "东街社区东大街1号1单元101室", caller=Role.PUBLIC
    )

    assert result.address is None
    assert {c.kind for c in result.candidates} <= {"building"}
    # The caller's own query is echoed; no stored address text is.
    assert "101室" not in result.model_dump_json(exclude={"query"})


def test_within_a_shape_lists_grids_buildings_and_households(sample_db: Bind) -> None:
    around = box(LON - 0.0002, LAT - 0.0002, LON + 0.0002, LAT + 0.0002)
    service = LookupService(sample_db)

    staff = service.within(mapping(around), caller=Role.STAFF)
    public = service.within(mapping(around), caller=Role.PUBLIC)

    assert GRID in {g.code for g in staff.grids}
    assert BUILDING in {b.code for b in staff.buildings}
    assert staff.addresses is not None
    assert staff.n_addresses == len(staff.addresses) > 0
    assert staff.households >= staff.n_addresses - 5
    assert public.addresses is None
    assert public.n_addresses == staff.n_addresses


_OPEN_RING = {
    "type": "Polygon",
    "coordinates": [[[LON, LAT], [LON + 0.001, LAT], [LON + 0.001, LAT + 0.001]]],
}


@pytest.mark.parametrize(
    ("geometry", "code"),
    [
        ({"type": "Point", "coordinates": [LON, LAT]}, "geometry_type_wrong"),
        ({"type": "Polygon", "coordinates": "nope"}, "geojson_invalid"),
        (mapping(box(100, 20, 110, 30)), "shape_too_large"),
        (mapping(box(-180, -90, 180, 90)), "shape_too_large"),
        (_OPEN_RING, "ring_not_closed"),
        (mapping(box(LAT, LON, LAT + 0.001, LON + 0.001)), "latlon_swapped"),
        (mapping(box(500, 0, 501, 1)), "coordinate_out_of_range"),
        ({"type": "Polygon", "coordinates": []}, "geometry_empty"),
        ({"type": "Feature", "geometry": None}, "geometry_missing"),
    ],
    ids=[
        "point",
        "garbage",
        "too-large",
        "whole-world",
        "open-ring",
        "swapped",
        "out-of-range",
        "empty",
        "no-geometry",
    ],
)
def test_within_refuses_bad_shapes(sample_db: Bind, geometry: dict, code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        LookupService(sample_db).within(geometry)

    assert caught.value.code == code


def _new_address(folder: Path) -> Path:
    """One address in a building of 东大街, as a CSV an office would send."""
    path = folder / "new.csv"
    path.write_text(
        "code,text,lon,lat\nNEW-1,东大街1号9单元909室,107.368035,35.34172425\n",
        encoding="utf-8",
    )
    return path


def test_a_change_written_elsewhere_is_rebuilt_while_the_old_snapshot_answers(
    sample_copy: Bind, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another worker or the CLI wrote: lookups keep answering, then see the change."""
    service = LookupService(sample_copy, recheck_s=0)
    before = service.snapshot()
    service.address_index(before)
    published_bare = []
    build_index = service._build_address_index

    def spy(snap: Snapshot) -> None:
        # Published before its index, a snapshot makes address lookups wait.
        published_bare.append(any(s is snap for s in service._snapshots.values()))
        build_index(snap)

    monkeypatch.setattr(service, "_build_address_index", spy)
    import_features(  # as another process would: this service is not told
        sample_copy,
        _new_address(tmp_path),
        layer="addresses",
        options=ImportOptions(crs="EPSG:4326"),
    )

    during = service.snapshot()
    assert during is before
    assert service._rebuilding is not None
    service._rebuilding.join(timeout=120)
    after = service.snapshot()

    assert after.version > before.version
    assert after.has_addresses
    assert published_bare == [False]  # built before it answered anything
    found = service.address("东大街1号9单元909室", caller=Role.ADMIN)
    assert found.address is not None
    assert found.address.code == "NEW-1"


def test_this_process_reads_its_own_write_at_once(
    sample_copy: Bind, tmp_path: Path
) -> None:
    service = LookupService(sample_copy, recheck_s=3600)
    before = service.snapshot()
    import_features(
        sample_copy,
        _new_address(tmp_path),
        layer="addresses",
        options=ImportOptions(crs="EPSG:4326"),
    )

    service.data_changed()

    assert service.snapshot().version > before.version


@pytest.mark.parametrize("same_building", [True, False], ids=["one building", "two"])
def test_a_text_stored_twice_gets_the_index_verdict_before_the_index_exists(
    sample_copy: Bind, same_building: bool
) -> None:
    """Registers hold duplicates (3 % of a generated city's texts): none waits either.

    Two addresses alike are a question back, with both to choose from, in one
    building or two, before the index as after it.
    """
    from sqlalchemy import text

    with session_scope(sample_copy) as session:
        first, second = session.execute(
            text(
                "SELECT code, text, building_code FROM address"
                " WHERE building_code IS NOT NULL ORDER BY code LIMIT 2 OFFSET 40"
            )
        ).all()
        if not same_building:
            other = session.execute(
                text(
                    "SELECT building_code FROM address WHERE building_code != :b"
                    " AND building_code IS NOT NULL LIMIT 1"
                ),
                {"b": first[2]},
            ).scalar_one()
        session.execute(
            text("UPDATE address SET text = :t, building_code = :b WHERE code = :c"),
            {"t": first[1], "b": first[2] if same_building else other, "c": second[0]},
        )
    early = LookupService(sample_copy)
    answer = early.address(first[1], caller=Role.STAFF)
    assert not early.snapshot().has_addresses  # answered without the index
    full = LookupService(sample_copy)
    full.address_index(full.snapshot())
    indexed = full.address(first[1], caller=Role.STAFF)

    assert answer.found is indexed.found is False
    assert [c.code for c in answer.candidates] == [first[0], second[0]]
    assert {first[0], second[0]} <= {c.code for c in indexed.candidates}


def test_a_server_answered_from_the_table_goes_on_to_build_its_index(
    sample_db: Bind,
) -> None:
    """A worker whose every query is an exact text must not stay off the index for good.

    The city benchmark's second worker did: each address was a database
    query, and its p99 at 32 connections doubled.
    """
    from sqlalchemy import text

    with session_scope(sample_db) as session:
        stored = session.execute(
            text("SELECT original_text FROM address ORDER BY code LIMIT 1 OFFSET 7")
        ).scalar_one()
    server = LookupService(sample_db, index_on_miss=True)

    assert server.address(stored).found
    assert server._indexing is not None
    server._indexing.join(timeout=60)
    assert server.snapshot().has_addresses
    cli = LookupService(sample_db)  # one question: no index built for it
    cli.address(stored)
    assert cli._indexing is None
    assert not cli.snapshot().has_addresses


def test_an_address_typed_as_stored_is_answered_before_the_index_exists(
    sample_db: Bind,
) -> None:
    """On a city the index takes 15 s to build: a stored address need not wait for it."""
    from sqlalchemy import text

    with session_scope(sample_db) as session:
        code, stored = session.execute(
            text(
                "SELECT code, original_text FROM address ORDER BY code LIMIT 1 OFFSET 40"
            )
        ).one()
    early = LookupService(sample_db)
    answer = early.address(stored, caller=Role.STAFF)
    snap = early.snapshot()

    assert not snap.has_addresses  # no index was built for it
    assert answer.found
    assert answer.address is not None
    assert answer.address.code == code
    full = LookupService(sample_db)
    full.address_index(full.snapshot())
    indexed = full.address(stored, caller=Role.STAFF)
    assert indexed.address is not None
    assert indexed.address.code == code
    assert answer.chain == indexed.chain

    # Typed another way (without the province), it waits for the index,
    # which finds it all the same.
    shorter = stored.removeprefix("甘肃省")
    assert shorter != stored
    other = early.address(shorter, caller=Role.STAFF)
    assert snap.has_addresses
    assert other.address is not None
    assert other.address.code == code
