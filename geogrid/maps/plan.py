"""The plan diff map (网格调整方案对比图): old and new boundaries, and what moves.

The current grids are drawn as dashed grey lines under the plan's grids:
added grids in one colour, changed grids in another, unchanged grids faint,
and removed grids red-outlined and hatched. Each grid opens its figures
(households before → after, the households band, buildings moving in and out,
role changes); each building that changes grid is filled in a highlight
colour and opens its old and new grid, households and addresses.

A staff map for planners: it names buildings and role-holders, and is never
published. Every text from the database goes through :func:`safe_text`. The
hatch is an inline SVG pattern (as on the coverage map), so the page stays
offline.
"""

import re
from collections.abc import Callable, Iterable
from typing import Any

import folium

import geopandas as gpd
import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from geogrid.domain.answers import BuildingMove, HolderRef, PlanImpact
from geogrid.maps.base import OfflineMap, community_page
from geogrid.maps.public import safe_text
from geogrid.maps.tiles import OFFLINE, BaseMap

TITLE = "网格调整方案对比图"
OLD_COLOR = "#666"
ADDED_COLOR = "#2ca02c"
CHANGED_COLOR = "#ff7f0e"
UNCHANGED_COLOR = "#1f77b4"
REMOVED_COLOR = "#d62728"
MOVED_COLOR = "#e6007e"
BUILDING_COLOR = "#999"
LISTED = 12
"""Buildings named in a grid's popup before the rest are counted."""

HATCH = (
    "<svg width=0 height=0 style='position:absolute' aria-hidden=true><defs>"
    "<pattern id=geogrid-removed-hatch patternUnits=userSpaceOnUse width=8 height=8"
    " patternTransform='rotate(45)'>"
    f"<rect width=8 height=8 fill='{REMOVED_COLOR}' fill-opacity=0.08></rect>"
    f"<line x1=0 y1=0 x2=0 y2=8 stroke='{REMOVED_COLOR}' stroke-width=2></line>"
    "</pattern></defs></svg>"
)
"""The diagonal hatch of a removed grid (撤销网格斜线), referenced by CSS."""

CSS = f"""<style>
path.geogrid-removed{{fill:url(#geogrid-removed-hatch);fill-opacity:1}}
.geogrid-legend .hatch{{background:repeating-linear-gradient(45deg,{REMOVED_COLOR} 0 2px,transparent 2px 6px);border:1px solid {REMOVED_COLOR}}}
.geogrid-legend .line{{background:none;border:2px solid}} .geogrid-legend .dashed{{border-style:dashed}}
.geogrid-card .moves{{margin:4px 0;font-size:12px}} .geogrid-card .outside{{color:{REMOVED_COLOR};font-weight:bold}}
</style>"""

Shift = Callable[[BaseGeometry], BaseGeometry]


def plan_diff_map(
    impact: PlanImpact,
    old: gpd.GeoDataFrame,
    new: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    *,
    tiles: BaseMap = OFFLINE,
) -> OfflineMap:
    """Draw a plan's diff (网格调整方案对比图).

    Args:
        impact: :func:`geogrid.services.planning.diff`'s result.
        old: The current grids (``code``, ``name``, geometry), EPSG:4326.
        new: The plan's grids, likewise.
        buildings: The scope's buildings (``code``, ``name``, ``estate``, geometry).
        tiles: The base map; geometries are shifted to its datum.
    """
    frames = [f.geometry.to_numpy() for f in (old, new) if not f.empty]
    outline = shapely.union_all([g for part in frames for g in part])
    if outline.is_empty and not buildings.empty:
        outline = shapely.union_all(buildings.geometry.to_numpy())
    page = community_page(outline, title=TITLE, tiles=tiles)
    root = page.figure()
    root.header.add_child(folium.Element(CSS))
    root.html.add_child(folium.Element(HATCH))
    view = _View(impact, old, new, buildings)
    shift = tiles.shift

    grids = folium.FeatureGroup(name="新网格 new grids").add_to(page)
    for status in ("unchanged", "changed", "added"):
        for row in new.itertuples():
            if view.status(row.code) == status:
                _shape(
                    shift(row.geometry),
                    f"geogrid-grid geogrid-{status} {_key('g', row.code)}",
                    STATUS_STYLE[status],
                    popup=view.grid_popup(row.code),
                    tooltip=safe_text(row.name or row.code),
                ).add_to(grids)
    removed = folium.FeatureGroup(name="撤销网格 removed grids").add_to(page)
    for row in old.itertuples():
        if row.code in view.removed:
            _shape(
                shift(row.geometry),
                f"geogrid-grid geogrid-removed {_key('g', row.code)}",
                {"color": REMOVED_COLOR, "weight": 3, "dashArray": "2 6"},
                popup=view.removed_popup(row.code, row.geometry),
                tooltip=f"撤销 removed: {safe_text(row.name or row.code)}",
            ).add_to(removed)
    boundaries = folium.FeatureGroup(name="原网格边界 old boundaries").add_to(page)
    if not old.empty:
        folium.GeoJson(
            _collection(shift(g.boundary) for g in old.geometry),
            style_function=lambda _f: {
                "color": OLD_COLOR,
                "weight": 2,
                "dashArray": "6 6",
                "className": "geogrid-old",
            },
            interactive=False,
        ).add_to(boundaries)
    _draw_buildings(page, view, buildings, shift)
    folium.LayerControl(collapsed=False).add_to(page)
    root.html.add_child(folium.Element(view.legend()))
    return page


