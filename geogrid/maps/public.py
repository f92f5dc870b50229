"""The residents' map (社区管辖范围图): grids, posted contacts, service centres.

Every text from the database passes :func:`safe_text` and a whitelist of card
fields before it reaches the page: folium puts popup HTML inside JavaScript
template literals, so a name holding a backtick or ``${`` would otherwise run
as code, and a name holding ``<img onerror=…>`` as markup.
"""

import html
from collections.abc import Mapping
from typing import Any

import folium

from shapely.geometry import mapping

from geogrid.maps.base import OfflineMap, community_page
from geogrid.maps.colors import distinct_colors
from geogrid.services.publishing import PublicMapData, PublishedArea

CARD_FIELDS = ("title", "name", "phone", "duties")
"""The only contact fields a public page may show (公示字段白名单)."""


def safe_text(value: object) -> str:
    """Text made harmless for HTML inside a JavaScript template literal."""
    return (
        html.escape(str(value), quote=True)
        .replace("`", "&#96;")
        .replace("$", "&#36;")
        .replace("\\", "&#92;")
    )


def card_html(area: PublishedArea, *, supervision_phone: str = "") -> str:
    """The 公示牌 of one area: each posted role with its holder."""
    rows = []
    for card in area.cards:
        shown = {k: card[k] for k in CARD_FIELDS if card.get(k)}
        rows.append(
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr><tr><td colspan=3 class=duty>{}</td></tr>".format(
                safe_text(shown.get("title", "")),
                safe_text(shown.get("name", "")),
                safe_text(shown.get("phone", "")),
                safe_text(shown.get("duties", "")),
            )
        )
    supervision = (
        f"<p>监督电话：{safe_text(supervision_phone)}</p>" if supervision_phone else ""
    )
    return (
        f"<div class=geogrid-card><h4>{safe_text(area.name)}</h4>"
        f"<p class=code>编码 {safe_text(area.code)}</p>"
        f"<table>{''.join(rows) or '<tr><td>暂无公示人员</td></tr>'}</table>{supervision}</div>"
    )


def public_map(data: PublicMapData) -> OfflineMap:
    """Build the community's public map (公众版地图)."""
    page = community_page(data.community.geometry)
    page.get_root().header.add_child(
        folium.Element(f"<title>{safe_text(data.community.name)} 网格公示图</title>")
    )
    folium.GeoJson(
        mapping(data.community.geometry),
        name=f"{safe_text(data.community.name)}范围",
        style_function=lambda _f: {"color": "#333", "weight": 3, "fill": False},
    ).add_to(page)
    grids = folium.FeatureGroup(name="网格 grids").add_to(page)
    colors = distinct_colors([g.geometry for g in data.grids])
    for grid, color in zip(data.grids, colors, strict=True):
        layer = folium.GeoJson(
            {
                "type": "Feature",
                "properties": {"code": grid.code},
                "geometry": mapping(grid.geometry),
            },
            style_function=_style(color),
            tooltip=folium.Tooltip(
                safe_text(grid.name),
                permanent=True,
                direction="center",
                className="grid-label",
            ),
        )
        folium.Popup(
            card_html(grid, supervision_phone=data.supervision_phone), max_width=320
        ).add_to(layer)
        layer.add_to(grids)
    centres = folium.FeatureGroup(name="服务设施 centres").add_to(page)
    radii = folium.FeatureGroup(name="服务半径 service radius", show=False).add_to(page)
    for centre in data.centres:
        label = f"{safe_text(centre['name'])}（{safe_text(centre['kind'])}，服务半径 {centre['radius_m']:.0f} 米）"
        folium.Circle(
            [centre["lat"], centre["lon"]],
            radius=centre["radius_m"],
            color="#888",
            weight=1,
            fill=False,
        ).add_to(radii)
        folium.CircleMarker(
            [centre["lat"], centre["lon"]],
            radius=6,
            color="#c00",
            fill=True,
            tooltip=label,
        ).add_to(centres)
    folium.LayerControl(collapsed=False).add_to(page)
    page.get_root().html.add_child(folium.Element(_legend(data, colors)))
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


def _style(color: str) -> Any:
    def style(_feature: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "color": "#fff",
            "weight": 2,
            "fillColor": color,
            "fillOpacity": 0.45,
            "className": "geogrid-grid",  # lets a reader's tools (and tests) find the grids
        }

    return style


def _legend(data: PublicMapData, colors: list[str]) -> str:
    items = "".join(
        f"<li><span style='background:{c}'></span>{safe_text(g.name)}</li>"
        for g, c in zip(data.grids, colors, strict=True)
    )
    return f"<div class=geogrid-legend><b>{safe_text(data.community.name)} 网格</b><ul>{items}</ul><small>点击网格查看公示人员</small></div>"
