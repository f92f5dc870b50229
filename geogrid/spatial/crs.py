"""Coordinate reference systems (坐标参考系): parsing, GCJ-02/BD-09 and checks.

GCJ-02 and BD-09 are not datums PROJ knows but published offset formulas on
WGS84 lon/lat, defined only in China: every conversion here leaves points
outside :func:`in_china` unchanged. All work is vectorised over whole
coordinate arrays, so a layer converts in one pass however many vertices it has.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

import geopandas as gpd
import pyproj
import shapely
from pyproj.exceptions import CRSError

from geogrid.errors import InvalidInput

STORAGE_CRS = "EPSG:4326"
"""Storage CRS of the whole project: lon/lat (CGCS2000 differs by centimetres)."""

# Krasovsky 1940, as used by the published GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = 3.14159265358979324 * 3000.0 / 180.0
_MAX_ITER = 30
_TOL_DEG = 1e-9

_ALIASES: dict[str, str] = {
    "wgs84": "EPSG:4326",
    "wgs": "EPSG:4326",
    "cgcs2000": "EPSG:4490",
    "cgcs": "EPSG:4490",
    "gcj02": "gcj02",
    "gcj": "gcj02",
    "bd09": "bd09",
    "bd09ll": "bd09",
}

_Pair = tuple[np.ndarray, np.ndarray]
_Convert = Callable[[np.ndarray, np.ndarray], _Pair]


@dataclass(frozen=True)
class CrsSpec:
    """A parsed ``--crs`` value (坐标参考系说明).

    Attributes:
        kind: ``"epsg"`` for anything PROJ understands, else ``"gcj02"``/``"bd09"``.
        crs: The coordinates' CRS; EPSG:4326 for GCJ-02 and BD-09 (lon/lat).
        label: The value as the user wrote it, normalised (``"EPSG:4490"``).
    """

    kind: Literal["epsg", "gcj02", "bd09"]
    crs: pyproj.CRS
    label: str


def parse_crs(value: str) -> CrsSpec:
    """Parse a ``--crs`` value (解析坐标参考系).

    Args:
        value: ``"EPSG:4490"``, ``"4490"``, ``"wgs84"``, ``"cgcs2000"``,
            ``"gcj02"``/``"GCJ-02"``, ``"bd09"``/``"BD-09"`` or anything
            :meth:`pyproj.CRS.from_user_input` accepts (WKT, ``"EPSG:32648"``).

    Returns:
        The parsed spec.

    Raises:
        InvalidInput: ``crs_unknown`` when the value names no usable 2-D CRS.

    Examples:
        >>> parse_crs("GCJ-02").label, parse_crs("4490").label
        ('gcj02', 'EPSG:4490')
    """
    text = value.strip()
    alias = _ALIASES.get(re.sub(r"[\s_\-]", "", text.lower()), text)
    if alias == "gcj02":
        return CrsSpec("gcj02", pyproj.CRS.from_epsg(4326), alias)
    if alias == "bd09":
        return CrsSpec("bd09", pyproj.CRS.from_epsg(4326), alias)
    try:
        crs = pyproj.CRS.from_user_input(f"EPSG:{alias}" if alias.isdigit() else alias)
    except CRSError:
        raise InvalidInput("crs_unknown", crs=value) from None
    # A geocentric or vertical CRS parses fine but cannot place 2-D features.
    if not (crs.is_geographic or crs.is_projected):
        raise InvalidInput("crs_unknown", crs=value)
    return crs_spec_of(crs)


def crs_spec_of(crs: pyproj.CRS) -> CrsSpec:
    """Wrap a file's own CRS as an ``"epsg"`` spec (文件自带坐标系).

    Args:
        crs: The CRS read from the file.

    Returns:
        A spec of kind ``"epsg"``, labelled by its authority code if it has one.

    Examples:
        >>> crs_spec_of(pyproj.CRS.from_epsg(3857)).label
        'EPSG:3857'
    """
    authority = crs.to_authority()
    return CrsSpec("epsg", crs, ":".join(authority) if authority else crs.name)


def in_china(lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
    """Whether points lie in the rough China rectangle (中国范围粗判).

    This is the usual rough test of GCJ-02 libraries (lon 72.004–137.8347,
    lat 0.8293–55.8271). Being a rectangle it also holds Taiwan, Mongolia and
    parts of neighbouring countries.

    Args:
        lon: Longitudes in degrees.
        lat: Latitudes in degrees.

    Returns:
        A boolean array; NaN is outside.

    Examples:
        >>> in_china([116.4, -0.1], [39.9, 51.5]).tolist()
        [True, False]
    """
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (x >= 72.004) & (x <= 137.8347) & (y >= 0.8293) & (y <= 55.8271)


def _gcj(x: np.ndarray, y: np.ndarray) -> _Pair:
    dx, dy = x - 105.0, y - 35.0
    both = (20 * np.sin(6 * dx * np.pi) + 20 * np.sin(2 * dx * np.pi)) * 2 / 3
    dlat = -100 + 2 * dx + 3 * dy + 0.2 * dy * dy + 0.1 * dx * dy
    dlat += 0.2 * np.sqrt(np.abs(dx)) + both
    dlat += (20 * np.sin(dy * np.pi) + 40 * np.sin(dy / 3 * np.pi)) * 2 / 3
    dlat += (160 * np.sin(dy / 12 * np.pi) + 320 * np.sin(dy * np.pi / 30)) * 2 / 3
    dlon = 300 + dx + 2 * dy + 0.1 * dx * dx + 0.1 * dx * dy
    dlon += 0.1 * np.sqrt(np.abs(dx)) + both
    dlon += (20 * np.sin(dx * np.pi) + 40 * np.sin(dx / 3 * np.pi)) * 2 / 3
    dlon += (150 * np.sin(dx / 12 * np.pi) + 300 * np.sin(dx / 30 * np.pi)) * 2 / 3
    radlat = y / 180 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    dlat = dlat * 180 / (_A * (1 - _EE) / (magic * np.sqrt(magic)) * np.pi)
    dlon = dlon * 180 / (_A / np.sqrt(magic) * np.cos(radlat) * np.pi)
    return x + dlon, y + dlat


def _bd(x: np.ndarray, y: np.ndarray) -> _Pair:
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _invert(forward: _Convert, x: np.ndarray, y: np.ndarray) -> _Pair:
    # Each offset's slope is under 1 % (metres of change per metre moved), so
    # every fixed-point round shrinks the error ~100-fold: 4-6 reach 1e-9 deg.
    gx, gy = x.copy(), y.copy()
    for _ in range(_MAX_ITER):
        fx, fy = forward(gx, gy)
        ex, ey = fx - x, fy - y
        gx -= ex
        gy -= ey
        if max(np.abs(ex).max(initial=0), np.abs(ey).max(initial=0)) < _TOL_DEG:
            break
    return gx, gy


def _in_china_only(func: _Convert, lon: ArrayLike, lat: ArrayLike) -> _Pair:
    x, y = np.broadcast_arrays(np.asarray(lon, float), np.asarray(lat, float))
    x, y = x.copy(), y.copy()
    inside = in_china(x, y)
    if inside.any():
        x[inside], y[inside] = func(x[inside], y[inside])
    return x, y


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 to GCJ-02 (火星坐标).

    Args:
        lon: WGS84 longitudes.
        lat: WGS84 latitudes.

    Returns:
        GCJ-02 ``(lon, lat)`` arrays.

    Examples:
        >>> [round(float(v), 6) for v in wgs84_to_gcj02(116.397, 39.908)]
        [116.403243, 39.909403]
    """
    return _in_china_only(_gcj, lon, lat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 (火星坐标) to WGS84, the exact inverse (to 1e-9°).

    Args:
        lon: GCJ-02 longitudes.
        lat: GCJ-02 latitudes.

    Returns:
        WGS84 ``(lon, lat)`` arrays.

    Examples:
        >>> [round(float(v), 6) for v in gcj02_to_wgs84(116.403243, 39.909403)]
        [116.397, 39.908]
    """
    return _in_china_only(lambda x, y: _invert(_gcj, x, y), lon, lat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert GCJ-02 to BD-09 (百度坐标).

    Args:
        lon: GCJ-02 longitudes.
        lat: GCJ-02 latitudes.

    Returns:
        BD-09 ``(lon, lat)`` arrays.

    Examples:
        >>> [round(float(v), 6) for v in gcj02_to_bd09(116.403243, 39.909403)]
        [116.409616, 39.915744]
    """
    return _in_china_only(_bd, lon, lat)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert BD-09 (百度坐标) to GCJ-02, iterated: the closed form is off by 1e-6°.

    Args:
        lon: BD-09 longitudes.
        lat: BD-09 latitudes.

    Returns:
        GCJ-02 ``(lon, lat)`` arrays.

    Examples:
        >>> [round(float(v), 6) for v in bd09_to_gcj02(116.409616, 39.915744)]
        [116.403243, 39.909403]
    """
    return _in_china_only(lambda x, y: _invert(_bd, x, y), lon, lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS84 to BD-09 (百度坐标).

    Args:
        lon: WGS84 longitudes.
        lat: WGS84 latitudes.

    Returns:
        BD-09 ``(lon, lat)`` arrays.

    Examples:
        >>> [round(float(v), 6) for v in wgs84_to_bd09(116.397, 39.908)]
        [116.409616, 39.915744]
    """
    return _in_china_only(lambda x, y: _bd(*_gcj(x, y)), lon, lat)


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Convert BD-09 (百度坐标) to WGS84.

    Args:
        lon: BD-09 longitudes.
        lat: BD-09 latitudes.

    Returns:
        WGS84 ``(lon, lat)`` arrays.

    Examples:
        >>> [round(float(v), 6) for v in bd09_to_wgs84(116.409616, 39.915744)]
        [116.397, 39.908]
    """
    return _in_china_only(lambda x, y: _invert(_gcj, *_invert(_bd, x, y)), lon, lat)


_TO_WGS84: dict[str, _Convert] = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}


def to_storage(geoms: gpd.GeoSeries, spec: CrsSpec) -> gpd.GeoSeries:
    """Bring geometries into the storage CRS (转换到存储坐标系).

    Args:
        geoms: The geometries as read; their own CRS is ignored, since the
            user's ``--crs`` overrides whatever the file said.
        spec: What the coordinates really are.

    Returns:
        The geometries in :data:`STORAGE_CRS`, same index; None and empty
        geometries pass through.

    Examples:
        >>> out = to_storage(gpd.GeoSeries.from_xy([116.403243], [39.909403]),
        ...                  parse_crs("gcj02"))
        >>> out.crs.to_string(), round(float(out.x[0]), 6), round(float(out.y[0]), 6)
        ('EPSG:4326', 116.397, 39.908)
    """
    if spec.kind == "epsg":
        return geoms.set_crs(spec.crs, allow_override=True).to_crs(STORAGE_CRS)
    convert = _TO_WGS84[spec.kind]

    def transform(coords: np.ndarray) -> np.ndarray:
        out = coords.copy()
        out[:, 0], out[:, 1] = convert(coords[:, 0], coords[:, 1])
        return out

    # include_z=None keeps a Z value where a geometry has one.
    values = shapely.transform(  # type: ignore[call-overload]  # None: newer than the stubs
        np.asarray(geoms.array, dtype=object), transform, include_z=None
    )
    return gpd.GeoSeries(values, index=geoms.index, crs=STORAGE_CRS, name=geoms.name)


def projected_points(
    x: ArrayLike, y: ArrayLike, crs: pyproj.CRS, *, source: str = STORAGE_CRS
) -> np.ndarray:
    """Points from ``source`` coordinates, made directly in ``crs``; None where NaN.

    The numbers ``GeoSeries.to_crs`` gives (the same always-xy transformer),
    without making every point twice: a city's million addresses as lon/lat
    points and then their projected copies cost 1.5 s.

    Examples:
        >>> p = projected_points([116.4, np.nan], [39.9, np.nan], pyproj.CRS("EPSG:3857"))
        >>> round(p[0].x), p[1] is None
        (12957589, True)
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    to = pyproj.Transformer.from_crs(source, crs, always_xy=True)
    px, py = to.transform(x, y)
    geoms = shapely.points(px, py)
    geoms[np.isnan(x) | np.isnan(y)] = None
    return geoms


def _bounds(geoms: gpd.GeoSeries) -> np.ndarray:
    # None and empty geometries get NaN bounds, which fail every test below.
    return shapely.bounds(np.asarray(geoms.array))


def swapped_latlon(geoms: gpd.GeoSeries) -> np.ndarray:
    """Flag geometries whose lon/lat look swapped (经纬度颠倒).

    Args:
        geoms: Geometries in :data:`STORAGE_CRS`.

    Returns:
        One boolean per geometry: True when the centre of its bounds is not in
        China but is once x and y are swapped. None and empty are False.

    Examples:
        >>> swapped_latlon(gpd.GeoSeries.from_xy([35.33, 107.36], [107.36, 35.33]))
        array([ True, False])
    """
    b = _bounds(geoms)
    x, y = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
    return ~in_china(x, y) & in_china(y, x)


def out_of_range(geoms: gpd.GeoSeries) -> np.ndarray:
    """Flag geometries with a coordinate beyond lon/lat range (坐标超出范围).

    Args:
        geoms: Geometries in :data:`STORAGE_CRS`.

    Returns:
        One boolean per geometry: True when any coordinate has ``|lon| > 180``
        or ``|lat| > 90``. None and empty are False.

    Examples:
        >>> out_of_range(gpd.GeoSeries.from_xy([116.4, 500000.0], [39.9, 4e6]))
        array([False,  True])
    """
    b = _bounds(geoms)
    return (b[:, 0] < -180) | (b[:, 2] > 180) | (b[:, 1] < -90) | (b[:, 3] > 90)


def degrees_over(metres: float, lat: float) -> float:
    """A safe overestimate of ``metres`` in degrees at latitude ``lat``.

    For widening lon/lat search boxes: twice the east-west degree length, so
    it also covers the shorter north-south one and rounding.

    Examples:
        >>> round(degrees_over(1_000, 35.0), 4)
        0.0219
    """
    scale = max(float(np.cos(np.radians(min(abs(lat), 85)))), 0.05)
    return 2 * metres / (111_320 * scale)


def local_crs(geoms: gpd.GeoSeries | gpd.GeoDataFrame) -> pyproj.CRS:
    """Pick a metric CRS for the data's extent (局部投影坐标系).

    Inside China: the CGCS2000 3-degree Gauss-Krüger zone whose central meridian
    is nearest the centre of the extent, without zone prefix in the easting
    (EPSG:4534, CM 75E, to EPSG:4554, CM 135E). Elsewhere: the WGS84 UTM zone.

    Args:
        geoms: Geometries, in :data:`STORAGE_CRS` unless their CRS says otherwise.

    Returns:
        The projected CRS.

    Raises:
        InvalidInput: ``geometry_empty`` when there is no coordinate at all.

    Examples:
        >>> local_crs(gpd.GeoSeries.from_xy([116.4], [39.9], crs=STORAGE_CRS)).name
        'CGCS2000 / 3-degree Gauss-Kruger CM 117E'
    """
    if geoms.crs is not None and not geoms.crs.equals(STORAGE_CRS):
        geoms = geoms.to_crs(STORAGE_CRS)
    xmin, ymin, xmax, ymax = geoms.total_bounds
    lon, lat = (xmin + xmax) / 2, (ymin + ymax) / 2
    if not (np.isfinite(lon) and np.isfinite(lat)):
        raise InvalidInput("geometry_empty")
    if in_china(lon, lat):
        meridian = int(np.clip(np.round(lon / 3) * 3, 75, 135))
        return pyproj.CRS.from_epsg(4534 + (meridian - 75) // 3)
    zone = min(int((lon + 180) // 6) + 1, 60)
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def grown_bounds(bounds: Any, metres: float) -> tuple[float, float, float, float]:
    """Lon/lat bounds grown by at least ``metres`` on every side (see :func:`degrees_over`)."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    pad = degrees_over(metres, max(abs(miny), abs(maxy)))
    return (minx - pad, miny - pad, maxx + pad, maxy + pad)
