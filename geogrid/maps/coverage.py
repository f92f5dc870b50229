"""The coverage map (覆盖检查图): every finding drawn where it is, clickable with its rule and measure.

Gaps, overlaps and other area errors are outlined in the severity colour (red
error, orange warning, green once accepted); unassigned buildings and
addresses are drawn and marked with a dot so they show at any zoom; grids
(and other targets) with a vacant role are hatched; homes beyond a service
centre's radius are dotted and the hole around them shaded. Each shape opens
its finding: the rule, the features involved and the measure.

Leaflet has no pattern fill and folium's pattern plugin loads from a CDN, so
the hatch is an inline SVG ``<pattern>`` that CSS applies to the paths Leaflet
draws with the ``geogrid-vacant`` class: the page stays offline.

A staff map: findings name buildings and people, so it is written by the CLI
for staff and planners, never published.
"""

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any, TypeGuard

import folium

import geopandas as gpd
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geogrid.domain.findings import RULES
from geogrid.maps.base import OfflineMap, community_page
from geogrid.maps.layers import Shift
from geogrid.maps.public import safe_text
from geogrid.maps.tiles import OFFLINE, BaseMap
from geogrid.services.coverage import CoverageResult
from geogrid.services.publishing import PublicMapData, PublishedArea
from geogrid.spatial.crs import STORAGE_CRS, local_crs

SEVERITY_COLOR = {"error": "#d62728", "warning": "#ff7f0e"}
ACCEPTED_COLOR = "#2ca02c"
HOLE_COLOR = "#9467bd"
GRID_COLOR = "#555"

AREA_WIDE = (
    "community_overloaded",
    "grid_overloaded",
    "grid_underloaded",
    "role_excess",
    "role_vacant",
    "service_radius",
)
"""Rules whose shape is a whole area: drawn first and faint, so that gaps,
overlaps and buildings lie on top of them and stay clickable."""

MARKED = ("building_no_grid", "building_split", "address_unassigned")
"""Rules on buildings and addresses: a dot marks them, a footprint is tiny at 1:10 000."""

HATCH = (
    "<svg width=0 height=0 style='position:absolute' aria-hidden=true><defs>"
    "<pattern id=geogrid-hatch patternUnits=userSpaceOnUse width=8 height=8"
    " patternTransform='rotate(45)'>"
    f"<rect width=8 height=8 fill='{SEVERITY_COLOR['error']}' fill-opacity=0.08></rect>"
    f"<line x1=0 y1=0 x2=0 y2=8 stroke='{SEVERITY_COLOR['error']}' stroke-width=2.5></line>"
    "</pattern></defs></svg>"
)
"""The diagonal hatch of a vacant role (岗位空缺斜线), referenced by CSS."""

CSS = f"""<style>
path.geogrid-vacant{{fill:url(#geogrid-hatch);fill-opacity:1}}
.geogrid-legend .hatch{{background:repeating-linear-gradient(45deg,{SEVERITY_COLOR["error"]} 0 2px,transparent 2px 6px);border:1px solid {SEVERITY_COLOR["error"]}}}
.geogrid-legend .line{{background:none;border:2px solid}} .geogrid-legend .dot{{border-radius:50%}}
.geogrid-legend .hole{{background:{HOLE_COLOR};opacity:.5;border:1px dashed {HOLE_COLOR}}}
.geogrid-legend .undrawn{{color:#666;font-size:12px;margin:4px 0 0}}
</style>"""