STATUS_STYLE = {
    "added": {"color": ADDED_COLOR, "weight": 3, "fillOpacity": 0.2},
    "changed": {"color": CHANGED_COLOR, "weight": 3, "fillOpacity": 0.15},
    "unchanged": {"color": UNCHANGED_COLOR, "weight": 1, "fillOpacity": 0.04},
}


class _View:
    """The diff indexed for drawing: names, moves and people per grid, and popups."""

    def __init__(
        self,
        impact: PlanImpact,
        old: gpd.GeoDataFrame,
        new: gpd.GeoDataFrame,
        buildings: gpd.GeoDataFrame,
    ) -> None:
        self.plan = impact.plan
        self.added = set(impact.grids.added)
        self.removed = set(impact.grids.removed)
        self.changed = set(impact.grids.changed)
        self.old_names = dict(zip(old["code"], old["name"], strict=True))
        self.new_names = dict(zip(new["code"], new["name"], strict=True))
        self.new = new
        self.moves = impact.moves
        self.before = impact.households.before
        self.after = impact.households.after
        self.band = impact.band
        self.missing = impact.people.new_grids_missing
        self.left = impact.people.left_without_grid
        self.holders: dict[str, list[HolderRef]] = {}
        for holder in impact.people.building_changed_grid:
            self.holders.setdefault(holder.target_code, []).append(holder)
        estates = (
            buildings["estate"] if "estate" in buildings else [""] * len(buildings)
        )
        self.estate = dict(zip(buildings["code"], estates, strict=True))

    def status(self, code: str) -> str:
        if code in self.added:
            return "added"
        if code in self.changed:
            return "changed"
        return "unchanged"

    def old_name(self, code: str | None) -> str:
        if not code:
            return "无网格 none"
        return f"{safe_text(self.old_names.get(code) or code)}"

    def new_name(self, code: str | None) -> str:
        if not code:
            return "无网格 none"
        return f"{safe_text(self.new_names.get(code) or code)}"

    def grid_popup(self, code: str) -> str:
        """A new grid: households before → after, band, moves in and out, role changes."""
        status = self.status(code)
        label = {"added": "新增 added", "changed": "调整 changed"}.get(
            status, "未变 unchanged"
        )
        rows = [
            ("户数 households", self._households(code)),
            ("户数区间 band", self._band(code)),
        ]
        renamed = code in self.old_names and self.old_names[code] != self.new_names.get(
            code
        )
        if renamed:
            rows.append(("原名 was", safe_text(self.old_names[code])))
        table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
        incoming = [m for m in self.moves if m.to_grid == code]
        outgoing = [m for m in self.moves if m.from_grid == code]
        return (
            f"<div class=geogrid-card><h4>{self.new_name(code)}</h4>"
            f"<p class=code>{safe_text(code)} · {label}</p><table>{table}</table>"
            f"{self._moves('转入 moving in', incoming, incoming=True)}"
            f"{self._moves('转出 moving out', outgoing, incoming=False)}"
            f"{self._roles(code, incoming + outgoing)}</div>"
        )

    def removed_popup(self, code: str, geometry: BaseGeometry) -> str:
        """A removed grid: its households, where its land and buildings go, who is left."""
        now_in = [
            self.new_name(c)
            for c, g in zip(self.new["code"], self.new.geometry, strict=True)
            if shapely.area(shapely.intersection(g, geometry)) > 0
        ]
        before = self.before.get(code, 0)
        left = [p for p in self.left if p.target_code == code]
        people = "、".join(f"{safe_text(p.title)} {safe_text(p.name)}" for p in left)
        outgoing = [m for m in self.moves if m.from_grid == code]
        return (
            f"<div class=geogrid-card><h4>{self.old_name(code)}</h4>"
            f"<p class=code>{safe_text(code)} · 撤销 removed</p><table>"
            f"<tr><th>户数 households</th><td>{before} → 0</td></tr>"
            f"<tr><th>现属 now in</th><td>{'、'.join(now_in) or '—'}</td></tr></table>"
            f"{self._moves('转出 moving out', outgoing, incoming=False)}"
            + (
                f"<p class=moves><b>失去网格的人员 left without a grid</b>：{people}</p>"
                if people
                else ""
            )
            + "</div>"
        )

    def building_popup(self, move: BuildingMove) -> str:
        """A moving building: name, old grid → new grid, households, addresses."""
        holders = "、".join(
            f"{safe_text(h.title)} {safe_text(h.name)}"
            for h in self.holders.get(move.building, [])
        )
        estate = self.estate.get(move.building)
        rows = [
            (
                "调整 move",
                f"{self.old_name(move.from_grid)} → {self.new_name(move.to_grid)}",
            ),
            ("户数 households", str(move.households)),
            ("地址 addresses", str(move.addresses)),
        ]
        if isinstance(estate, str) and estate.strip():
            rows.insert(0, ("小区 estate", safe_text(estate)))
        if holders:
            rows.append(("楼栋人员 building roles", holders))
        table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
        return (
            f"<div class=geogrid-card><h4>{safe_text(move.name or move.building)}</h4>"
            f"<p class=code>{safe_text(move.building)}</p><table>{table}</table></div>"
        )

    def legend(self) -> str:
        items = [
            (f"class='line dashed' style='border-color:{OLD_COLOR}'", "原网格边界 old boundary"),
            (f"style='background:{ADDED_COLOR}'", "新增网格 added grid"),
            (f"style='background:{CHANGED_COLOR}'", "调整网格 changed grid"),
            (f"style='background:{UNCHANGED_COLOR};opacity:.3'", "未变网格 unchanged grid"),
            ("class=hatch", "撤销网格 removed grid"),
            (f"style='background:{MOVED_COLOR}'", "调整归属的楼栋 moving building"),
        ]  # fmt: skip
        rows = "".join(f"<li><span {a}></span>{label}</li>" for a, label in items)
        households = sum(m.households for m in self.moves)
        heading = f"方案 plan {self.plan.id} · {safe_text(self.plan.scope)}"
        stale = (
            "<br><b class=outside>方案已过期，请先更新 stale: rebase first</b>"
            if self.plan.stale
            else ""
        )
        outside = (
            f"<br>户数区间 band {self.band.min}–{self.band.max}："
            f"{len(self.band.outside_after)} 个网格超出 outside"
        )
        return (
            f"<div class=geogrid-legend><b>{TITLE}</b><br><small>{heading}</small>"
            f"<ul>{rows}</ul><small>{len(self.moves)} 栋楼、{households} 户调整网格 "
            f"buildings / households moving{outside}{stale}<br>"
            "点击网格或楼栋查看详情 click a grid or building</small></div>"
        )

    def _households(self, code: str) -> str:
        before = "—" if code in self.added else str(self.before.get(code, 0))
        return f"{before} → {self.after.get(code, 0)}"

    def _band(self, code: str) -> str:
        low, high = self.band.min, self.band.max
        after = self.after.get(code, 0)
        if code not in self.band.outside_after:
            return f"{low}–{high}：符合 within"
        side = "偏少 below" if after < low else "偏多 above"
        return f"<span class=outside>{low}–{high}：{side}</span>"

    def _moves(self, heading: str, moves: list[BuildingMove], *, incoming: bool) -> str:
        """Moves in or out, grouped by the grid on the other side (自/至 that grid)."""
        if not moves:
            return ""
        name = self.old_name if incoming else self.new_name
        arrow = "←" if incoming else "→"
        households = sum(m.households for m in moves)
        by_grid: dict[str, list[BuildingMove]] = {}
        for move in moves:
            other = move.from_grid if incoming else move.to_grid
            by_grid.setdefault(other or "", []).append(move)
        lines = []
        for grid, group in by_grid.items():
            listed = "、".join(safe_text(m.name or m.building) for m in group[:LISTED])
            more = f" … 等{len(group)}栋" if len(group) > LISTED else ""
            lines.append(f"{arrow} {name(grid)}（{len(group)} 栋）：{listed}{more}")
        return (
            f"<p class=moves><b>{heading}</b>：{len(moves)} 栋、{households} 户"
            f"<br>{'<br>'.join(lines)}</p>"
        )

    def _roles(self, code: str, moves: list[BuildingMove]) -> str:
        parts = []
        vacant = [safe_text(m.title) for m in self.missing if m.grid == code]
        if vacant:
            parts.append(f"待配 to appoint：{'、'.join(vacant)}")
        moving = [
            f"{safe_text(h.title)} {safe_text(h.name)}"
            f"（{safe_text(m.name or m.building)}）"
            for m in moves
            for h in self.holders.get(m.building, [])
        ]
        if moving:
            more = f" … 共{len(moving)}人" if len(moving) > LISTED else ""
            parts.append(
                f"随楼栋调整 moving with buildings：{'、'.join(moving[:LISTED])}{more}"
            )
        if code in self.old_names:
            left = [p for p in self.left if p.target_code == code]
            if left:
                parts.append(
                    "失去网格 left without a grid："
                    + "、".join(
                        f"{safe_text(p.title)} {safe_text(p.name)}" for p in left
                    )
                )
        if not parts:
            return ""
        return "<p class=moves><b>人员变动 roles</b><br>" + "<br>".join(parts) + "</p>"


