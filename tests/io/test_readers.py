import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import geopandas as gpd
import pyogrio
import shapely

from geogrid.errors import InvalidInput
from geogrid.io.readers import (
    MALFORMED_GEOMETRIES,
    UNCLOSED_RINGS,
    read_features,
    read_table,
)

SQUARE = [[116.0, 39.0], [116.1, 39.0], [116.1, 39.1], [116.0, 39.1], [116.0, 39.0]]


def _frame(crs: object = "EPSG:4326") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": ["620899001001", "620899001002"], "name": ["东街社区", "西街社区"]},
        geometry=[
            shapely.box(116, 39, 116.1, 39.1),
            shapely.box(116.2, 39, 116.3, 39.1),
        ],
        crs=crs,
    )


def _geojson(path: Path, geometries: list[dict | None], **extra: object) -> Path:
    features = [
        {"type": "Feature", "properties": {"code": f"c{i}"}, "geometry": g}
        for i, g in enumerate(geometries)
    ]
    path.write_text(
        json.dumps({"type": "FeatureCollection", **extra, "features": features}),
        encoding="utf-8",
    )
    return path


def _polygon(ring: list[list[float]]) -> dict:
    return {"type": "Polygon", "coordinates": [ring]}


def _csv(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


# --- vector formats -----------------------------------------------------------


def test_read_features_geojson_reads_attributes_and_wgs84(tmp_path: Path) -> None:
    frame = read_features(_geojson(tmp_path / "a.geojson", [_polygon(SQUARE)]))
    assert frame["code"].tolist() == ["c0"]
    assert frame.crs.to_epsg() == 4326
    assert frame.geometry[0].equals(shapely.Polygon(SQUARE))
    assert frame.attrs[UNCLOSED_RINGS] == []


def test_read_features_geojson_keeps_declared_crs(tmp_path: Path) -> None:
    crs = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}}
    path = _geojson(tmp_path / "a.json", [_polygon(SQUARE)], crs=crs)
    assert read_features(path).crs.to_epsg() == 4490


def test_read_features_geojson_unclosed_ring_listed_per_row(tmp_path: Path) -> None:
    unclosed = _polygon(SQUARE[:-1])
    path = _geojson(tmp_path / "a.geojson", [_polygon(SQUARE), unclosed, None])
    frame = read_features(path)
    assert frame.attrs[UNCLOSED_RINGS] == [1]
    assert frame.attrs[MALFORMED_GEOMETRIES] == []
    assert frame.geometry[1].equals(shapely.Polygon(SQUARE))  # held closed
    assert frame.geometry[2] is None


def test_read_features_geojson_unbuildable_geometry_listed(tmp_path: Path) -> None:
    one_point_line = {"type": "LineString", "coordinates": [[116.0, 39.0]]}
    path = _geojson(tmp_path / "a.geojson", [_polygon(SQUARE[:-1]), one_point_line])
    frame = read_features(path)
    assert frame.attrs[UNCLOSED_RINGS] == [0]
    assert frame.attrs[MALFORMED_GEOMETRIES] == [1]
    assert frame.geometry[1] is None


def test_read_features_geojson_bowtie_read_as_is(tmp_path: Path) -> None:
    bowtie = [[116.0, 39.0], [116.1, 39.1], [116.1, 39.0], [116.0, 39.1], [116.0, 39.0]]
    frame = read_features(_geojson(tmp_path / "a.geojson", [_polygon(bowtie)]))
    assert not frame.geometry[0].is_valid
    assert frame.attrs[UNCLOSED_RINGS] == []


def test_read_features_gpkg_reads_named_layer(tmp_path: Path) -> None:
    path = tmp_path / "a.gpkg"
    pyogrio.write_dataframe(_frame(), path, layer="grids")
    pyogrio.write_dataframe(_frame().iloc[:1], path, layer="streets")
    frame = read_features(path, layer="streets")
    assert frame["code"].tolist() == ["620899001001"]
    assert frame.crs.to_epsg() == 4326


def test_read_features_gpkg_several_layers_need_a_name(tmp_path: Path) -> None:
    path = tmp_path / "a.gpkg"
    pyogrio.write_dataframe(_frame(), path, layer="grids")
    pyogrio.write_dataframe(_frame(), path, layer="streets")
    with pytest.raises(InvalidInput) as caught:
        read_features(path)
    assert caught.value.code == "layer_ambiguous"


def test_read_features_gpkg_unknown_layer_rejected(tmp_path: Path) -> None:
    path = tmp_path / "a.gpkg"
    pyogrio.write_dataframe(_frame(), path, layer="grids")
    with pytest.raises(InvalidInput) as caught:
        read_features(path, layer="nope")
    assert caught.value.code == "layer_unknown"
    assert caught.value.params["allowed"] == "grids"


