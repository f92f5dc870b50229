"""Assignment on the sample county: the seeded stray building, and redraws kept current."""

import json
from pathlib import Path

import pandas as pd

import geopandas as gpd
import shapely

from geogrid.domain.codes import AreaLevel
from geogrid.services.assignment import AssignOptions, assign_all
from geogrid.services.boundaries import import_boundaries
from geogrid.services.imports import ImportOptions
from geogrid.store import links as link_store
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


def test_redraw_recomputes_links_incrementally_as_a_full_run_would(
    sample_copy: Bind, tmp_path: Path
) -> None:
    # Move a 150 m strip of grid 001 into grid 002 of 东街社区.
    grids = gpd.read_file(SAMPLE / "grid.geojson")
    one = grids["code"] == "620899001001001"
    two = grids["code"] == "620899001001002"
    first, second = grids.loc[one].geometry.iloc[0], grids.loc[two].geometry.iloc[0]
    _minx, miny, maxx, maxy = first.bounds
    strip = shapely.box(maxx - 0.0017, miny, maxx, maxy).intersection(first)
    grids.loc[one, "geometry"] = first.difference(strip)
    grids.loc[two, "geometry"] = second.union(strip)
    community = grids[grids["parent_code"] == "620899001001"]
    community.to_file(tmp_path / "redraw.geojson")
    before, _ = _links(sample_copy)

    import_boundaries(
        sample_copy,
        tmp_path / "redraw.geojson",
        level=AreaLevel.GRID,
        options=ImportOptions(parent_field="parent_code"),
        tolerance_m=5.0,
    )
    incremental = _links(sample_copy)
    assign_all(sample_copy, AssignOptions())
    full = _links(sample_copy)

    moved = before.merge(incremental[0], on="code")
    assert (moved["grid_code_x"] != moved["grid_code_y"]).sum() > 0
    pd.testing.assert_frame_equal(incremental[0], full[0])
    pd.testing.assert_frame_equal(incremental[1], full[1])
