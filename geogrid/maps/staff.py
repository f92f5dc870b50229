"""The staff map (工作人员地图): the public map plus private contacts and households per grid.

Written by the CLI for staff; never published. Grids are shaded by their
households against the configured band, so overloaded grids stand out.
"""

import folium

from shapely.geometry import mapping

from geogrid.maps.base import OfflineMap, community_page
from geogrid.maps.public import safe_text
from geogrid.services.publishing import PublicMapData, PublishedArea

STAFF_FIELDS = ("title", "name", "phone", "organisation", "employment", "duties")
BAND_COLORS = {"below": "#6baed6", "within": "#74c476", "above": "#de2d26"}


def _load(households: int | None, band: tuple[int, int]) -> str:
    low, high = band
    if households is None or households < low:
        return "below"
    return "above" if households > high else "within"


def staff_card(area: PublishedArea, band: tuple[int, int]) -> str:
    """The full card of a grid: every contact field, households against the band."""
    rows = "".join(
        "<tr>"
        + "".join(f"<td>{safe_text(card.get(k) or '')}</td>" for k in STAFF_FIELDS)
        + "</tr>"
        for card in area.cards
    )
    return (
        f"<div class=geogrid-card><h4>{safe_text(area.name)}</h4>"
        f"<p class=code>编码 {safe_text(area.code)} · 户数 {area.households or 0}"
        f"（标准 {band[0]}–{band[1]}）· 任职 {len(area.cards)}</p><table>{rows}</table></div>"
    )


def staff_map(data: PublicMapData, *, band: tuple[int, int]) -> OfflineMap:
    """Build a community's staff map (工作人员版地图)."""
    page = community_page(data.community.geometry)
    layer = folium.FeatureGroup(name="网格户数 households").add_to(page)
    for grid in data.grids:
        color = BAND_COLORS[_load(grid.households, band)]
        shape = folium.GeoJson(
            mapping(grid.geometry),
            style_function=lambda _f, c=color: {
                "color": "#fff",
                "weight": 2,
                "fillColor": c,
                "fillOpacity": 0.55,
                "className": "geogrid-grid",
            },
            tooltip=f"{safe_text(grid.name)} {grid.households or 0} 户",
        )
        folium.Popup(staff_card(grid, band), max_width=520).add_to(shape)
        shape.add_to(layer)
    legend = "".join(
        f"<li><span style='background:{c}'></span>{label}</li>"
        for label, c in zip(
            ("低于标准", "标准内", "超出标准"), BAND_COLORS.values(), strict=True
        )
    )
    page.get_root().html.add_child(
        folium.Element(
            f"<div class=geogrid-legend><b>网格户数 {band[0]}–{band[1]}</b><ul>{legend}</ul></div>"
        )
    )
    folium.LayerControl(collapsed=False).add_to(page)
    return page
