"""The residents' map (社区管辖范围图): grids, 小区, buildings, lanes, centres and posted contacts.

Only the whitelisted card fields (:data:`geogrid.maps.layers.PUBLIC_FIELDS`)
reach the page, and ``geogrid.js`` writes every text as a DOM text node.
:func:`safe_text` escapes what Python itself writes into HTML (titles,
legend, index): folium puts such HTML inside JavaScript template literals, so
a backtick or ``${`` is escaped as well as markup.
"""

import html

import folium

from geogrid.maps.base import OfflineMap, community_page
from geogrid.maps.colors import distinct_colors
from geogrid.maps.layers import PUBLIC_FIELDS, add_community_layers
from geogrid.maps.tiles import OFFLINE, BaseMap
from geogrid.services.publishing import PublicMapData

CARD_FIELDS = tuple(key for key, _ in PUBLIC_FIELDS)
"""The only contact fields a public page may show (公示字段白名单)."""


def safe_text(value: object) -> str:
    """Text made harmless for HTML inside a JavaScript template literal."""
    return (
        html.escape(str(value), quote=True)
        .replace("`", "&#96;")
        .replace("$", "&#36;")
        .replace("\\", "&#92;")
    )


def public_map(data: PublicMapData, *, tiles: BaseMap = OFFLINE) -> OfflineMap:
    """Build the community's public map (公众版地图)."""
    page = community_page(
        data.community.geometry, title=f"{data.community.name} 网格公示图", tiles=tiles
    )
    colors = distinct_colors([g.geometry for g in data.grids])
    add_community_layers(page, data, grid_colors=colors, shift=tiles.shift)
    # Folded into one button: open, it covered a third of a phone's screen
    # and the search box beside it.
    folium.LayerControl(collapsed=True).add_to(page)
    page.figure().html.add_child(folium.Element(_legend(data, colors)))
    return page


def index_page(communities: list[tuple[str, str]]) -> str:
    """The site's index: one link per community map."""
    links = "".join(
        f"<li><a href='{safe_text(code)}.html'>{safe_text(name)}</a></li>"
        for code, name in communities
    )
    return (
        "<!DOCTYPE html><html lang=zh-CN><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width, initial-scale=1'><title>社区网格公示图</title></head>"
        f"<body><h1>社区网格公示图</h1><ul>{links}</ul></body></html>"
    )


def _legend(data: PublicMapData, colors: list[str]) -> str:
    items = "".join(
        f"<li><span style='background:{c}'></span>{safe_text(g.name)}</li>"
        for g, c in zip(data.grids, colors, strict=True)
    )
    return (
        f"<div class=geogrid-legend><b>{safe_text(data.community.name)} 网格</b><ul>{items}</ul>"
        "<small>点击网格、楼栋或弄巷查看公示人员<br>tap a grid, building or lane for its contacts</small></div>"
    )
