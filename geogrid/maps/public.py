"""The residents' map (社区管辖范围图): grids, 小区, buildings, lanes, centres and posted contacts.

Only the whitelisted card fields (:data:`geogrid.maps.layers.PUBLIC_FIELDS`)
reach the page, and ``geogrid.js`` writes every text as a DOM text node.
:func:`safe_text` escapes what Python itself writes into HTML (titles,
legend, index): folium puts such HTML inside JavaScript template literals, so
a backtick or ``${`` is escaped as well as markup.
"""

import html

import folium

from geogrid.domain.addresses import normalizer_rules
from geogrid.maps.base import STYLE, OfflineMap, community_page
from geogrid.maps.colors import distinct_colors
from geogrid.maps.layers import PUBLIC_FIELDS, add_community_layers, script_json
from geogrid.maps.tiles import OFFLINE, BaseMap
from geogrid.services.publishing import PublicMapData, SiteIndex

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


def index_page(site: SiteIndex) -> str:
    """The site's index: one search box across the communities, and a link to each map.

    A pick opens that community's page on what was found.
    """
    order = {code: i for i, (code, _) in enumerate(site.communities)}
    data = {
        "communities": [list(c) for c in site.communities],
        "search": [
            [label, kind, code, order[community]]
            for community, entries in site.entries.items()
            for label, kind, code in entries
        ],
        "normalizer": normalizer_rules(),
    }
    links = "".join(
        f"<li><a href='{safe_text(code)}.html'>{safe_text(name)}</a></li>"
        for code, name in site.communities
    )
    return (
        "<!DOCTYPE html><html lang=zh-CN><head><meta charset=utf-8>"
        f"<title>社区网格公示图</title>{STYLE}{_INDEX_STYLE}</head><body>"
        "<h1>社区网格公示图 <small>community grid maps</small></h1>"
        "<p>输入楼栋、小区或门牌地址，找到您的网格和网格员<br>"
        "<small>type your building, estate or address</small></p>"
        "<div id=geogrid-site-search></div>"
        f"<h2>社区 <small>communities</small></h2><ul class=communities>{links}</ul>"
        "<script src='static/geogrid/geogrid.js'></script>"
        f"<script>geogrid.searchSite({script_json(data)});</script>"
        "</body></html>"
    )


_INDEX_STYLE = """<style>
body{font-family:system-ui,sans-serif;margin:0 auto;padding:12px;max-width:640px;font-size:16px;color:#222}
h1{font-size:22px} h2{font-size:18px;margin-top:24px} small{color:#555;font-weight:normal}
#geogrid-site-search .geogrid-search{width:auto;border:2px solid #888;border-radius:6px}
#geogrid-site-search input{font-size:18px;padding:8px} #geogrid-site-search li{padding:10px 4px}
.geogrid-search .where{color:#555;font-size:13px;margin-left:8px}
ul.communities{padding-left:20px} ul.communities li{margin:10px 0} ul.communities a{font-size:18px}
</style>"""


def _legend(data: PublicMapData, colors: list[str]) -> str:
    items = "".join(
        f"<li><span style='background:{c}'></span>{safe_text(g.name)}</li>"
        for g, c in zip(data.grids, colors, strict=True)
    )
    return (
        f"<details class=geogrid-legend><summary>{safe_text(data.community.name)} 网格 <small>legend</small></summary>"
        f"<ul>{items}</ul>"
        "<small>点击网格、楼栋或弄巷查看公示人员<br>tap a grid, building or lane for its contacts</small></details>"
    )