def _draw_buildings(
    page: folium.Map, view: _View, buildings: gpd.GeoDataFrame, shift: Shift
) -> None:
    """The other buildings faint for context, the moving ones highlighted on top."""
    moving = {m.building for m in view.moves}
    rest = buildings[~buildings["code"].isin(list(moving))]
    context = folium.FeatureGroup(name="楼栋 buildings").add_to(page)
    if not rest.empty:
        folium.GeoJson(
            _collection(shift(g) for g in rest.geometry),
            style_function=lambda _f: {
                "color": BUILDING_COLOR,
                "weight": 1,
                "fillOpacity": 0.2,
                "className": "geogrid-building",
            },
            interactive=False,
        ).add_to(context)
    layer = folium.FeatureGroup(name="调整楼栋 moving buildings").add_to(page)
    shapes = dict(zip(buildings["code"], buildings.geometry, strict=True))
    for move in view.moves:
        geometry = shapes.get(move.building)
        if geometry is None or geometry.is_empty:
            continue
        _shape(
            shift(geometry),
            f"geogrid-moved {_key('b', move.building)}",
            {"color": MOVED_COLOR, "weight": 2, "fillOpacity": 0.7},
            popup=view.building_popup(move),
            tooltip=f"{safe_text(move.name or move.building)}："
            f"{view.old_name(move.from_grid)} → {view.new_name(move.to_grid)}",
            marker=True,
        ).add_to(layer)


