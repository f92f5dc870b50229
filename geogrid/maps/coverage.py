"""The coverage map (覆盖检查图): every finding drawn where it is, clickable with its rule and measure.

A staff map: findings name buildings and people, so it is written by the CLI
for staff and planners, never published.
"""

from typing import Any

import folium

from shapely.geometry import mapping

from geogrid.domain.findings import RULES
from geogrid.maps.base import OfflineMap, community_page
from geogrid.maps.public import safe_text
from geogrid.services.coverage import CoverageResult
from geogrid.services.publishing import PublicMapData

SEVERITY_COLOR = {"error": "#d62728", "warning": "#ff7f0e"}


def finding_html(row: Any) -> str:
    """A finding's popup: the rule, the features involved and the measure."""
    measure = "".join(
        f"<tr><th>{safe_text(k)}</th><td>{safe_text(v)}</td></tr>"
        for k, v in row.measure.items()
    )
    codes = " ".join(safe_text(c) for c in row.codes[:8]) + (
        " …" if len(row.codes) > 8 else ""
    )
    accepted = "<p>已接受为例外 accepted</p>" if row.is_accepted else ""
    return (
        f"<div class=geogrid-card><h4>{safe_text(RULES[row.rule].title)}</h4>"
        f"<p class=code>{safe_text(row.rule)} · {safe_text(row.severity)} · key {safe_text(row.key)}</p>"
        f"<p>{codes}</p><table>{measure}</table>{accepted}</div>"
    )


def coverage_map(result: CoverageResult, area: PublicMapData) -> OfflineMap:
    """Draw a coverage report over a community's grids (覆盖检查图)."""
    page = community_page(area.community.geometry)
    base = folium.FeatureGroup(name="网格 grids").add_to(page)
    for grid in area.grids:
        folium.GeoJson(
            mapping(grid.geometry),
            style_function=lambda _f: {
                "color": "#555",
                "weight": 1,
                "fillOpacity": 0.05,
            },
            tooltip=safe_text(grid.name),
        ).add_to(base)
    for rule in RULES:
        rows = result.findings[result.findings["rule"] == rule]
        rows = rows[rows.geometry.notna()]
        if rows.empty:
            continue
        layer = folium.FeatureGroup(
            name=f"{safe_text(RULES[rule].title)} ({len(rows)})"
        ).add_to(page)
        for row in rows.itertuples():
            color = "#2ca02c" if row.is_accepted else SEVERITY_COLOR[row.severity]
            shape = folium.GeoJson(
                mapping(row.geometry),
                style_function=_style(color, row.geometry.geom_type),
                marker=folium.CircleMarker(radius=5, color=color, fill=True),
            )
            folium.Popup(finding_html(row), max_width=360).add_to(shape)
            shape.add_to(layer)
    folium.LayerControl(collapsed=False).add_to(page)
    return page


def _style(color: str, geom_type: str) -> Any:
    dashed = geom_type in ("Polygon", "MultiPolygon")

    def style(_feature: Any) -> dict[str, Any]:
        return {
            "color": color,
            "weight": 3,
            "fillColor": color,
            "fillOpacity": 0.35 if dashed else 0.8,
            "className": "geogrid-finding",
        }

    return style
