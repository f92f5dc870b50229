"""Import → export → import gives the same geometries and attributes."""

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import geopandas as gpd
import pyogrio
import shapely

from geogrid.domain.codes import AreaLevel
from geogrid.errors import InvalidInput
from geogrid.services.boundaries import import_boundaries
from geogrid.services.exports import export_layer, layer_frame
from geogrid.services.imports import ImportOptions, import_features
from geogrid.services.people import import_people
from geogrid.store.engine import Bind, make_engine
from tests.factories import COMMUNITY, community_file, grid_file, square, write_geojson
from tests.services.test_features import _buildings
from tests.services.test_people import LI_POLICE, ZHANG_HEAD, ZHANG_WORKER, _csv


@pytest.fixture
def second_db(database_url: str) -> Iterator[Bind]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _load(db: Bind, folder: Path, files: dict[str, Path]) -> None:
    for level in (AreaLevel.COMMUNITY, AreaLevel.GRID):
        import_boundaries(
            db, files[level.value], level=level, options=ImportOptions(), tolerance_m=5
        )
    import_features(db, files["buildings"], layer="buildings", options=ImportOptions())
    import_people(
        db, files["people"], scheme_name=None, default_scheme="三长三员一民警"
    )


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    if isinstance(a, gpd.GeoDataFrame):
        assert shapely.equals_exact(
            a.geometry.to_numpy(), b.geometry.to_numpy(), 1e-7
        ).all()
        a, b = (
            pd.DataFrame(a.drop(columns="geometry")),
            pd.DataFrame(b.drop(columns="geometry")),
        )
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson"])
def test_round_trip_keeps_geometries_and_attributes(
    db: Bind, second_db: Bind, tmp_path: Path, suffix: str
) -> None:
    files = {
        "community": community_file(tmp_path / "c.geojson"),
        "grid": grid_file(tmp_path / "g.geojson"),
        "buildings": _buildings(tmp_path / "b.geojson"),
        "people": _csv(tmp_path, ZHANG_HEAD, ZHANG_WORKER, LI_POLICE),
    }
    _load(db, tmp_path, files)
    out = tmp_path / "out"
    out.mkdir()
    exported = {}
    for layer in ("community", "grid", "buildings"):
        exported[layer] = out / f"{layer}{suffix}"
        export_layer(db, layer, exported[layer])
    exported["people"] = out / "people.csv"
    export_layer(db, "people", exported["people"])

    _load(second_db, out, exported)

    for layer in ("community", "grid", "buildings", "people"):
        first, second = layer_frame(db, layer), layer_frame(second_db, layer)
        drop = [
            c
            for c in ("valid_from", "valid_to")
            if c in first.columns and layer != "people"
        ]
        _same(first.drop(columns=drop), second.drop(columns=drop))
    grids = layer_frame(second_db, "grid")
    assert grids["parent_code"].tolist() == [COMMUNITY] * 4


def test_export_unknown_layer_names_the_choices(db: Bind, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        export_layer(db, "rivers", tmp_path / "x.gpkg")

    assert caught.value.code == "layer_unknown"
    assert "buildings" in caught.value.message()


def test_a_count_with_gaps_is_written_as_an_integer_field(
    db: Bind, tmp_path: Path
) -> None:
    """Floors unknown for one building must not turn the field into Real in QGIS."""
    source = write_geojson(
        tmp_path / "b.geojson",
        [
            ({"code": "B1", "floors": 6, "households": 24}, square(0, 0, size=0.0003)),
            ({"code": "B2", "households": 12}, square(2, 0, size=0.0003)),
        ],
    )
    import_features(db, source, layer="buildings", options=ImportOptions())

    export_layer(db, "buildings", tmp_path / "out.gpkg")

    info = pyogrio.read_info(tmp_path / "out.gpkg", layer="buildings")
    types = dict(zip(info["fields"], info["dtypes"], strict=True))
    assert types["floors"] == "int64"
    floors = pyogrio.read_dataframe(tmp_path / "out.gpkg").set_index("code")["floors"]
    assert floors["B1"] == 6
    assert pd.isna(floors["B2"])