def finding_html(row: Any) -> str:
    """A finding's popup: the rule, the features involved and the measure."""
    measure = "".join(
        f"<tr><th>{safe_text(k)}</th><td>{safe_text(_shown(v))}</td></tr>"
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


def coverage_map(
    result: CoverageResult, area: PublicMapData, *, tiles: BaseMap = OFFLINE
) -> OfflineMap:
    """Draw a coverage report over a community's grids (覆盖检查图)."""
    page = community_page(
        area.community.geometry, title=f"{area.community.name} 覆盖检查图", tiles=tiles
    )
    if tiles.source is not None and tiles.source.datum != "wgs84":
        result, area = _shifted(result, area, tiles.shift)
    root = page.figure()
    root.header.add_child(folium.Element(CSS))
    root.html.add_child(folium.Element(HATCH))
    base = folium.FeatureGroup(name="网格 grids").add_to(page)
    for grid in area.grids:
        folium.GeoJson(
            mapping(grid.geometry),
            style_function=lambda _f: {
                "color": GRID_COLOR,
                "weight": 1,
                "fillOpacity": 0.05,
            },
            tooltip=safe_text(grid.name),
        ).add_to(base)
    findings = result.findings
    undrawn: list[Any] = []
    same_place = _same_place(findings)
    order = [*AREA_WIDE, *(r for r in RULES if r not in AREA_WIDE)]
    for rule in order:
        rows = findings[findings["rule"] == rule]
        if rows.empty:
            continue
        layer = folium.FeatureGroup(
            name=f"{safe_text(RULES[rule].title)} ({len(rows)})"
        )
        layer.add_to(page)
        if rule == "role_vacant":
            undrawn += _draw_vacant(rows, area, layer)
            continue
        for row in rows.itertuples():
            if not _drawn(row.geometry):
                undrawn.append(row)
                continue
            if rule == "service_radius":
                _draw_service(row, area, layer)
            else:
                _draw(row, layer, same_place)
    folium.LayerControl(collapsed=False).add_to(page)
    root.html.add_child(folium.Element(_legend(undrawn)))
    return page


def _shifted(
    result: CoverageResult, area: PublicMapData, shift: Shift
) -> tuple[CoverageResult, PublicMapData]:
    """Copies of the report and map data in the tiles' datum (高德: GCJ-02), for display."""
    findings = result.findings.copy()
    findings["geometry"] = [None if g is None else shift(g) for g in findings.geometry]

    def moved(items: list[PublishedArea]) -> list[PublishedArea]:
        return [replace(a, geometry=shift(a.geometry)) for a in items]

    centres = []
    for c in area.centres:
        point = shift(shapely.Point(c["lon"], c["lat"]))
        centres.append(c | {"lon": shapely.get_x(point), "lat": shapely.get_y(point)})
    return replace(result, findings=findings), replace(
        area,
        community=moved([area.community])[0],
        grids=moved(area.grids),
        estates=moved(area.estates),
        buildings=moved(area.buildings),
        lanes=moved(area.lanes),
        centres=centres,
    )


def _draw(
    row: Any, layer: folium.FeatureGroup, same_place: dict[bytes, list[Any]]
) -> None:
    """One finding: its shape in the severity colour, a dot on buildings."""
    color = _color([row])
    area_wide = row.rule in AREA_WIDE
    marker = row.rule in MARKED and row.geometry.geom_type in (
        "Polygon",
        "MultiPolygon",
    )
    _shape(
        row.geometry,
        _classes("geogrid-finding", [row]),
        color,
        fill_opacity=0.12 if area_wide else 0.35,
        popup=finding_html(row) + _also_here(row, same_place),
        marker=marker,
    ).add_to(layer)


def _draw_vacant(rows: Any, area: PublicMapData, layer: folium.FeatureGroup) -> list:
    """Vacant roles hatched, one shape per target listing every vacant role.

    A finding without a place (a stored report may lack it) is drawn on its
    target's outline from the map data: its grid, estate, building or lane.
    """
    places = {
        a.code: a
        for a in (
            area.community,
            *area.estates,
            *area.buildings,
            *area.lanes,
            *area.grids,
        )
    }
    undrawn = []
    groups: dict[str, list[Any]] = {}
    for row in rows.itertuples():
        groups.setdefault(row.codes[0] if len(row.codes) else "", []).append(row)
    for code, group in groups.items():
        place = places.get(code)
        geometry = next(
            (r.geometry for r in group if _drawn(r.geometry)),
            place.geometry if place is not None else None,
        )
        if not _drawn(geometry):
            undrawn += group
            continue
        roles = "、".join(
            safe_text(r.measure.get("title") or r.measure.get("role", ""))
            for r in group
        )
        name = safe_text(place.name if place is not None else code)
        heading = f"<p><b>{name} 岗位空缺：{roles}</b></p>"
        hatched = not all(r.is_accepted for r in group)
        classes = _classes("geogrid-finding", group)
        _shape(
            geometry,
            f"{classes} geogrid-vacant" if hatched else classes,
            _color(group),
            fill_opacity=0.12,
            popup=heading + "".join(finding_html(r) for r in group),
            tooltip=f"{name} 岗位空缺 vacant: {roles}",
            # A building or lane is too small for its hatch to show: dot it.
            marker=place is None or place.level not in ("grid", "estate", "community"),
        ).add_to(layer)
    return undrawn


def _same_place(findings: Any) -> dict[bytes, list[Any]]:
    """Findings by where they are: a building in no grid is where its addresses are."""
    out: dict[bytes, list[Any]] = {}
    for row in findings.itertuples():
        if _drawn(row.geometry) and row.rule not in AREA_WIDE:
            out.setdefault(_place(row.geometry), []).append(row)
    return out


def _also_here(row: Any, same_place: dict[bytes, list[Any]]) -> str:
    """The other findings on the same shape, which the topmost one would hide."""
    others = [r for r in same_place.get(_place(row.geometry), []) if r.key != row.key]
    if not others:
        return ""
    return "<hr><p>同一位置 also here:</p>" + "".join(finding_html(r) for r in others)


def _place(geometry: BaseGeometry) -> bytes:
    return shapely.to_wkb(shapely.set_precision(geometry, 1e-7), hex=False)


def _draw_service(row: Any, area: PublicMapData, layer: folium.FeatureGroup) -> None:
    """Homes beyond a service radius dotted, the hole around them shaded."""
    popup = finding_html(row)
    hole = _service_hole(row, area)
    if hole is not None:
        _shape(
            hole,
            _classes("geogrid-finding geogrid-service-hole", [row]),
            HOLE_COLOR,
            fill_opacity=0.25,
            popup=popup,
            dash="6 4",
            tooltip="服务半径外 beyond the service radius",
        ).add_to(layer)
    _shape(
        row.geometry, _classes("geogrid-finding", [row]), _color([row]), popup=popup
    ).add_to(layer)


def _service_hole(row: Any, area: PublicMapData) -> BaseGeometry | None:
    """The community's land beyond the radius of its own centres of the kind, where a missed home lies.

    Only centres inside the community are known to the map, so a piece a
    neighbour's centre serves may be shaded too: the pieces kept are those
    holding a home the check found unserved.
    """
    kind, radius = row.measure.get("kind"), row.measure.get("radius_m")
    outline = gpd.GeoSeries([area.community.geometry], crs=STORAGE_CRS)
    metric = local_crs(outline)
    homes = gpd.GeoSeries([row.geometry], crs=STORAGE_CRS).to_crs(metric).iloc[0]
    centres = [c for c in area.centres if c.get("kind") == kind]
    reach = gpd.GeoSeries.from_xy(
        [c["lon"] for c in centres], [c["lat"] for c in centres], crs=STORAGE_CRS
    ).to_crs(metric)
    radii = [
        radius if isinstance(radius, int | float) and radius > 0 else c["radius_m"]
        for c in centres
    ]
    circles = shapely.union_all(reach.buffer(radii).to_numpy()) if centres else None
    land = outline.to_crs(metric).iloc[0]
    rest = land.difference(circles) if circles is not None else land
    pieces = [p for p in shapely.get_parts(rest) if p.intersects(homes)]
    if not pieces:
        return None
    hole = gpd.GeoSeries([shapely.union_all(pieces)], crs=metric).to_crs(STORAGE_CRS)
    return hole.iloc[0]


def _shape(
    geometry: BaseGeometry,
    classes: str,
    color: str,
    *,
    popup: str,
    fill_opacity: float = 0.35,
    marker: bool = False,
    dash: str | None = None,
    tooltip: str | None = None,
) -> folium.GeoJson:
    """A clickable shape (and, with ``marker``, a dot on it) with one popup."""
    features = [{"type": "Feature", "properties": {}, "geometry": mapping(geometry)}]
    if marker:
        dot = mapping(geometry.representative_point())
        features.append({"type": "Feature", "properties": {}, "geometry": dot})
    lines = geometry.geom_type in ("LineString", "MultiLineString")
    style = {
        "color": color,
        "weight": 3,
        "fill": not lines,
        "fillColor": color,
        "fillOpacity": fill_opacity,
        "className": classes,
    }
    if dash:
        style["dashArray"] = dash
    # A dot is solid, or a hatched disc big enough to show its stripes.
    hatched = "geogrid-vacant" in classes.split()
    dot_style = style | (
        {"radius": 9, "weight": 2} if hatched else {"fillOpacity": 0.8}
    )

    def styler(feature: dict[str, Any]) -> dict[str, Any]:
        return dot_style if feature["geometry"]["type"] == "Point" else style

    shape = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        style_function=styler,
        marker=folium.CircleMarker(radius=6, fill=True),
        tooltip=tooltip,
    )
    folium.Popup(popup, max_width=360).add_to(shape)
    return shape


