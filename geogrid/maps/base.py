"""The offline base map (离线底图): Leaflet from the package, never from a CDN.

folium loads Leaflet, jQuery and Bootstrap from CDNs by default, and a
government intranet renders that as a blank page. Every map here builds on
:class:`OfflineMap`, whose only scripts are the vendored Leaflet (and jQuery) files that
:func:`write_site` copies next to the pages.
"""

import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import folium

import shapely

ASSETS = "static/leaflet"


class OfflineMap(folium.Map):
    """A folium map whose Leaflet comes from ``static/leaflet/`` beside the page."""

    # folium's popups call jQuery's $(), so it ships beside Leaflet.
    default_js = [  # noqa: RUF012  # folium's own class attribute
        ("leaflet", f"{ASSETS}/leaflet.js"),
        ("jquery", f"{ASSETS}/jquery.min.js"),
    ]
    default_css = [("leaflet_css", f"{ASSETS}/leaflet.css")]  # noqa: RUF012

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("tiles", None)
        kwargs.setdefault("control_scale", True)
        super().__init__(**kwargs)


def community_page(outline: shapely.Geometry) -> OfflineMap:
    """An offline map framed on a community's outline, with the shared page style."""
    minx, miny, maxx, maxy = outline.bounds
    page = OfflineMap(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=15)
    page.get_root().header.add_child(folium.Element(STYLE))
    page.fit_bounds([[miny, minx], [maxy, maxx]])
    return page


def write_site(pages: dict[str, folium.Map], out_dir: Path) -> list[Path]:
    """Write pages (name → map) and the Leaflet assets they need into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    source = resources.files("geogrid.maps") / "static" / "leaflet"
    target = out_dir / ASSETS
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
.geogrid-legend{position:absolute;bottom:24px;left:10px;z-index:1000;background:#fff;padding:6px 10px;border-radius:4px;font-size:13px;max-height:40%;overflow:auto}
.geogrid-legend ul{list-style:none;margin:4px 0;padding:0} .geogrid-legend span{display:inline-block;width:12px;height:12px;margin-right:6px}
</style>"""
