import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
import pyproj
import shapely
from shapely import Point, Polygon

from geogrid.errors import InvalidInput
from geogrid.spatial.crs import (
    STORAGE_CRS,
    CrsSpec,
    bd09_to_gcj02,
    bd09_to_wgs84,
    crs_spec_of,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    in_china,
    local_crs,
    out_of_range,
    parse_crs,
    swapped_latlon,
    to_storage,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

REALDATA = Path(__file__).resolve().parents[2].parent / "shared" / "realdata"
GEOD = pyproj.Geod(ellps="WGS84")
ALL_CONVERSIONS = [
    wgs84_to_gcj02,
    gcj02_to_wgs84,
    gcj02_to_bd09,
    bd09_to_gcj02,
    wgs84_to_bd09,
    bd09_to_wgs84,
]
TIANANMEN = (116.3975, 39.9087)


def metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(GEOD.inv(lon1, lat1, lon2, lat2)[2])


@pytest.fixture
def china_points() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(20240501)
    return rng.uniform(73.0, 135.0, 10_000), rng.uniform(18.0, 53.0, 10_000)


# conversions


@pytest.mark.parametrize(
    ("forward", "inverse"),
    [
        (wgs84_to_gcj02, gcj02_to_wgs84),
        (wgs84_to_bd09, bd09_to_wgs84),
        (gcj02_to_bd09, bd09_to_gcj02),
    ],
)
def test_round_trip_is_sub_centimetre(forward, inverse, china_points):
    lon, lat = china_points
    back_lon, back_lat = inverse(*forward(lon, lat))
    assert np.abs(back_lon - lon).max() < 1e-7
    assert np.abs(back_lat - lat).max() < 1e-7


def test_gcj02_to_wgs84_is_exact_not_one_step(china_points):
    # The crude inverse (subtract the offset found at the GCJ point) is off by
    # metres; the exact one re-encodes to the GCJ input.
    gcj_lon, gcj_lat = china_points
    lon, lat = wgs84_to_gcj02(*gcj02_to_wgs84(gcj_lon, gcj_lat))
    assert np.abs(lon - gcj_lon).max() < 1e-9
    assert np.abs(lat - gcj_lat).max() < 1e-9


def test_bd09_to_gcj02_beats_the_closed_form(china_points):
    bd_lon, bd_lat = china_points
    lon, lat = gcj02_to_bd09(*bd09_to_gcj02(bd_lon, bd_lat))
    assert max(np.abs(lon - bd_lon).max(), np.abs(lat - bd_lat).max()) < 1e-9


def test_forward_shift_in_beijing_is_hundreds_of_metres():
    lon, lat = TIANANMEN
    gcj = wgs84_to_gcj02(lon, lat)
    bd = wgs84_to_bd09(lon, lat)
    assert 100 < metres(lon, lat, *gcj) < 700
    # BD-09 adds its own ~0.0065 deg on top of GCJ-02.
    assert 500 < metres(*gcj, *bd) < 1500


@pytest.mark.parametrize(
    ("wgs", "gcj"),
    [
        # From the prcoords answer key in ../shared/realdata; it stops at ~1.5e-8 deg.
        ((116.40690136593233, 39.92155381433464), (116.413146, 39.922958)),
        ((115.46701251583426, 39.96546114595423), (115.473461, 39.966756)),
        ((117.4807686061174, 40.64866061903712), (117.487387, 40.650156)),
        ((116.50918458255157, 40.947359750410385), (116.515288, 40.948979)),
    ],
)
def test_wgs84_to_gcj02_known_answers(wgs, gcj):
    # 3e-8 deg (3 mm) is tight enough to catch a wrong ellipsoid (a=6378137
    # moves these by 1e-7 deg).
    np.testing.assert_allclose(wgs84_to_gcj02(*wgs), gcj, rtol=0, atol=3e-8)


@pytest.mark.parametrize("convert", ALL_CONVERSIONS)
def test_points_outside_china_are_unchanged(convert):
    lon = np.array([-0.1276, 139.6917, -74.006, 151.2093])
    lat = np.array([51.5072, 35.6895, 40.7128, -33.8688])
    out_lon, out_lat = convert(lon, lat)
    np.testing.assert_array_equal(out_lon, lon)
    np.testing.assert_array_equal(out_lat, lat)


@pytest.mark.parametrize("convert", ALL_CONVERSIONS)
def test_conversions_keep_shape_and_mix_inside_and_outside(convert):
    lon = np.array([[116.4, -0.1], [121.5, 139.7]])
    lat = np.array([[39.9, 51.5], [31.2, 35.7]])
    out_lon, out_lat = convert(lon, lat)
    assert out_lon.shape == out_lat.shape == (2, 2)
    moved = (out_lon != lon) | (out_lat != lat)
    np.testing.assert_array_equal(moved, [[True, False], [True, False]])


def test_conversions_accept_scalars_and_empty_arrays():
    lon, lat = gcj02_to_wgs84(116.4, 39.9)
    assert lon.shape == lat.shape == ()
    lon, lat = bd09_to_wgs84([], [])
    assert lon.shape == lat.shape == (0,)


def test_in_china_is_the_rough_rectangle():
    lon = [116.4, 121.5, 72.0, 137.9, 100.0, np.nan]
    lat = [39.9, 25.0, 40.0, 40.0, 56.0, 30.0]
    # Taipei is inside: the rectangle test is rough on purpose.
    assert in_china(lon, lat).tolist() == [True, True, False, False, False, False]


@pytest.mark.realdata
def test_gcj02_to_wgs84_matches_prcoords_on_beijing_communities():
    path = REALDATA / "beijing_adcode_2016" / "community_to_subdistrict_eval.csv"
    if not path.exists():
        reason = f"../shared/realdata not found: {path}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    table = pd.read_csv(path)
    assert len(table) == 2331
    lon, lat = gcj02_to_wgs84(table["lng_gcj02"], table["lat_gcj02"])
    expected_lon = table["lng_wgs84_prcoords"].to_numpy()
    expected_lat = table["lat_wgs84_prcoords"].to_numpy()
    # Measured: 0.0015 m; prcoords stops iterating at about 1e-8 deg.
    assert metres(lon, lat, expected_lon, expected_lat).max() < 0.05
    shift = metres(table["lng_gcj02"], table["lat_gcj02"], lon, lat)
    assert shift.min() > 100
    assert shift.max() < 700


# parsing


@pytest.mark.parametrize(
    ("value", "kind", "label", "epsg"),
    [
        ("EPSG:4326", "epsg", "EPSG:4326", 4326),
        ("epsg:4490", "epsg", "EPSG:4490", 4490),
        ("4490", "epsg", "EPSG:4490", 4490),
        (" 3857 ", "epsg", "EPSG:3857", 3857),
        ("wgs84", "epsg", "EPSG:4326", 4326),
        ("WGS-84", "epsg", "EPSG:4326", 4326),
        ("cgcs2000", "epsg", "EPSG:4490", 4490),
        ("CGCS2000", "epsg", "EPSG:4490", 4490),
        ("EPSG:32648", "epsg", "EPSG:32648", 32648),
        ("gcj02", "gcj02", "gcj02", 4326),
        ("GCJ-02", "gcj02", "gcj02", 4326),
        ("gcj_02", "gcj02", "gcj02", 4326),
        ("bd09", "bd09", "bd09", 4326),
        ("BD-09", "bd09", "bd09", 4326),
    ],
)
def test_parse_crs_accepts_the_usual_spellings(value, kind, label, epsg):
    spec = parse_crs(value)
    assert spec == CrsSpec(kind, pyproj.CRS.from_epsg(epsg), label)


def test_parse_crs_accepts_wkt():
    spec = parse_crs(pyproj.CRS.from_epsg(4490).to_wkt())
    assert spec.kind == "epsg"
    assert spec.label == "EPSG:4490"
    assert spec.crs.equals(pyproj.CRS.from_epsg(4490))


@pytest.mark.parametrize("value", ["EPSG:99999999", "foo", "", "EPSG:4978"])
def test_parse_crs_rejects_unknown(value):
    with pytest.raises(InvalidInput) as caught:
        parse_crs(value)
    assert caught.value.code == "crs_unknown"
    assert caught.value.params == {"crs": value}


def test_crs_spec_of_wraps_a_file_crs():
    spec = crs_spec_of(pyproj.CRS.from_epsg(4547))
    assert spec.kind == "epsg"
    assert spec.label == "EPSG:4547"


# to_storage


def test_to_storage_moves_gcj02_geometries_by_the_offset():
    polygon = Polygon([(116.39, 39.90), (116.41, 39.90), (116.41, 39.92)])
    point = Point(116.4, 39.91)
    geoms = gpd.GeoSeries(
        [polygon, point, None, Polygon()], index=[10, 11, 12, 13], crs=STORAGE_CRS
    )
    out = to_storage(geoms, parse_crs("gcj02"))
    assert out.crs.equals(STORAGE_CRS)
    assert out.index.tolist() == [10, 11, 12, 13]
    assert out[12] is None
    assert out[13].is_empty
    for before, after in zip(geoms[:2], out[:2], strict=True):
        old = shapely.get_coordinates(before)
        new = shapely.get_coordinates(after)
        expected = np.column_stack(gcj02_to_wgs84(old[:, 0], old[:, 1]))
        np.testing.assert_allclose(new, expected, rtol=0, atol=1e-12)
        shift = metres(old[:, 0], old[:, 1], new[:, 0], new[:, 1])
        assert np.all((shift > 100) & (shift < 700))


def test_to_storage_bd09_keeps_z():
    geoms = gpd.GeoSeries([Point(116.41, 39.92, 42.0)])
    out = to_storage(geoms, parse_crs("bd09"))
    lon, lat = bd09_to_wgs84(116.41, 39.92)
    assert out[0].has_z
    assert out[0].z == 42.0
    assert out[0].x == pytest.approx(float(lon), abs=1e-12)
    assert out[0].y == pytest.approx(float(lat), abs=1e-12)


def test_to_storage_projects_web_mercator():
    x, y = 12_958_000.0, 4_852_000.0
    out = to_storage(gpd.GeoSeries([Point(x, y)]), parse_crs("EPSG:3857"))
    radius = 6_378_137.0
    assert out.crs.equals(STORAGE_CRS)
    assert out[0].x == pytest.approx(math.degrees(x / radius), abs=1e-9)
    assert out[0].y == pytest.approx(
        math.degrees(math.atan(math.sinh(y / radius))), abs=1e-9
    )


def test_to_storage_crs_option_overrides_the_file_crs():
    # The file claims Web Mercator but holds lon/lat; --crs EPSG:4326 wins.
    geoms = gpd.GeoSeries([Point(116.4, 39.9)], crs="EPSG:3857")
    out = to_storage(geoms, parse_crs("EPSG:4326"))
    assert out.crs.equals(STORAGE_CRS)
    assert (out[0].x, out[0].y) == (116.4, 39.9)
    moved = to_storage(geoms, parse_crs("gcj02"))
    assert moved.crs.equals(STORAGE_CRS)
    assert 100 < metres(116.4, 39.9, moved[0].x, moved[0].y) < 700


# checks


def test_swapped_latlon_flags_lat_lon_order():
    geoms = gpd.GeoSeries(
        [
            Point(35.33, 107.36),
            Point(107.36, 35.33),
            Point(51.5, -0.1),
            Point(-0.1, 51.5),
            Polygon([(39.9, 116.3), (40.0, 116.3), (40.0, 116.5)]),
            None,
            Point(),
        ]
    )
    flags = swapped_latlon(geoms)
    assert flags.tolist() == [True, False, False, False, True, False, False]


def test_out_of_range_checks_every_coordinate():
    geoms = gpd.GeoSeries(
        [
            Point(116.4, 39.9),
            Polygon([(116.4, 39.9), (181.0, 39.9), (116.4, 40.0)]),
            Point(116.4, -90.5),
            Point(500_000.0, 4_400_000.0),
            None,
            Polygon(),
        ]
    )
    assert out_of_range(geoms).tolist() == [False, True, True, True, False, False]


# local_crs


def test_local_crs_in_china_is_the_nearest_gauss_kruger_zone():
    crs = local_crs(gpd.GeoSeries.from_xy([107.0, 107.72], [35.0, 35.66]))
    assert crs.to_epsg() == 4545
    assert "CGCS2000 / 3-degree Gauss-Kruger CM 108E" in crs.name
    params = {p.name: p.value for p in crs.coordinate_operation.params}
    assert params["Longitude of natural origin"] == 108
    assert params["False easting"] == 500_000


@pytest.mark.parametrize(
    ("lon", "meridian", "epsg"),
    [(73.5, 75, 4534), (116.4, 117, 4548), (135.5, 135, 4554)],
)
def test_local_crs_zone_codes_match_their_meridian(lon, meridian, epsg):
    frame = gpd.GeoDataFrame(geometry=gpd.GeoSeries.from_xy([lon], [40.0]))
    crs = local_crs(frame)
    assert crs.to_epsg() == epsg
    assert crs.name.endswith(f"CM {meridian}E")


def test_local_crs_outside_china_is_utm():
    assert local_crs(gpd.GeoSeries.from_xy([-0.1276], [51.5072])).to_epsg() == 32630
    assert local_crs(gpd.GeoSeries.from_xy([151.2], [-33.9])).to_epsg() == 32756


def test_local_crs_reprojects_other_crs_first():
    geoms = gpd.GeoSeries([Point(116.4, 39.9)], crs=STORAGE_CRS).to_crs("EPSG:3857")
    assert local_crs(geoms).to_epsg() == 4548


def test_local_crs_of_nothing_is_an_error():
    with pytest.raises(InvalidInput) as caught:
        local_crs(gpd.GeoSeries([None, Point()]))
    assert caught.value.code == "geometry_empty"


def test_projected_points_are_to_crs_to_the_last_digit() -> None:
    from geogrid.spatial.crs import local_crs, projected_points

    rng = np.random.default_rng(15)
    x, y = rng.uniform(107, 108, 500), rng.uniform(35, 36, 500)
    x[7] = y[7] = np.nan
    lonlat = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=4326)
    lonlat.iloc[7] = None
    metric = local_crs(lonlat.dropna())

    made = projected_points(x, y, metric)
    expected = lonlat.to_crs(metric).to_numpy()

    assert made[7] is None
    keep = np.arange(500) != 7
    assert shapely.equals_exact(made[keep], expected[keep], tolerance=0).all()
