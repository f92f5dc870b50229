import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
import pyogrio
import shapely

from geogrid.errors import InvalidInput
from geogrid.io.readers import read_features, read_table
from geogrid.io.writers import write_features

# Coordinates with more digits than any file keeps, drawn clockwise.
RING = [
    (116.123456789123, 39.987654321987),
    (116.123456789123, 39.997654321987),
    (116.133456789456, 39.997654321987),
    (116.133456789456, 39.987654321987),
]


def _frame(crs: object = "EPSG:4326") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["006208990010", "006208990011"], "name": ["东街社区", "西街社区"]},
        geometry=[
            shapely.MultiPolygon([shapely.Polygon(RING)]),
            shapely.MultiPolygon([shapely.Polygon([(x + 0.02, y) for x, y in RING])]),
        ],
        crs=crs,
    )


def _max_shift(a: gpd.GeoSeries, b: gpd.GeoSeries) -> float:
    """Largest coordinate difference, vertex order aside (RFC 7946 rewinds)."""
    first = shapely.get_coordinates(shapely.normalize(a.to_numpy()))
    second = shapely.get_coordinates(shapely.normalize(b.to_numpy()))
    assert first.shape == second.shape
    return float(np.abs(first - second).max())


def test_write_features_gpkg_round_trip_within_1e7(tmp_path: Path) -> None:
    path = tmp_path / "out.gpkg"
    write_features(_frame(), path, layer="grids")
    back = read_features(path, layer="grids")
    assert back["code"].tolist() == ["006208990010", "006208990011"]
    assert back["name"].tolist() == ["东街社区", "西街社区"]
    assert back.crs.to_epsg() == 4326
    assert _max_shift(_frame().geometry, back.geometry) < 1e-7


def test_write_features_gpkg_replaces_layer_keeps_others(tmp_path: Path) -> None:
    path = tmp_path / "out.gpkg"
    write_features(_frame(), path, layer="grids")
    write_features(_frame(), path, layer="streets")
    write_features(_frame().iloc[:1], path, layer="grids")
    assert sorted(pyogrio.list_layers(path)[:, 0]) == ["grids", "streets"]
    assert len(read_features(path, layer="grids")) == 1
    assert len(read_features(path, layer="streets")) == 2


def test_write_features_gpkg_attribute_only_table(tmp_path: Path) -> None:
    path = tmp_path / "out.gpkg"
    people = pd.DataFrame({"person_code": ["0001"], "name": ["张三"]})
    write_features(_frame(), path, layer="grids")
    write_features(people, path, layer="people")
    back = pyogrio.read_dataframe(path, layer="people")
    assert not isinstance(back, gpd.GeoDataFrame)
    assert back.to_dict("list") == {"person_code": ["0001"], "name": ["张三"]}


def test_write_features_geojson_round_trip_within_1e7(tmp_path: Path) -> None:
    path = tmp_path / "out.geojson"
    write_features(_frame(), path, layer="grids")
    back = read_features(path)
    assert back["code"].tolist() == ["006208990010", "006208990011"]
    assert back.crs.to_epsg() == 4326
    assert _max_shift(_frame().geometry, back.geometry) < 1e-7


def test_write_features_geojson_is_rfc7946(tmp_path: Path) -> None:
    path = tmp_path / "out.json"
    write_features(_frame(), path, layer="grids")
    document = json.loads(path.read_text(encoding="utf-8"))
    assert "crs" not in document
    assert document["name"] == "grids"
    ring = document["features"][0]["geometry"]["coordinates"][0][0]
    assert shapely.LinearRing(ring).is_ccw
    assert max(len(str(x).split(".")[1]) for x, _ in ring) >= 7


def test_write_features_geojson_reprojects_to_wgs84(tmp_path: Path) -> None:
    path = tmp_path / "out.geojson"
    mercator = _frame().to_crs("EPSG:3857")
    write_features(mercator, path, layer="grids")
    back = read_features(path)
    assert back.crs.to_epsg() == 4326
    assert _max_shift(_frame().geometry, back.geometry) < 1e-7


def test_write_features_geojson_needs_crs(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CRS"):
        write_features(_frame(crs=None), tmp_path / "out.geojson", layer="grids")


def test_write_features_geojson_replaces_file(tmp_path: Path) -> None:
    path = tmp_path / "out.geojson"
    write_features(_frame(), path, layer="grids")
    write_features(_frame().iloc[:1], path, layer="grids")
    assert len(read_features(path)) == 1


def test_write_features_shp_utf8_with_cpg(tmp_path: Path) -> None:
    path = tmp_path / "out.shp"
    write_features(_frame(), path, layer="grids")
    assert (tmp_path / "out.cpg").read_text() == "UTF-8"
    back = read_features(path)
    assert back["name"].tolist() == ["东街社区", "西街社区"]
    assert _max_shift(_frame().geometry, back.geometry) < 1e-7


def test_write_features_shp_needs_geometry(tmp_path: Path) -> None:
    people = pd.DataFrame({"code": ["0001"]})
    with pytest.raises(InvalidInput) as caught:
        write_features(people, tmp_path / "out.shp", layer="people")
    assert caught.value.code == "format_needs_geometry"


def test_write_features_csv_people_round_trip_chinese(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    people = pd.DataFrame(
        {
            "person_code": ["0001", "0002"],
            "name": ["张三", "李四"],
            "phone": ["013800000000", ""],
            "role": ["网格长", "网格员"],
        }
    )
    write_features(people, path, layer="people")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    back = read_table(path)
    assert back.to_dict("list") == people.to_dict("list")


def test_write_features_csv_geometry_as_wkt_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "grids.csv"
    write_features(_frame(), path, layer="grids")
    assert "wkt" in read_table(path).columns
    back = read_features(path)
    assert back["code"].tolist() == ["006208990010", "006208990011"]
    assert _max_shift(_frame().geometry, back.geometry) < 1e-12


def test_write_features_unknown_suffix_rejected(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        write_features(_frame(), tmp_path / "out.xlsx", layer="grids")
    assert caught.value.code == "format_unsupported"
    assert caught.value.params["suffix"] == ".xlsx"


@pytest.mark.parametrize("name", ["out.gpkg", "out.geojson", "out.csv"])
def test_write_features_missing_directory_unwritable(tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        write_features(_frame(), tmp_path / "nope" / name, layer="grids")
    assert caught.value.code == "file_unwritable"
