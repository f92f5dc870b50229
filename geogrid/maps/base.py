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