def test_read_features_shp_gbk_with_cpg(tmp_path: Path) -> None:
    path = tmp_path / "gbk.shp"
    pyogrio.write_dataframe(_frame(), path, encoding="GBK")
    assert (tmp_path / "gbk.cpg").read_text() == "GBK"
    assert read_features(path)["name"].tolist() == ["东街社区", "西街社区"]


def test_read_features_shp_gbk_without_cpg_is_detected(tmp_path: Path) -> None:
    # What Chinese Windows tools write: GBK text and no .cpg. GDAL alone reads
    # it as Latin-1 mojibake (¶«½ÖÉçÇø); the bytes are decoded again instead.
    path = tmp_path / "gbk.shp"
    pyogrio.write_dataframe(_frame(), path, encoding="GBK")
    (tmp_path / "gbk.cpg").unlink()
    frame = read_features(path)
    assert frame["name"].tolist() == ["东街社区", "西街社区"]
    assert frame.attrs["encoding_guessed"] == "gb18030"
    frame = read_features(path, encoding="gbk")
    assert frame["name"].tolist() == ["东街社区", "西街社区"]
    assert "encoding_guessed" not in frame.attrs


def test_read_features_shp_utf8_without_cpg_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "utf8.shp"
    pyogrio.write_dataframe(_frame(), path, encoding="UTF-8")
    (tmp_path / "utf8.cpg").unlink()
    frame = read_features(path)
    assert frame["name"].tolist() == ["东街社区", "西街社区"]
    assert frame.attrs["encoding_guessed"] == "utf-8"


def test_read_features_shp_without_prj_has_no_crs(tmp_path: Path) -> None:
    path = tmp_path / "a.shp"
    pyogrio.write_dataframe(_frame(), path)
    (tmp_path / "a.prj").unlink()
    frame = read_features(path)
    assert frame.crs is None
    assert len(frame) == 2


def test_read_features_zip_holding_shapefile(tmp_path: Path) -> None:
    pyogrio.write_dataframe(_frame(), tmp_path / "a.shp", encoding="UTF-8")
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for ext in ("shp", "shx", "dbf", "prj", "cpg"):
            zipped.write(tmp_path / f"a.{ext}", f"a.{ext}")
    frame = read_features(archive)
    assert frame["name"].tolist() == ["东街社区", "西街社区"]
    assert frame.crs.to_epsg() == 4326


@pytest.mark.parametrize("driver", ["KML", "LIBKML"])
def test_read_features_kml_written_by_pyogrio(tmp_path: Path, driver: str) -> None:
    path = tmp_path / "a.kml"
    pyogrio.write_dataframe(_frame(), path, driver=driver)
    frame = read_features(path)
    assert frame["Name"].tolist() == ["东街社区", "西街社区"]  # KML's own name
    assert frame["code"].tolist() == ["620899001001", "620899001002"]
    assert frame.crs.to_epsg() == 4326
    assert not frame.geometry.has_z.any()
    assert frame.geometry[0].equals(shapely.box(116, 39, 116.1, 39.1))


def test_read_features_unsupported_suffix_rejected(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"")
    with pytest.raises(InvalidInput) as caught:
        read_features(path)
    assert caught.value.code == "format_unsupported"
    assert caught.value.params["suffix"] == ".xlsx"


