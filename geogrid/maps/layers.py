"""The community layers (社区图层) of every map, drawn in the browser by ``geogrid.js``.

One compact JSON holds grids, 小区, buildings, lanes and centres; the vendored
``static/geogrid/geogrid.js`` draws them and builds every popup and label with
DOM text nodes, so a name from the database is always text, never markup or
code. Compared with one ``folium.GeoJson`` per feature, the page is several
times smaller: coordinates keep six decimals (about 0.1 m) and grid edges are
simplified together (``coverage_simplify``) so shared edges stay shared.
"""

import json
from collections.abc import Callable, Sequence
from typing import Any

import folium
import numpy as np
from branca.element import MacroElement
from jinja2 import Template

import shapely
from shapely.geometry.base import BaseGeometry

from geogrid.domain.addresses import normalizer_rules
from geogrid.services.publishing import PublicMapData, PublishedArea, building_label

PRECISION = 6
"""Decimals kept per coordinate: 1e-6° is about 0.1 m, finer than any boundary survey."""

SIMPLIFY_DEG = 5e-6
"""Display-only simplification of area outlines: about half a metre."""

PUBLIC_FIELDS = (
    ("title", "职务"),
    ("name", "姓名"),
    ("phone", "电话"),
    ("duties", "职责"),
)
"""The only contact fields a public page may show (公示字段白名单), with their labels."""

LAYER_NAMES = {
    "roads": "道路 roads",
    "grids": "网格 grids",
    "estates": "小区 estates",
    "buildings": "楼栋 buildings",
    "lanes": "弄巷 lanes",
    "centres": "服务设施 centres",
    "radii": "服务半径 service radius",
}

Shift = Callable[[BaseGeometry], BaseGeometry]


class CommunityLayers(MacroElement):
    """The script that hands the layers' JSON to ``geogrid.draw`` on page load."""

    _template = Template(
        """{% macro script(this, kwargs) %}
geogrid.draw({{ this._parent.get_name() }}, {{ this.payload }}, {
{%- for key, group in this.groups.items() %}{{ key }}: {{ group.get_name() }},{% endfor -%}
});
{% endmacro %}"""
    )

    def __init__(self, payload: dict[str, Any], groups: dict[str, folium.FeatureGroup]):
        super().__init__()
        self._name = "CommunityLayers"
        self.payload = script_json(payload)
        self.groups = groups


def add_community_layers(
    page: folium.Map,
    data: PublicMapData,
    *,
    fields: Sequence[tuple[str, str]] = PUBLIC_FIELDS,
    grid_colors: Sequence[str],
    grid_notes: Sequence[str] | None = None,
    shift: Shift = lambda geom: geom,
    hidden: Sequence[str] = ("radii",),
) -> None:
    """Add the community's layers (and their layer groups) to ``page``."""
    groups = {
        key: folium.FeatureGroup(name=label, show=key not in hidden)
        for key, label in LAYER_NAMES.items()
    }
    for group in groups.values():
        group.add_to(page)
    payload = map_payload(
        data, fields=fields, grid_colors=grid_colors, grid_notes=grid_notes, shift=shift
    )
    page.add_child(CommunityLayers(payload, groups))