def _shape(
    geometry: BaseGeometry,
    classes: str,
    style: dict[str, Any],
    *,
    popup: str,
    tooltip: str,
    marker: bool = False,
) -> folium.GeoJson:
    """A clickable shape (and, with ``marker``, a dot on it) with one popup."""
    features = [{"type": "Feature", "properties": {}, "geometry": mapping(geometry)}]
    if marker:
        dot = mapping(geometry.representative_point())
        features.append({"type": "Feature", "properties": {}, "geometry": dot})
    full = {"fillColor": style["color"], **style, "className": classes}
    dot_style = full | {"fillOpacity": 0.9, "weight": 1}

    def styler(feature: dict[str, Any]) -> dict[str, Any]:
        return dot_style if feature["geometry"]["type"] == "Point" else full

    shape = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        style_function=styler,
        marker=folium.CircleMarker(radius=5, fill=True),
        tooltip=tooltip,
    )
    folium.Popup(popup, max_width=380).add_to(shape)
    return shape


def _collection(geoms: Iterable[BaseGeometry]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": mapping(g)}
            for g in geoms
            if g is not None and not g.is_empty
        ],
    }


def _key(prefix: str, code: str) -> str:
    """A class naming one grid or building, for styling and tests."""
    return f"geogrid-{prefix}-{re.sub(r'[^0-9A-Za-z_-]', '', str(code))}"