def test_read_features_missing_file_rejected(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_features(tmp_path / "nope.geojson")
    assert caught.value.code == "file_not_found"


def test_read_features_garbage_file_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "a.geojson"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_features(path)
    assert caught.value.code == "file_unreadable"
    assert caught.value.params["reason"]


# --- CSV ----------------------------------------------------------------------


def test_read_features_csv_utf8_points_without_crs(tmp_path: Path) -> None:
    path = _csv(tmp_path / "a.csv", "code,name,lon,lat\n001,东街,116.1,39.2\n")
    frame = read_features(path)
    assert frame.crs is None
    assert frame.geometry[0].equals(shapely.Point(116.1, 39.2))
    assert frame["name"].tolist() == ["东街"]


def test_read_features_csv_utf8_bom(tmp_path: Path) -> None:
    path = _csv(tmp_path / "a.csv", "lon,lat,name\n116.1,39.2,东街\n", "utf-8-sig")
    frame = read_features(path)
    assert list(frame.columns) == ["name", "geometry"]
    assert frame.geometry[0].equals(shapely.Point(116.1, 39.2))


def test_read_features_csv_reports_coordinates_that_are_not_numbers(
    tmp_path: Path,
) -> None:
    path = _csv(
        tmp_path / "a.csv",
        "code,lon,lat\nA1,116.1,39.2\nA2,,\nA3,116.x,39.2\n",
        "utf-8",
    )
    frame = read_features(path)
    assert frame.geometry.isna().tolist() == [False, True, True]
    assert frame.attrs["malformed_geometries"] == [2]


def test_read_features_csv_gb18030_fallback(tmp_path: Path) -> None:
    path = _csv(tmp_path / "a.csv", "名称,经度,纬度\n东街社区,116.1,39.2\n", "gb18030")
    frame = read_features(path)
    assert frame["名称"].tolist() == ["东街社区"]
    assert frame.geometry[0].equals(shapely.Point(116.1, 39.2))


def test_read_features_csv_explicit_encoding(tmp_path: Path) -> None:
    path = _csv(tmp_path / "a.csv", "name,x,y\n東街社區,116.1,39.2\n", "big5")
    assert read_features(path)["name"][0] != "東街社區"  # decoded as GB18030
    assert read_features(path, encoding="big5")["name"].tolist() == ["東街社區"]


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        ("lon", "lat"),
        ("lng", "lat"),
        ("Longitude", "Latitude"),
        ("X", "Y"),
        ("经度", "纬度"),
    ],
)
def test_read_features_csv_coordinate_aliases(
    tmp_path: Path, lon: str, lat: str
) -> None:
    path = _csv(tmp_path / "a.csv", f"code,{lon},{lat}\n1,116.1,39.2\n")
    assert read_features(path).geometry[0].equals(shapely.Point(116.1, 39.2))


def test_read_features_csv_explicit_fields(tmp_path: Path) -> None:
    text = "code,lon,lat,gx,gy\n1,0,0,116.1,39.2\n"
    frame = read_features(
        _csv(tmp_path / "a.csv", text), lon_field="gx", lat_field="gy"
    )
    assert frame.geometry[0].equals(shapely.Point(116.1, 39.2))


def test_read_features_csv_explicit_field_absent(tmp_path: Path) -> None:
    path = _csv(tmp_path / "a.csv", "code,lon,lat\n1,116.1,39.2\n")
    with pytest.raises(InvalidInput) as caught:
        read_features(path, lon_field="gx")
    assert caught.value.code == "field_missing"
    assert caught.value.params == {"field": "gx", "available": "code, lon, lat"}


def test_read_features_csv_without_coordinates_rejected(tmp_path: Path) -> None:
    path = _csv(tmp_path / "a.csv", "code,name\n1,东街\n")
    with pytest.raises(InvalidInput) as caught:
        read_features(path)
    assert caught.value.code == "csv_coordinates_missing"


def test_read_features_csv_blank_coordinates_kept_as_none(tmp_path: Path) -> None:
    text = "code,lon,lat\n1,116.1,39.2\n2,,\n3,abc,39.2\n4, 116.3 , 39.4 \n"
    frame = read_features(_csv(tmp_path / "a.csv", text))
    assert frame["code"].tolist() == ["1", "2", "3", "4"]
    assert frame.geometry[1] is None
    assert frame.geometry[2] is None
    assert frame.geometry[3].equals(shapely.Point(116.3, 39.4))


def test_read_features_csv_codes_keep_leading_zeros(tmp_path: Path) -> None:
    text = "code,phone,lon,lat\n006208990010,01012345678,116.1,39.2\n"
    frame = read_features(_csv(tmp_path / "a.csv", text))
    assert frame["code"].tolist() == ["006208990010"]
    assert frame["phone"].tolist() == ["01012345678"]


def test_read_features_csv_wkt_column(tmp_path: Path) -> None:
    text = 'code,wkt\n1,"POLYGON ((0 0, 1 0, 1 1, 0 0))"\n2,\n3,POLYGON ((\n'
    frame = read_features(_csv(tmp_path / "a.csv", text))
    assert frame.geometry[0].equals(shapely.Polygon([(0, 0), (1, 0), (1, 1)]))
    assert frame.geometry[1] is None
    assert frame.attrs[MALFORMED_GEOMETRIES] == [2]
    assert "wkt" not in frame.columns


# --- read_table ---------------------------------------------------------------


def test_read_table_keeps_text_and_blanks(tmp_path: Path) -> None:
    text = "person_code,name,phone,note\n0001,张三,013800000000,\n"
    table = read_table(_csv(tmp_path / "p.csv", text, "gb18030"))
    assert isinstance(table, pd.DataFrame)
    assert table.iloc[0].tolist() == ["0001", "张三", "013800000000", ""]


def test_read_table_unsupported_suffix_rejected(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_text("a\n1\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        read_table(path)
    assert caught.value.code == "format_unsupported"