def _legend(undrawn: list[Any]) -> str:
    error, warning = SEVERITY_COLOR["error"], SEVERITY_COLOR["warning"]
    items = [
        (f"class=line style='border-color:{error}'", "错误：空白区、重叠等 error"),
        (f"class=line style='border-color:{warning}'", "提醒：细碎缝隙等 warning"),
        (f"class=dot style='background:{error}'", "未归属的楼栋、地址 unassigned"),
        ("class=hatch", "岗位空缺 vacant role"),
        ("class=hole", "服务半径外 beyond service radius"),
        (f"class=line style='border-color:{ACCEPTED_COLOR}'", "已接受例外 accepted"),
        (f"class=line style='border-color:{GRID_COLOR};border-width:1px'", "网格 grid"),
    ]
    rows = "".join(f"<li><span {attrs}></span>{label}</li>" for attrs, label in items)
    missing = ""
    if undrawn:
        listed = "；".join(
            f"{safe_text(RULES[r.rule].title)} {safe_text(' '.join(r.codes[:3]))}"
            for r in undrawn[:5]
        )
        more = " …" if len(undrawn) > 5 else ""
        missing = (
            f"<p class=undrawn>{len(undrawn)} 条问题无位置未画出 not drawn: "
            f"{listed}{more}</p>"
        )
    return (
        "<div class=geogrid-legend><b>覆盖检查 coverage</b>"
        f"<ul>{rows}</ul><small>点击问题查看规则和度量 click a defect</small>"
        f"{missing}</div>"
    )


def _classes(base: str, rows: Iterable[Any]) -> str:
    """The path classes: ``base``, the rule and each finding's key, for styling and tests."""
    rows = list(rows)
    names = [base, f"geogrid-rule-{rows[0].rule}"]
    names += [f"geogrid-key-{re.sub(r'[^0-9A-Za-z_-]', '', str(r.key))}" for r in rows]
    return " ".join(names)


def _color(rows: list[Any]) -> str:
    if all(r.is_accepted for r in rows):
        return ACCEPTED_COLOR
    return SEVERITY_COLOR[
        "error" if any(r.severity == "error" for r in rows) else "warning"
    ]


def _drawn(geometry: object) -> TypeGuard[BaseGeometry]:
    return isinstance(geometry, BaseGeometry) and not geometry.is_empty


def _shown(value: Any) -> Any:
    """A measure as shown: floats to two places."""
    return round(value, 2) if isinstance(value, float) else value
