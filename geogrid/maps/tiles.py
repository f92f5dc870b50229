"""Base-map tiles (底图): none (offline), OpenStreetMap, 天地图 or 高德, and the datum each needs.

高德 tiles are drawn in GCJ-02 (火星坐标), about 300–600 m off WGS84 in
China, so on those tiles every geometry is shifted to GCJ-02 for display, or
boundaries would sit beside their streets. 天地图 uses CGCS2000, which differs
from WGS84 by centimetres and is drawn as is.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

import shapely
from shapely.geometry.base import BaseGeometry

from geogrid.config import Settings
from geogrid.errors import InvalidInput
from geogrid.spatial.crs import wgs84_to_gcj02

TileName = Literal["none", "osm", "tianditu", "amap"]


@dataclass(frozen=True)
class TileSource:
    """One tile service: URL template, subdomains, attribution and its datum."""

    label: str
    url: str
    attribution: str
    subdomains: str = "abc"
    datum: Literal["wgs84", "gcj02"] = "wgs84"
    overlay: str = ""
    """A second layer drawn on top (天地图 keeps its labels apart)."""


_TIANDITU = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
    "&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}"
)

SOURCES: dict[str, TileSource] = {
    "osm": TileSource(
        "OpenStreetMap",
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "&copy; OpenStreetMap contributors",
    ),
    "tianditu": TileSource(
        "天地图",
        _TIANDITU.replace("{layer}", "vec"),
        "&copy; 天地图 Tianditu",
        subdomains="01234567",
        overlay=_TIANDITU.replace("{layer}", "cva"),
    ),
    "amap": TileSource(
        "高德地图",
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        "&copy; 高德地图 AutoNavi",
        subdomains="1234",
        datum="gcj02",
    ),
}


@dataclass(frozen=True)
class BaseMap:
    """The chosen tiles, their key filled in, and how to place geometries on them."""

    name: TileName
    source: TileSource | None
    key: str = ""
    credit: str = ""
    """Who publishes the data and under what terms, as plain text (数据来源)."""

    def urls(self) -> list[str]:
        """The URL template of each tile layer to add, bottom first, key filled in."""
        if self.source is None:
            return []
        urls = [self.source.url] + (
            [self.source.overlay] if self.source.overlay else []
        )
        return [u.replace("{key}", self.key) for u in urls]

    @property
    def shift(self) -> Callable[[BaseGeometry], BaseGeometry]:
        """Geometry (WGS84) → display coordinates on these tiles."""
        if self.source is None or self.source.datum == "wgs84":
            return lambda geom: geom
        return _to_gcj02


OFFLINE = BaseMap("none", None)
"""No tiles: the page needs nothing from any network."""


def tiles_of(settings: Settings) -> BaseMap:
    """The base map the settings choose, with the data's credit line."""
    chosen = base_map(settings.map_tiles, key=settings.tianditu_key)
    return replace(chosen, credit=settings.map_attribution)


def base_map(name: str, *, key: str = "") -> BaseMap:
    """The base map called ``name`` (setting ``GEOGRID_MAP_TILES``).

    Raises:
        InvalidInput: an unknown name, or 天地图 without its key.

    Examples:
        >>> base_map("amap").source.datum
        'gcj02'
        >>> base_map("none").urls()
        []
    """
    if name == "none":
        return OFFLINE
    if name not in SOURCES:
        raise InvalidInput(
            "value_invalid", field="map_tiles", value=f"{name} (none/osm/tianditu/amap)"
        )
    if name == "tianditu" and not key:
        raise InvalidInput("tianditu_key_missing")
    return BaseMap(name, SOURCES[name], key)  # type: ignore[arg-type]


def _to_gcj02(geom: BaseGeometry) -> BaseGeometry:
    def shift(coords: np.ndarray) -> np.ndarray:
        lon, lat = wgs84_to_gcj02(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geom, shift)
