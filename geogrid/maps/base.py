"""The offline base map (离线底图): Leaflet from the package, never from a CDN.

folium loads Leaflet, jQuery and Bootstrap from CDNs by default, and a
government intranet renders that as a blank page. Every map here builds on
:class:`OfflineMap`, whose only scripts are the vendored Leaflet (and jQuery) files
and ``geogrid.js``, which :func:`write_site` copies next to the pages. Tiles are
drawn only when a tile source is chosen (setting ``GEOGRID_MAP_TILES``).
"""

import html
import json
import shutil
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import folium
from branca.element import Figure, MacroElement
from jinja2 import Template

from shapely.geometry.base import BaseGeometry

from geogrid.maps.tiles import OFFLINE, BaseMap

ASSETS = "static/leaflet"


class OfflineMap(folium.Map):
    """A folium map whose Leaflet comes from ``static/leaflet/`` beside the page."""

    # folium's popups call jQuery's $(), so it ships beside Leaflet.
    default_js = [  # noqa: RUF012  # folium's own class attribute
        ("leaflet", f"{ASSETS}/leaflet.js"),
        ("jquery", f"{ASSETS}/jquery.min.js"),
        ("geogrid", "static/geogrid/geogrid.js"),
    ]
    default_css = [("leaflet_css", f"{ASSETS}/leaflet.css")]  # noqa: RUF012

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("tiles", None)
        kwargs.setdefault("control_scale", True)
        super().__init__(**kwargs)

    def figure(self) -> Figure:
        """The HTML page the map sits in (folium types ``get_root`` as any element)."""
        root = self.get_root()
        assert isinstance(root, Figure)  # a Map adds itself to a Figure when built
        return root


def community_page(
    outline: BaseGeometry, *, title: str, tiles: BaseMap = OFFLINE
) -> OfflineMap:
    """A map framed on a community's outline, with the shared page style and ``tiles``."""
    minx, miny, maxx, maxy = (round(v, 6) for v in tiles.shift(outline).bounds)
    page = OfflineMap(
        location=[round((miny + maxy) / 2, 6), round((minx + maxx) / 2, 6)],
        zoom_start=15,
    )
    page.figure().header.add_child(
        folium.Element(f"<title>{html.escape(title)}</title>{STYLE}")
    )
    if tiles.source is not None:
        for i, url in enumerate(tiles.urls()):
            folium.TileLayer(
                url,
                attr=tiles.source.attribution,
                name=tiles.source.label,
                subdomains=tiles.source.subdomains,
                max_zoom=19,
                overlay=i > 0,
                control=False,
            ).add_to(page)
    page.fit_bounds([[miny, minx], [maxy, maxx]])
    page.add_child(Credit(tiles.credit))
    return page


class Credit(MacroElement):
    """The attribution corner as a government page needs it: plain text, the data's source.

    Leaflet's default prefix carries a flag icon; the credit line is text a
    publisher types, so it is escaped before Leaflet writes it as HTML.
    """

    _template = Template(
        """{% macro script(this, kwargs) %}
{{ this._parent.get_name() }}.attributionControl.setPrefix("Leaflet");
{%- if this.text %}
{{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text }});
{%- endif %}
{% endmacro %}"""
    )

    def __init__(self, text: str):
        super().__init__()
        self._name = "Credit"
        # Escaped, no < is left to end the script; json.dumps escapes U+2028.
        self.text = json.dumps(html.escape(text.strip())) if text.strip() else ""


def write_site(pages: Mapping[str, folium.Map], out_dir: Path) -> list[Path]:
    """Write pages (name → map) and the Leaflet assets they need into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    source = resources.files("geogrid.maps") / "static"
    target = out_dir / "static"
    with resources.as_file(source) as folder:
        shutil.copytree(folder, target, dirs_exist_ok=True)
    written = []
    for name, page in pages.items():
        path = out_dir / f"{name}.html"
        page.save(str(path))
        written.append(path)
    return written


STYLE = """<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
.geogrid-card h4{margin:0 0 4px} .geogrid-card .code{color:#666;margin:0 0 6px;font-size:12px}
.geogrid-card th{text-align:left;padding-right:6px;white-space:nowrap} .geogrid-card .duty{color:#555;font-size:12px}
.grid-label{background:rgba(255,255,255,.8);border:none;box-shadow:none;font-weight:bold}
.geogrid-legend{position:absolute;bottom:24px;right:10px;z-index:1000;background:#fff;padding:6px 10px;border-radius:4px;font-size:13px;max-height:40%;overflow:auto}
@media (max-width:600px){.geogrid-legend{max-height:40%;font-size:14px}}
.geogrid-legend summary{cursor:pointer;font-weight:bold;padding:4px 0}
.geogrid-card td,.geogrid-card th{font-size:16px;padding:2px 6px 2px 0} .geogrid-card a.tel{font-size:16px;color:#0645ad}
.geogrid-card .note,.geogrid-card .doors{margin:0 0 4px} .geogrid-card .supervision{margin:6px 0 0;font-weight:bold}
.geogrid-search{background:#fff;padding:4px;width:min(260px,60vw)} .geogrid-search input{width:100%;box-sizing:border-box;font-size:15px;padding:4px}
.geogrid-search ul{list-style:none;margin:0;padding:0;max-height:40vh;overflow:auto} .geogrid-search li{padding:4px;cursor:pointer;border-top:1px solid #eee}
.geogrid-search .kind{color:#666;font-size:12px;margin-right:6px} .geogrid-locate a{font-size:18px;line-height:30px}
.geogrid-legend ul{list-style:none;margin:4px 0;padding:0} .geogrid-legend span{display:inline-block;width:12px;height:12px;margin-right:6px}
</style>"""