def map_payload(
    data: PublicMapData,
    *,
    fields: Sequence[tuple[str, str]],
    grid_colors: Sequence[str],
    grid_notes: Sequence[str] | None = None,
    shift: Shift = lambda geom: geom,
) -> dict[str, Any]:
    """The JSON ``geogrid.js`` draws: every feature with only the ``fields`` of its cards."""
    # Duties are the same for every holder of a role: sent once per title, not
    # once per card, which halves a page of several hundred buildings.
    keys = [key for key, _ in fields if key != "duties"]
    show_duties = len(keys) < len(fields)
    duties: dict[str, str] = {}  # filled as the cards are written below

    def cards(area: PublishedArea) -> list[list[str]]:
        for card in area.cards:
            if show_duties and card.duties:
                duties[card.title] = card.duties
        return [[str(getattr(card, k) or "") for k in keys] for card in area.cards]

    def feature(geom: BaseGeometry, **props: Any) -> dict[str, Any]:
        return {
            "type": "Feature",
            "properties": props,
            "geometry": _geojson(shift(geom)),
        }

    grid_shapes = _simplified([g.geometry for g in data.grids])
    notes = grid_notes or [""] * len(data.grids)
    return {
        "fields": [label for key, label in fields if key != "duties"],
        "duties": duties,
        "supervision": data.supervision_phone,
        "community": feature(
            _simplified([data.community.geometry])[0],
            code=data.community.code,
            name=data.community.name,
        ),
        "grids": [
            feature(shape, code=g.code, name=g.name, color=c, note=n, cards=cards(g))
            for g, shape, c, n in zip(
                data.grids, grid_shapes, grid_colors, notes, strict=True
            )
        ],
        "estates": [
            feature(shape, code=e.code, name=e.name, cards=cards(e))
            for e, shape in zip(
                data.estates,
                _simplified([e.geometry for e in data.estates]),
                strict=True,
            )
        ],
        "buildings": [
            feature(
                b.geometry,
                code=b.code,
                name=b.name,
                cards=cards(b),
                # Left out when empty or the same as the name: most buildings are
                # named by their door (东大街1号), and thousands of them add up.
                **_present(
                    estate=b.estate,
                    grid=b.grid,  # its card shows the grid's 网格长/网格员 too
                    doors=[d for d in b.doors if d != b.name],
                    note="" if b.households is None else f"{b.households} 户",
                ),
            )
            for b in data.buildings
        ],
        "lanes": [
            feature(lane.geometry, code=lane.code, name=lane.name, cards=cards(lane))
            for lane in data.lanes
        ],
        # The offline base: drawn first, under everything, never clicked.
        "roads": [
            feature(
                shapely.simplify(r.geometry, SIMPLIFY_DEG), name=r.name, kind=r.kind
            )
            for r in data.roads
        ],
        "search": search_entries(data),
        # The lookups' address rules, so the page's search reads 3栋, ３号楼
        # and 3号楼2单元501室 as they do (one set of rules, run by geogrid.js).
        "normalizer": normalizer_rules(),
        "centres": [
            feature(
                shapely.Point(c["lon"], c["lat"]),
                name=c["name"],
                kind=c["kind"],
                radius=round(c["radius_m"]),
            )
            for c in data.centres
        ],
    }


def search_entries(data: PublicMapData) -> list[tuple[str, str, str]]:
    """What a resident can search for, as (name, kind, code of what to show).

    The community's page and the site's index search the same entries: a
    building by its 小区 and name (瑞丰嘉园3号楼) and by each of its doors.
    """
    entries = [(g.name, "网格", g.code) for g in data.grids]
    entries += [(e.name, "小区", e.code) for e in data.estates]
    for b in data.buildings:
        entries.append((building_label(b.name, b.estate), "楼栋", b.code))
        entries += [(door, "地址", b.code) for door in b.doors if door != b.name]
    entries += [(lane.name, "弄巷", lane.code) for lane in data.lanes]
    return [e for e in entries if e[0]]


def _present(**values: Any) -> dict[str, Any]:
    """Only the values that are not empty."""
    return {k: v for k, v in values.items() if v}


def script_json(value: Any) -> str:
    r"""JSON safe inside ``<script>``: no ``</script>``, ``<!--`` or line separators can end it.

    Examples:
        >>> print(script_json({"name": "</script><b>"}))
        {"name":"\u003c/script\u003e\u003cb\u003e"}
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return text


def _simplified(geoms: list[BaseGeometry]) -> list[BaseGeometry]:
    """Outlines simplified together, so that neighbours keep one shared edge.

    ``coverage_simplify`` assumes a clean coverage; where the grids overlap (a
    defect the coverage map shows) its result may be invalid, and the exact
    outlines are drawn instead.
    """
    if not geoms:
        return []
    simple = shapely.coverage_simplify(np.asarray(geoms), SIMPLIFY_DEG)
    if not shapely.is_valid(simple).all() or shapely.is_empty(simple).any():
        return geoms
    return list(simple)


def _geojson(geom: BaseGeometry) -> dict[str, Any]:
    rounded = shapely.transform(geom, lambda c: np.round(c, PRECISION))
    return json.loads(shapely.to_geojson(rounded))
