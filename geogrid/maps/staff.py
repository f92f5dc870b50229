"""The staff map (工作人员地图): the public map plus private contacts and households.

Written for staff; never published. Grids are shaded by their households
against the configured band, so overloaded grids stand out, and each card
names the households and role-holders it counts.
"""

from collections import Counter

import folium

from geogrid.maps.base import OfflineMap, community_page
from geogrid.maps.layers import add_community_layers
from geogrid.maps.tiles import OFFLINE, BaseMap
from geogrid.services.publishing import PublicMapData

STAFF_FIELDS = (
    ("title", "职务"),
    ("name", "姓名"),
    ("phone", "电话"),
    ("organisation", "单位"),
    ("employment", "用工"),
    ("duties", "职责"),
)
BAND_COLORS = {"below": "#6baed6", "within": "#74c476", "above": "#de2d26"}


def band_of(households: int | None, band: tuple[int, int]) -> str:
    """Where a grid's households fall against the band: below, within or above."""
    low, high = band
    if households is None or households < low:
        return "below"
    return "above" if households > high else "within"


def staff_map(
    data: PublicMapData, *, band: tuple[int, int], tiles: BaseMap = OFFLINE
) -> OfflineMap:
    """Build a community's staff map (工作人员版地图)."""
    page = community_page(
        data.community.geometry, title=f"{data.community.name} 网格工作图", tiles=tiles
    )
    buildings = Counter(b.grid for b in data.buildings)  # one pass, not one per grid
    add_community_layers(
        page,
        data,
        fields=STAFF_FIELDS,
        grid_colors=[BAND_COLORS[band_of(g.households, band)] for g in data.grids],
        grid_notes=[
            f"户数 {g.households or 0}（标准 {band[0]}–{band[1]}）· 任职 {len(g.cards)}"
            f" · 楼栋 {buildings[g.code]}"
            for g in data.grids
        ],
        shift=tiles.shift,
    )
    legend = "".join(
        f"<li><span style='background:{c}'></span>{label}</li>"
        for label, c in zip(
            ("低于标准 below", "标准内 within", "超出标准 above"),
            BAND_COLORS.values(),
            strict=True,
        )
    )
    page.figure().html.add_child(
        folium.Element(
            f"<div class=geogrid-legend><b>网格户数 households {band[0]}–{band[1]}</b><ul>{legend}</ul></div>"
        )
    )
    folium.LayerControl(collapsed=len(data.grids) > 12).add_to(page)
    return page
