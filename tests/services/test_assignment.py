"""Assignment on the sample county: the seeded stray building, and redraws kept current."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
import shapely

from geogrid.domain.codes import AreaLevel
from geogrid.services.assignment import (
    AssignOptions,
    assign_all,
    cluster_boxes,
    reassign_region,
)
from geogrid.services.boundaries import import_boundaries
from geogrid.services.imports import ImportOptions, import_features
from geogrid.services.lookup import LookupService
from geogrid.store import links as link_store
from geogrid.store.batches import utcnow
from geogrid.store.engine import Bind, session_scope
from tests.conftest import SAMPLE

STRAY = "620899001006-B0017"


def _links(db: Bind) -> tuple[pd.DataFrame, pd.DataFrame]:
    with session_scope(db) as session:
        buildings = pd.DataFrame(
            link_store.buildings_frame(session).drop(columns="geometry")
        )
        addresses = pd.DataFrame(
            link_store.addresses_frame(session).drop(columns="geometry")
        )
    return buildings, addresses


def test_sample_assignment_finds_the_stray_building_and_nothing_else(
    sample_copy: Bind,
) -> None:
    summary = assign_all(sample_copy, AssignOptions())

    stray_households = json.loads((SAMPLE / "defects.json").read_text())["summary"]
    buildings, addresses = _links(sample_copy)
    stray_addresses = int((addresses["building_code"] == STRAY).sum())
    assert summary.buildings_in_no_grid == [STRAY]
    assert summary.buildings_split == []
    assert summary.reasons == {
        "in_building": stray_households["addresses"] - stray_addresses,
        "outside": stray_addresses,
    }
    # Every address is linked to the building it was generated in.
    linked = addresses.dropna(subset=["building_code"])
    assert (linked["code"].str[:18] == linked["building_code"]).all()
    assert (
        buildings.set_index("code").loc["620899001001-B0001", "grid_code"]
        == "620899001001001"
    )


def _redraw_strip(db: Bind, tmp_path: Path) -> None:
    """Move the south-west corner of grid 001 of 东街社区 (28 buildings) into its neighbour 002."""
    grids = gpd.read_file(SAMPLE / "grid.geojson")
    one = grids["code"] == "620899001001001"
    two = grids["code"] == "620899001001002"
    first, second = grids.loc[one].geometry.iloc[0], grids.loc[two].geometry.iloc[0]
    minx, miny, _, _ = first.bounds
    strip = shapely.box(minx, miny, minx + 0.003, miny + 0.0015).intersection(first)
    grids.loc[one, "geometry"] = first.difference(strip)
    grids.loc[two, "geometry"] = second.union(strip)
    grids[grids["parent_code"] == "620899001001"].to_file(tmp_path / "redraw.geojson")
    import_boundaries(
        db,
        tmp_path / "redraw.geojson",
        level=AreaLevel.GRID,
        options=ImportOptions(parent_field="parent_code"),
        tolerance_m=5.0,
    )


def link_frame(db: Bind, codes: list[str]) -> gpd.GeoDataFrame:
    with session_scope(db) as session:
        return link_store.buildings_frame(session, codes=list(codes))


def test_redraw_recomputes_links_incrementally_as_a_full_run_would(
    sample_copy: Bind, tmp_path: Path
) -> None:
    before, _ = _links(sample_copy)

    _redraw_strip(sample_copy, tmp_path)
    incremental = _links(sample_copy)
    assign_all(sample_copy, AssignOptions())
    full = _links(sample_copy)

    moved = before.merge(incremental[0], on="code")
    moved = moved[
        (moved["grid_code_x"] == "620899001001001")
        & (moved["grid_code_y"] == "620899001001002")
    ]
    assert len(moved) >= 20
    pd.testing.assert_frame_equal(incremental[0], full[0])
    pd.testing.assert_frame_equal(incremental[1], full[1])


def test_imported_address_is_linked_at_once(sample_copy: Bind, tmp_path: Path) -> None:
    csv = tmp_path / "new.csv"
    csv.write_text(
        "code,text,lon,lat\nNEW-1,东大街1号1单元999室,107.368035,35.34172425\n",
        encoding="utf-8",
    )

    import_features(
        sample_copy, csv, layer="addresses", options=ImportOptions(crs="EPSG:4326")
    )

    _, addresses = _links(sample_copy)
    new = addresses.set_index("code").loc["NEW-1"]
    assert (new["building_code"], new["grid_code"], new["assign_reason"]) == (
        "620899001001-B0001",
        "620899001001001",
        "in_building",
    )


def test_a_batch_spread_over_the_county_relinks_as_a_full_run_would(
    sample_copy: Bind, tmp_path: Path
) -> None:
    """Scattered rows re-link their neighbourhoods, never the batch's bounding box.

    Buildings moved from one end of the county to the other take their old
    addresses' links with them; addresses typed at buildings far apart, and
    one just outside a wall, land where a full run puts them.
    """
    buildings = gpd.read_file(SAMPLE / "buildings.geojson")
    spread = buildings.iloc[:: len(buildings) // 6].head(6)
    moved = spread.head(2).copy()
    moved["geometry"] = spread.tail(2).geometry.translate(0.0003).to_numpy()[::-1]
    moved[["code", "geometry"]].to_file(tmp_path / "moved.geojson")
    inside = spread.geometry.representative_point()
    box = spread.geometry.bounds  # ~2 m east of each building's bounding box
    outside = gpd.points_from_xy(box["maxx"] + 0.00002, (box["miny"] + box["maxy"]) / 2)
    points = gpd.GeoDataFrame(
        {
            "code": [f"NEW-{i}" for i in range(12)],
            "text": [f"新地址{i}号" for i in range(12)],
        },
        geometry=[*inside, *outside],
        crs=buildings.crs,
    )
    points.to_file(tmp_path / "new.geojson")

    import_features(
        sample_copy,
        tmp_path / "moved.geojson",
        layer="buildings",
        options=ImportOptions(),
    )
    import_features(
        sample_copy,
        tmp_path / "new.geojson",
        layer="addresses",
        options=ImportOptions(),
    )
    incremental = _links(sample_copy)
    assign_all(sample_copy, AssignOptions())
    full = _links(sample_copy)

    pd.testing.assert_frame_equal(incremental[0], full[0])
    pd.testing.assert_frame_equal(incremental[1], full[1])
    new = incremental[1].set_index("code").loc[points["code"]]
    assert new["grid_code"].notna().all()


def test_two_far_corners_relink_their_neighbourhoods_not_the_box_between(
    sample_copy: Bind,
) -> None:
    buildings = gpd.read_file(SAMPLE / "buildings.geojson")
    corners = buildings.iloc[[0, -1]].geometry.bounds.to_numpy().tolist()
    _, before = _links(sample_copy)

    with session_scope(sample_copy) as session:
        summary = reassign_region(session, corners, AssignOptions())

    assert 0 < summary.addresses < len(before) / 20
    assert summary.buildings < len(buildings) / 20


def cluster_cases() -> list[tuple[int, int]]:
    return [(10, 10), (5_000, 64)]


@pytest.mark.parametrize(("rows", "most"), cluster_cases())
def test_clustered_boxes_cover_every_row_in_few_probes(rows: int, most: int) -> None:
    rng = np.random.default_rng(3)
    x, y = rng.uniform(107, 108, rows), rng.uniform(35, 36, rows)
    bounds = np.c_[x, y, x + 1e-4, y + 1e-4]

    boxes = np.array(cluster_boxes(bounds))

    assert len(boxes) <= most
    inside = (
        (bounds[:, None, 0] >= boxes[None, :, 0])
        & (bounds[:, None, 1] >= boxes[None, :, 1])
        & (bounds[:, None, 2] <= boxes[None, :, 2])
        & (bounds[:, None, 3] <= boxes[None, :, 3])
    )
    assert inside.any(axis=1).all()
    if rows <= most:  # scattered rows keep their own small boxes
        assert (boxes[:, 2] - boxes[:, 0]).max() < 1e-3


def test_lookup_as_of_a_date_answers_with_that_generation(
    sample_copy: Bind, tmp_path: Path
) -> None:
    before, _ = _links(sample_copy)
    between = utcnow()
    _redraw_strip(sample_copy, tmp_path)
    after, _ = _links(sample_copy)
    moved = before.merge(after, on="code")
    code = moved[
        (moved["grid_code_x"] == "620899001001001")
        & (moved["grid_code_y"] == "620899001001002")
    ]["code"].iloc[0]
    point = link_frame(sample_copy, [code]).geometry.representative_point().iloc[0]
    service = LookupService(sample_copy)

    now = service.point(point.x, point.y)
    then = service.point(point.x, point.y, as_of=between)

    grid_now = next(e.code for e in now.chain if e.level == "grid")
    grid_then = next(e.code for e in then.chain if e.level == "grid")
    assert (grid_then, grid_now) == ("620899001001001", "620899001001002")


def _link_indexes(db: Bind) -> list[tuple[str, tuple[str, ...]]]:
    from sqlalchemy import inspect

    with session_scope(db) as session:
        found = inspect(session.connection()).get_indexes("address")
    return sorted((i["name"], tuple(i["column_names"])) for i in found)


def test_a_full_run_written_without_link_indexes_stores_the_same_links_and_them(
    sample_copy: Bind, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A city's million link updates moved index entries each: 13 s of 21 (SpatiaLite).

    On PostGIS the GiST index is rebuilt too: every updated row was a new
    version with a new GiST entry.
    """
    indexes = _link_indexes(sample_copy)
    assert ("ix_address_grid_code", ("grid_code",)) in indexes
    if sample_copy.dialect.name == "postgresql":  # type: ignore[union-attr]
        assert ("idx_address_geom", ("geom",)) in indexes
    assign_all(sample_copy, AssignOptions())
    expected = _links(sample_copy)
    with session_scope(sample_copy) as session:  # forget them, to see them written
        session.execute(link_store.Address.__table__.update().values(grid_code=None))

    monkeypatch.setattr(link_store, "BULK_ROWS", 1)
    assign_all(sample_copy, AssignOptions())

    assert _link_indexes(sample_copy) == indexes
    pd.testing.assert_frame_equal(_links(sample_copy)[0], expected[0])
    pd.testing.assert_frame_equal(_links(sample_copy)[1], expected[1])


def test_a_rerun_writes_only_the_links_that_changed(
    sample_copy: Bind, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A re-run rewrote every unchanged row: a new row version each on PostGIS."""
    expected = _links(sample_copy)
    with session_scope(sample_copy) as session:
        session.execute(
            link_store.Address.__table__.update()
            .where(link_store.Address.code == expected[1]["code"].iloc[0])
            .values(grid_code=None, assign_reason=None)
        )
    written: list[int] = []
    changed = link_store._changed

    def spy(*args: object) -> object:
        rows = changed(*args)  # type: ignore[arg-type]
        written.append(len(rows))
        return rows

    monkeypatch.setattr(link_store, "_changed", spy)
    assign_all(sample_copy, AssignOptions())

    assert written == [0, 1]  # buildings, addresses
    pd.testing.assert_frame_equal(_links(sample_copy)[1], expected[1])
