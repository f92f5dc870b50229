"""Public map size and draw time (公示图体积与绘制速度), next to plain folium.GeoJson.

Two cases, each drawn two ways in the same run:

A. the sample county (示例县), built into a temporary SpatiaLite file: one
   public page per community (8 pages, summed) and the largest page alone;
B. a generated street (街道) in one page: a 20 x 10 lattice of 200 grids whose
   edges are wandering polylines of 20-40 vertices shared exactly by both
   neighbours, 100 rotated rectangles (buildings) per grid, 20 小区, 40 lanes
   and 10 centres, made in metres in EPSG:4548 (CGCS2000 GK CM 117E) around
   116.4E 39.9N and reprojected to lon/lat, so coordinates carry all 17
   digits of a float64. Cards: 网格长 and 1-2 网格员 per grid, 楼栋长 on 90 % of
   buildings, 弄巷长 per lane; half the phones are masked as the scheme says.

Variants:

- geogrid: ``public_map(data)``, the page residents get: one compact JSON drawn
  by geogrid.js, 6 decimals, grids simplified together (coverage_simplify).
- plain folium: an ``OfflineMap`` (the same local Leaflet, jQuery and
  geogrid.js, unused) with one ``folium.GeoJson(gdf)`` per layer (community,
  grids, 小区, buildings, lanes, centres as CircleMarkers), full precision as
  stored, no simplification, the grids coloured alike, a GeoJsonPopup on every
  layer with cards and a tooltip on grids, lanes and centres. Each gdf holds
  what our page shows: code, name, 小区 and 门牌 of buildings, the contacts
  ("职务 姓名 电话" per card, the fields our page whitelists) and the duties of
  the roles present, the 监督电话 on grids.

Measured: the page's HTML bytes and its gzip (level 6, as an intranet nginx
would send it); the scripts beside the page are the same for both variants
(Leaflet 148 KB, jQuery 88 KB, geogrid.js 9 KB). In headless Chromium (no
network, no tiles, a phone's 390 x 844 viewport unless --viewport says
otherwise): ``load`` = loadEventEnd after navigation
start; ``drawn`` = performance.now() at the second animation frame after
every expected SVG path (community, grids, 小区, buildings, lanes, centres)
is in the DOM, i.e. once they have been painted; ``wall`` = driver.get plus
that wait, from Python; ``CPU`` = the page's main-thread task time in thread
CPU time (DevTools Performance.getMetrics), steadier than the clock times on
a busy machine; ``DOM nodes`` at the end, popup contents built in advance
included. Median of --runs loads, each after about:blank and
a garbage collection (CDP), the pages taking turns. The machine's other load
moves these times by tens of percent: compare the variants within one run.

Target (issue text): our page at most half the plain folium page's size.
Checked too: the grids as drawn (parsed back from our page) keep shared
edges shared: union area within 0.1 % of the exact union, no overlap between
grids, no new holes, every pair of neighbours still sharing an edge. Printed
too: where the bytes go (geometry / properties per layer), and the ratio
against a plain page without the duties column, which our page sends once
per role and the plain page once per card.

Usage: .venv/bin/python benchmarks/map_size.py [--runs 3] [--seed 7]
       [--cols 20] [--rows 10] [--buildings-per-grid 100] [--no-browser]
       [--viewport 390x844] [--keep DIR]
"""

import argparse
import gzip
import json
import re
import shutil
import statistics
import tempfile
import time
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import numpy as np

import geopandas as gpd
import pyproj
import shapely

from geogrid.domain.access import Role, contact_card
from geogrid.domain.answers import ContactCard
from geogrid.domain.roles import load_preset
from geogrid.maps.base import OfflineMap, write_site
from geogrid.maps.colors import distinct_colors
from geogrid.maps.layers import script_json
from geogrid.maps.public import CARD_FIELDS, public_map
from geogrid.services.demo import SAMPLE_DIR, build_sample
from geogrid.services.publishing import (
    PublicMapData,
    PublishedArea,
    communities,
    public_map_data,
)
from geogrid.spatial.crs import local_crs
from geogrid.store.engine import init_db, make_engine

STREET_CRS = "EPSG:4548"  # CGCS2000 / 3-degree Gauss-Kruger CM 117E
CELL_M = 200.0
GZIP_LEVEL = 6
LAYERS = ("grids", "estates", "buildings", "lanes", "centres")
TARGET = 0.5
DRAW_TIMEOUT_MS = 90_000

# --- plain folium ---------------------------------------------------------------------


def contacts_of(area: PublishedArea, *, duties: bool = True) -> dict[str, str]:
    """The cards as our page shows them, flattened into two text columns."""
    keys = [k for k in CARD_FIELDS if k != "duties"]
    contacts = "；".join(
        " ".join(str(getattr(card, k) or "") for k in keys) for card in area.cards
    )
    by_title: dict[str, str] = {}
    for card in area.cards:
        if duties and card.duties:
            by_title.setdefault(card.title, card.duties)
    return {
        "contacts": contacts,
        "duties": "；".join(f"{t}：{d}" for t, d in by_title.items()),
    }


def _frame(rows: list[dict[str, Any]], geoms: list[Any]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=4326)


def plain_map(
    data: PublicMapData, colors: Sequence[str], *, duties: bool = True
) -> tuple[OfflineMap, dict[str, folium.GeoJson]]:
    """The same layers as a developer would first write them with folium.

    ``duties=False`` leaves the duties column empty: a sensitivity check, as
    our page sends each role's duties once and the plain page once per card.
    """

    def _contacts(area: PublishedArea) -> dict[str, str]:
        return contacts_of(area, duties=duties)

    minx, miny, maxx, maxy = data.community.geometry.bounds
    page = OfflineMap(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=15)
    page.fit_bounds([[miny, minx], [maxy, maxx]])
    card_fields, card_labels = ["contacts", "duties"], ["公示人员", "职责"]
    grids = _frame(
        [
            {"code": g.code, "name": g.name, "color": c}
            | _contacts(g)
            | {"supervision": data.supervision_phone}
            for g, c in zip(data.grids, colors, strict=True)
        ],
        [g.geometry for g in data.grids],
    )
    estates = _frame(
        [{"code": e.code, "name": e.name} | _contacts(e) for e in data.estates],
        [e.geometry for e in data.estates],
    )
    buildings = _frame(
        [
            {"code": b.code, "name": b.name, "estate": b.estate}
            | {"doors": "、".join(b.doors)}
            | _contacts(b)
            for b in data.buildings
        ],
        [b.geometry for b in data.buildings],
    )
    lanes = _frame(
        [{"code": x.code, "name": x.name} | _contacts(x) for x in data.lanes],
        [x.geometry for x in data.lanes],
    )
    centres = _frame(
        [{k: c[k] for k in ("name", "kind", "radius_m")} for c in data.centres],
        [shapely.Point(c["lon"], c["lat"]) for c in data.centres],
    )
    community = _frame(
        [{"code": data.community.code, "name": data.community.name}],
        [data.community.geometry],
    )

    def popup(fields: list[str], labels: list[str]) -> folium.GeoJsonPopup:
        return folium.GeoJsonPopup(
            fields=fields + card_fields, aliases=labels + card_labels
        )

    specs: dict[str, tuple[gpd.GeoDataFrame, dict[str, Any]]] = {
        "community": (
            community,
            {
                "style_function": lambda _f: {
                    "color": "#333",
                    "weight": 3,
                    "fill": False,
                }
            },
        ),
        "grids": (
            grids,
            {
                "style_function": lambda f: {
                    "color": "#fff",
                    "weight": 2,
                    "fillColor": f["properties"]["color"],
                    "fillOpacity": 0.45,
                },
                "popup": folium.GeoJsonPopup(
                    fields=["name", "code", *card_fields, "supervision"],
                    aliases=["网格", "编码", *card_labels, "监督电话"],
                ),
                "tooltip": folium.GeoJsonTooltip(fields=["name"], labels=False),
            },
        ),
        "estates": (
            estates,
            {
                "style_function": lambda _f: {
                    "color": "#555",
                    "weight": 1,
                    "fill": False,
                },
                "popup": popup(["name", "code"], ["小区", "编码"]),
            },
        ),
        "buildings": (
            buildings,
            {
                "style_function": lambda _f: {
                    "color": "#444",
                    "weight": 1,
                    "fillColor": "#fff",
                    "fillOpacity": 0.6,
                },
                "popup": popup(
                    ["name", "code", "estate", "doors"],
                    ["楼栋", "编码", "小区", "门牌"],
                ),
            },
        ),
        "lanes": (
            lanes,
            {
                "style_function": lambda _f: {"color": "#8c564b", "weight": 4},
                "popup": popup(["name", "code"], ["弄巷", "编码"]),
                "tooltip": folium.GeoJsonTooltip(fields=["name"], labels=False),
            },
        ),
        "centres": (
            centres,
            {
                "marker": folium.CircleMarker(radius=6, color="#c00", fill=True),
                "tooltip": folium.GeoJsonTooltip(
                    fields=["name", "kind", "radius_m"],
                    aliases=["名称", "类型", "服务半径（米）"],
                ),
            },
        ),
    }
    layers = {}
    for key, (frame, options) in specs.items():
        if frame.empty:
            continue
        layers[key] = folium.GeoJson(frame, name=key, **options).add_to(page)
    folium.LayerControl().add_to(page)
    return page, layers


# --- the generated street -------------------------------------------------------------

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝丽阳"
ROADS = (
    "和平路", "建设路", "解放路", "人民路", "中山路", "光明街", "胜利街", "朝阳路",
    "新华路", "文化路", "团结路", "幸福路", "长安街", "东风路", "红旗路", "育才路",
    "振兴路", "兴华街", "民主路", "友谊路",
)  # fmt: skip
ESTATE_NAMES = (
    "阳光", "绿洲", "金桂", "翠湖", "锦绣", "和园", "紫荆", "泰和", "鸿福", "丽景",
    "华府", "龙湖", "怡景", "康乐", "盛世", "春晖", "枫林", "兰亭", "御景", "安居",
)  # fmt: skip


def _person(rng: np.random.Generator) -> dict[str, Any]:
    given = "".join(rng.choice(list(GIVEN), rng.integers(1, 3)))
    phone = f"1{rng.choice([38, 39, 35, 58, 86, 87, 89])}{rng.integers(0, 10**8):08d}"
    public = "public" if rng.random() < 0.5 else "private"
    return {
        "name": str(rng.choice(list(SURNAMES))) + given,
        "phone": phone,
        "visibility": {"name": "public", "phone": public},
    }


def _edge(rng: np.random.Generator, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A wandering boundary from node a to node b: 20-40 vertices, ±4 m at most."""
    k = int(rng.integers(20, 41))
    t = np.linspace(0.0, 1.0, k)
    walk = rng.normal(0.0, 1.0, k).cumsum()
    walk -= walk[0] + t * (walk[-1] - walk[0])  # zero at both ends
    walk *= 4.0 / max(np.abs(walk).max(), 1e-9)
    d = b - a
    normal = np.array([-d[1], d[0]]) / np.hypot(*d)
    return a + t[:, None] * d + walk[:, None] * normal


def _rectangles(centre: np.ndarray, size: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Closed rings (n, 5, 2) of rectangles around ``centre``."""
    unit = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5]])
    corners = unit[None, :, :] * size[:, None, :]
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x, y = corners[..., 0], corners[..., 1]
    return np.stack([x * cos - y * sin, x * sin + y * cos], -1) + centre[:, None, :]


def street(
    seed: int, cols: int, rows: int, per_grid: int
) -> tuple[PublicMapData, list[Any]]:
    """The generated street, and its grids' exact outlines."""
    rng = np.random.default_rng(seed)
    to_m = pyproj.Transformer.from_crs(4326, STREET_CRS, always_xy=True)
    to_deg = pyproj.Transformer.from_crs(STREET_CRS, 4326, always_xy=True)

    def lonlat(xy: np.ndarray) -> np.ndarray:
        lon, lat = to_deg.transform(xy[..., 0], xy[..., 1])
        return np.stack([lon, lat], -1)

    cx, cy = to_m.transform(116.4, 39.9)
    x0, y0 = cx - cols * CELL_M / 2, cy - rows * CELL_M / 2
    nodes = np.stack(
        np.meshgrid(
            x0 + np.arange(cols + 1) * CELL_M,
            y0 + np.arange(rows + 1) * CELL_M,
            indexing="ij",
        ),
        -1,
    )
    nodes += rng.uniform(-8.0, 8.0, nodes.shape)
    # Each edge is made (and reprojected) once: both neighbours get the same vertices.
    along_x = [
        [lonlat(_edge(rng, nodes[i, j], nodes[i + 1, j])) for j in range(rows + 1)]
        for i in range(cols)
    ]
    along_y = [
        [lonlat(_edge(rng, nodes[i, j], nodes[i, j + 1])) for j in range(rows)]
        for i in range(cols + 1)
    ]
    scheme = load_preset("三长三员一民警")
    lane_head = load_preset("三长").role("lane_head")

    def card(role: str) -> ContactCard:
        kind = lane_head if role == "lane_head" else scheme.role(role)
        return contact_card(
            _person(rng), kind, phone_display=scheme.phone_display, caller=Role.PUBLIC
        )

    grids, exact = [], []
    side = int(np.ceil(np.sqrt(per_grid)))
    pitch = (CELL_M - 30.0) / side
    estate_grids = set(rng.choice(cols * rows, 20, replace=False).tolist())
    estates, buildings, lanes = [], [], []
    for j in range(rows):
        for i in range(cols):
            k = j * cols + i
            ring = np.concatenate(
                [
                    along_x[i][j],
                    along_y[i + 1][j][1:],
                    along_x[i][j + 1][::-1][1:],
                    along_y[i][j][::-1][1:],
                ]
            )
            outline = shapely.Polygon(ring)
            exact.append(outline)
            code = f"110101002{k // 25 + 1:03d}{k % 25 + 1:03d}"  # 25 per community
            cards = [card("grid_head")]
            cards += [card("grid_worker") for _ in range(rng.integers(1, 3))]
            grids.append(PublishedArea(code, f"第{k + 1}网格", "grid", outline, cards))
            # Buildings: a side x side block inside the cell, 15 m from its nodes.
            gx, gy = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
            gx, gy = gx.ravel()[:per_grid], gy.ravel()[:per_grid]
            centre = np.c_[
                x0 + i * CELL_M + 15.0 + (gx + 0.5) * pitch,
                y0 + j * CELL_M + 15.0 + (gy + 0.5) * pitch,
            ] + rng.uniform(-1.5, 1.5, (len(gx), 2))
            size = (
                np.c_[rng.uniform(0.45, 0.65, len(gx)), rng.uniform(0.3, 0.4, len(gx))]
                * pitch
            )
            rings = lonlat(_rectangles(centre, size, rng.uniform(-0.25, 0.25, len(gx))))
            polygons = shapely.polygons(rings)
            estate = ""
            if k in estate_grids:
                estate = f"{ESTATE_NAMES[len(estates)]}小区"
                block = (gx < side // 2) & (gy < side // 2)
                area = shapely.envelope(shapely.union_all(polygons[block]))
                estates.append(
                    PublishedArea(
                        f"{code}{len(estates) + 1:03d}", estate, "estate", area
                    )
                )
            number = 0
            for n, (bx, by) in enumerate(zip(gx, gy, strict=True)):
                inside = estate and bx < side // 2 and by < side // 2
                if inside:
                    number += 1
                    name = f"{estate}{number}号楼"
                else:
                    row = j * side + int(by)
                    road = (
                        ROADS[row % len(ROADS)]
                        + ("", "东段", "西段", "南段", "北段", "中段")[
                            row // len(ROADS) % 6
                        ]
                    )
                    name = f"{road}{2 * (i * side + int(bx)) + 1}号"
                b_cards = [card("building_head")] if rng.random() < 0.9 else []
                buildings.append(
                    PublishedArea(
                        f"{code}-B{n + 1:03d}",
                        name,
                        "building",
                        polygons[n],
                        b_cards,
                        estate=estate if inside else "",
                        doors=[name],
                        grid=code,
                    )
                )
            if len(lanes) < 40 and rng.random() < 0.2:  # a lane between two rows
                y = y0 + j * CELL_M + 15.0 + pitch * rng.integers(1, side)
                xs = x0 + i * CELL_M + np.linspace(20.0, CELL_M - 20.0, 6)
                line = np.c_[xs, y + rng.uniform(-1.0, 1.0, 6)]
                lanes.append(
                    PublishedArea(
                        f"{code}-L{len(lanes) + 1:02d}",
                        f"{ROADS[len(lanes) % len(ROADS)][:2]}{len(lanes) // 20 + 1}巷",
                        "lane",
                        shapely.LineString(lonlat(line)),
                        [card("lane_head")],
                    )
                )
    outline = shapely.coverage_union_all(np.asarray(exact))
    x1, y1 = x0 + cols * CELL_M, y0 + rows * CELL_M
    points = lonlat(np.c_[rng.uniform(x0, x1, 10), rng.uniform(y0, y1, 10)])
    centres = [
        {
            "name": f"{ESTATE_NAMES[n]}{'社区综合服务中心' if n < 4 else '睦邻中心'}",
            "kind": "社区中心" if n < 4 else "睦邻中心",
            "radius_m": 1500.0 if n < 4 else 500.0,
            "lon": float(lon),
            "lat": float(lat),
        }
        for n, (lon, lat) in enumerate(points)
    ]
    inside = shapely.contains(
        np.repeat(exact, per_grid), [b.geometry for b in buildings]
    )
    if not (inside.all() and shapely.is_valid(exact).all()):
        raise RuntimeError("generator bug: an invalid grid or a building outside it")
    data = PublicMapData(
        community=PublishedArea("110101002000", "示例街道", "street", outline),
        grids=grids,
        centres=centres,
        supervision_phone=scheme.supervision_phone,
        estates=estates,
        buildings=buildings,
        lanes=lanes,
    )
    return data, exact


# --- measuring ------------------------------------------------------------------------


@dataclass
class Page:
    """One written page and what it should draw."""

    path: Path
    paths: int  # SVG paths expected: community + grids + 小区 + buildings + lanes + centres
    layers: dict[str, folium.GeoJson] = field(default_factory=dict)
    html: bytes = b""
    gzip: int = 0
    load: list[float] = field(default_factory=list)
    drawn: list[float] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    seen: int = 0
    nodes: int = 0
    errors: list[str] = field(default_factory=list)


def expected_paths(data: PublicMapData) -> int:
    return 1 + sum(len(getattr(data, key)) for key in LAYERS)


def write(pages: dict[str, folium.Map], out: Path) -> dict[str, Path]:
    written = write_site(pages, out)
    return dict(zip(pages, written, strict=True))


@contextmanager
def chromium(viewport: tuple[int, int] = (390, 844)) -> Iterator[Any]:
    """Headless Chromium as tests/maps/conftest.py starts it: no network at all."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (binary and driver):
        raise SystemExit("headless Chromium not installed (chromium, chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--proxy-server=127.0.0.1:9",
        "--proxy-bypass-list=<-loopback>",
        f"--window-size={viewport[0]},{viewport[1]}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(driver), options=options)
    browser.set_page_load_timeout(DRAW_TIMEOUT_MS / 1000)
    browser.set_script_timeout(DRAW_TIMEOUT_MS / 1000 + 10)
    browser.execute_cdp_cmd("Performance.enable", {"timeDomain": "threadTicks"})
    try:
        yield browser
    finally:
        browser.quit()


# Polls in the page once it has loaded (the maps draw from inline scripts, so
# by then the paths are normally all there), then waits two animation frames:
# the second starts only after the frame holding the paths has been painted.
WAIT_DRAWN = """
const want = arguments[0], limit = arguments[1], done = arguments[arguments.length - 1];
(function poll() {
  const n = document.querySelectorAll('.leaflet-overlay-pane path').length;
  if (n >= want || performance.now() > limit) {
    requestAnimationFrame(() => requestAnimationFrame(() => done([n, performance.now()])));
  } else {
    setTimeout(poll, 2);
  }
})();
"""
LOAD_END = "return performance.getEntriesByType('navigation')[0].loadEventEnd"


def open_page(browser: Any, page: Page) -> None:
    browser.get("about:blank")
    # The last page's heap is garbage now: collect it here, not during this load.
    browser.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    browser.get_log("browser")  # drop what came before
    start = time.perf_counter()
    browser.get(page.path.as_uri())
    seen, drawn = browser.execute_async_script(WAIT_DRAWN, page.paths, DRAW_TIMEOUT_MS)
    page.wall.append((time.perf_counter() - start) * 1e3)
    page.drawn.append(drawn)
    page.load.append(browser.execute_script(LOAD_END))
    page.seen = seen
    # Counted since this navigation (Chromium resets them): main-thread task
    # time in thread CPU ticks, which the machine's other load hardly moves,
    # and DOM nodes, popup contents built in advance included.
    metrics = browser.execute_cdp_cmd("Performance.getMetrics", {})["metrics"]
    found = {m["name"]: m["value"] for m in metrics}
    page.cpu.append(found["TaskDuration"] * 1e3)
    page.nodes = int(found["Nodes"])
    page.errors += [
        e["message"][:200] for e in browser.get_log("browser") if e["level"] == "SEVERE"
    ]


def measure(browser: Any | None, pages: list[Page], runs: int) -> None:
    for page in pages:
        page.html = page.path.read_bytes()
        page.gzip = len(gzip.compress(page.html, GZIP_LEVEL))
    if browser is None:
        return
    for _ in range(runs):  # the variants take turns, page by page
        for page in pages:
            open_page(browser, page)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Row:
    """A line of the table: one or several pages of one variant."""

    case: str
    variant: str
    pages: list[Page]

    @property
    def size(self) -> int:
        return sum(len(p.html) for p in self.pages)

    @property
    def gzip(self) -> int:
        return sum(p.gzip for p in self.pages)

    def total(self, attribute: str) -> float:
        return sum(median(getattr(p, attribute)) for p in self.pages)

    @property
    def drawn_ok(self) -> bool:
        return all(p.seen == p.paths and not p.errors for p in self.pages)


def pad(text: str, width: int) -> str:
    """Left-aligned in ``width`` terminal columns, a CJK character taking two."""
    wide = sum(unicodedata.east_asian_width(c) in "WF" for c in text)
    return text + " " * max(width - len(text) - wide, 1)


def table(rows: list[Row]) -> None:
    print(
        f"\n{'case':<32}{'variant':<14}{'HTML KB':>9}{'gzip KB':>9}{'paths':>8}"
        f"{'load ms':>9}{'drawn ms':>9}{'wall ms':>9}{'CPU ms':>8}{'DOM nodes':>11}"
        f"{'size ratio':>12}{'gzip ratio':>11}"
    )
    for n, row in enumerate(rows):
        seen = sum(p.seen for p in row.pages)
        want = sum(p.paths for p in row.pages)
        paths = f"{seen:,}" if seen == want else f"{seen}/{want}"
        ratio = ""
        if n % 2 == 0:
            other = rows[n + 1]
            ratio = f"{row.size / other.size:12.3f}{row.gzip / other.gzip:11.3f}"
        print(
            f"{pad(row.case, 32)}{row.variant:<14}{row.size / 1024:9.1f}{row.gzip / 1024:9.1f}"
            f"{paths:>8}{row.total('load'):9.0f}{row.total('drawn'):9.0f}"
            f"{row.total('wall'):9.0f}{row.total('cpu'):8.0f}"
            f"{sum(p.nodes for p in row.pages):11,}{ratio}"
        )


# --- where the bytes go ---------------------------------------------------------------


def _json_at(html: str, marker: str) -> tuple[Any, int]:
    """The JSON value right after ``marker`` in the page, and its bytes in the page."""
    start = html.index(marker) + len(marker)
    value, end = json.JSONDecoder().raw_decode(html, start)
    return value, len(html[start:end].encode())


def our_payload(html: str) -> tuple[dict[str, Any], int]:
    match = re.search(r"geogrid\.draw\(\w+, ", html)
    assert match, "no geogrid.draw call in the page"
    return _json_at(html, match.group(0))


def bytes_by_layer(ours: list[Page], plain: list[Page]) -> dict[str, list[int]]:
    """Per layer: [our geometry, our properties, plain geometry, plain properties]."""
    found: dict[str, list[int]] = {key: [0, 0, 0, 0] for key in ("community", *LAYERS)}
    found["rest of the page"] = [0, 0, 0, 0]
    for page in ours:
        html = page.html.decode()
        payload, length = our_payload(html)
        found["rest of the page"][0] += len(page.html) - length
        for key in found:
            features = payload.get(key)
            if key == "community":
                features = [features]
            if not features:
                continue
            total = len(script_json(features).encode())
            geometry = sum(len(script_json(f["geometry"]).encode()) for f in features)
            found[key][0] += geometry
            found[key][1] += total - geometry
        shared = len(
            script_json({k: payload[k] for k in ("fields", "duties")}).encode()
        )
        found["rest of the page"][1] += shared  # labels and duties, once a page
    for page in plain:
        html = page.html.decode()
        in_data = 0
        for key, layer in page.layers.items():
            data, length = _json_at(html, f"{layer.get_name()}_add(")
            in_data += length
            geometry = sum(
                len(json.dumps(f["geometry"], sort_keys=True)) for f in data["features"]
            )
            found[key][2] += geometry
            found[key][3] += length - geometry
        found["rest of the page"][2] += len(page.html) - in_data
    return found


def show_bytes(case: str, found: dict[str, list[int]]) -> None:
    print(
        f"\n{case}: KB by layer (geometry / properties; 'rest': page / labels+duties)"
    )
    print(f"{'layer':<18}{'geogrid':>18}{'plain folium':>20}")
    for key, (og, op, pg, pp) in found.items():
        print(
            f"{key:<18}{og / 1024:9.1f} /{op / 1024:7.1f}{pg / 1024:11.1f} /{pp / 1024:7.1f}"
        )


# --- shared edges ---------------------------------------------------------------------


def edge_check(
    exact: list[Any], drawn: list[Any], crs: pyproj.CRS
) -> dict[str, tuple[float, float]]:
    """Exact vs drawn grids, in metres: union area, overlaps, holes, neighbours."""
    to_m = pyproj.Transformer.from_crs(4326, crs, always_xy=True)

    def metric(geoms: list[Any]) -> np.ndarray:
        return shapely.transform(
            np.asarray(geoms),
            lambda c: np.column_stack(to_m.transform(c[:, 0], c[:, 1])),
        )

    found: dict[str, list[float]] = {}
    for geoms in (metric(exact), metric(drawn)):
        union = shapely.union_all(geoms)
        tree = shapely.STRtree(geoms)
        i, j = tree.query(geoms, predicate="intersects")
        keep = i < j
        i, j = i[keep], j[keep]
        overlap = shapely.area(shapely.intersection(geoms[i], geoms[j]))
        shared = shapely.length(
            shapely.intersection(shapely.boundary(geoms[i]), shapely.boundary(geoms[j]))
        )
        holes = sum(len(p.interiors) for p in shapely.get_parts(union))
        for key, value in (
            ("union area, m²", union.area),
            ("overlap between grids, m²", float(overlap.sum())),
            ("holes in the union", holes),
            ("parts of the union", shapely.get_num_geometries(union)),
            ("neighbour pairs sharing an edge", int((shared > 1.0).sum())),
        ):
            found.setdefault(key, []).append(float(value))
    return {k: (v[0], v[1]) for k, v in found.items()}


def show_edges(
    case: str, checks: dict[str, tuple[float, float]], note: str = ""
) -> bool:
    union = checks["union area, m²"]
    change = abs(union[1] - union[0]) / union[0]
    ok = {
        "union area, m²": change <= 1e-3,
        "overlap between grids, m²": checks["overlap between grids, m²"][1]
        <= checks["overlap between grids, m²"][0] + 0.01,
        "holes in the union": checks["holes in the union"][1]
        == checks["holes in the union"][0],
        "parts of the union": checks["parts of the union"][1]
        == checks["parts of the union"][0],
        "neighbour pairs sharing an edge": checks["neighbour pairs sharing an edge"][1]
        == checks["neighbour pairs sharing an edge"][0],
    }
    print(f"\n{case}: grids as stored vs as drawn by our page (in metres){note}")
    print(f"{'check':<34}{'exact':>16}{'drawn':>16}")
    for key, (exact, drawn) in checks.items():
        change_note = f"  ({100 * change:.4f} %)" if key.startswith("union") else ""
        print(
            f"{key:<34}{exact:16,.2f}{drawn:16,.2f}  {'ok' if ok[key] else 'differs'}{change_note}"
        )
    return all(ok.values())


def drawn_grids(page: Page) -> list[Any]:
    payload, _ = our_payload(page.html.decode())
    return [shapely.from_geojson(json.dumps(f["geometry"])) for f in payload["grids"]]


# --- the cases ------------------------------------------------------------------------


def case_pages(
    name: str, items: dict[str, PublicMapData], out: Path
) -> tuple[list[Page], list[Page], float, float, tuple[int, int]]:
    """Write our page and the plain page of each item.

    Returns:
        Our pages, the plain pages, seconds spent building each, and the HTML
        and gzip bytes of the plain pages without the duties column.
    """
    t0 = time.perf_counter()
    ours = {code: public_map(data) for code, data in items.items()}
    t1 = time.perf_counter()
    plain, layers, lean = {}, {}, {}
    for code, data in items.items():
        colors = distinct_colors([g.geometry for g in data.grids])
        plain[code], layers[code] = plain_map(data, colors)
        lean[code], _ = plain_map(data, colors, duties=False)
    t2 = time.perf_counter()
    our_paths = write(ours, out / name / "geogrid")
    plain_paths = write(plain, out / name / "plain")
    lean_paths = write(lean, out / name / "plain-no-duties")
    mine = [Page(our_paths[c], expected_paths(d)) for c, d in items.items()]
    theirs = [
        Page(plain_paths[c], expected_paths(d), layers[c]) for c, d in items.items()
    ]
    sizes = [p.read_bytes() for p in lean_paths.values()]
    no_duties = (
        sum(map(len, sizes)),
        sum(len(gzip.compress(b, GZIP_LEVEL)) for b in sizes),
    )
    return mine, theirs, t1 - t0, t2 - t1, no_duties


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cols", type=int, default=20)
    parser.add_argument("--rows", type=int, default=10)
    parser.add_argument("--buildings-per-grid", type=int, default=100)
    parser.add_argument("--no-browser", action="store_true", help="sizes only")
    parser.add_argument(
        "--viewport",
        default="390x844",
        help="WIDTHxHEIGHT of the browser window (a phone by default; 1000x800 a desktop)",
    )
    parser.add_argument("--keep", type=Path, help="write the pages here and keep them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.keep or Path(tmp)
        t0 = time.perf_counter()
        engine = make_engine(f"sqlite:///{tmp}/sample.sqlite")
        init_db(engine)
        build_sample(engine, SAMPLE_DIR, tolerance_m=5.0)
        county = {
            code: public_map_data(engine, code) for code, _ in communities(engine)
        }
        engine.dispose()
        print(f"A. sample county built and read in {time.perf_counter() - t0:.1f} s:")
        for key in ("grids", *LAYERS[1:]):
            print(f"   {key}: {sum(len(getattr(d, key)) for d in county.values()):,}")
        t0 = time.perf_counter()
        generated, exact = street(
            args.seed, args.cols, args.rows, args.buildings_per_grid
        )
        print(f"B. street generated in {time.perf_counter() - t0:.1f} s:")
        for key in LAYERS:
            print(f"   {key}: {len(getattr(generated, key)):,}")
        a_ours, a_plain, a_t_ours, a_t_plain, a_lean = case_pages("county", county, out)
        b_ours, b_plain, b_t_ours, b_t_plain, b_lean = case_pages(
            "street", {"street": generated}, out
        )
        print(
            f"pages built in s (geogrid / plain folium): county {a_t_ours:.1f} / "
            f"{a_t_plain:.1f}, street {b_t_ours:.1f} / {b_t_plain:.1f}"
        )
        everything = a_ours + a_plain + b_ours + b_plain
        t0 = time.perf_counter()
        if args.no_browser:
            measure(None, everything, 0)
        else:
            width, height = (int(v) for v in args.viewport.lower().split("x"))
            with chromium((width, height)) as browser:
                measure(browser, everything, args.runs)
        print(
            f"{args.runs} loads of {len(everything)} pages in {time.perf_counter() - t0:.0f} s"
            f" (viewport {args.viewport})"
        )
        largest = max(range(len(a_ours)), key=lambda n: len(a_ours[n].html))
        big = list(county.values())[largest].community.name
        b_n = (
            f"B. street, {len(generated.grids)} grids, "
            f"{len(generated.buildings) // 1000}k bldg"
        )
        a_n = f"A. county, {len(a_ours)} pages (sum)"
        rows = [
            Row(a_n, "geogrid", a_ours),
            Row(a_n, "plain folium", a_plain),
            Row(f"A. largest page ({big})", "geogrid", [a_ours[largest]]),
            Row(f"A. largest page ({big})", "plain folium", [a_plain[largest]]),
            Row(b_n, "geogrid", b_ours),
            Row(b_n, "plain folium", b_plain),
        ]
        table(rows)
        static = out / "county" / "geogrid" / "static" / "geogrid" / "geogrid.js"
        print(
            f"(beside every page, for both variants: Leaflet + jQuery + geogrid.js; "
            f"geogrid.js is {static.stat().st_size / 1024:.1f} KB)"
        )
        for row in rows:
            for page in row.pages:
                if page.errors:
                    print(f"console errors, {page.path.name}: {page.errors[:3]}")
        show_bytes("A. sample county", bytes_by_layer(a_ours, a_plain))
        show_bytes("B. street", bytes_by_layer(b_ours, b_plain))

        edges_ok = show_edges(
            "B. street", edge_check(exact, drawn_grids(b_ours[0]), STREET_CRS)
        )
        county_checks: dict[str, tuple[float, float]] = {}
        for data, page in zip(county.values(), a_ours, strict=True):
            stored = [g.geometry for g in data.grids]
            crs = local_crs(gpd.GeoSeries(stored, crs=4326))
            for key, (e, d) in edge_check(stored, drawn_grids(page), crs).items():
                e0, d0 = county_checks.get(key, (0.0, 0.0))
                county_checks[key] = (e0 + e, d0 + d)
        show_edges(
            "A. sample county, page by page (summed)",
            county_checks,
            "\n(the sample's grids overlap and leave a gap on purpose: data/boundaries/defects.json)",
        )

        print(
            "\nsensitivity: the plain pages without the duties column (our page "
            "sends each role's duties once, the plain page once per card):"
        )
        for row, (size, packed) in ((rows[0], a_lean), (rows[4], b_lean)):
            print(
                f"   {row.case}: {size / 1024:,.1f} KB, gzip {packed / 1024:,.1f} KB; "
                f"ours / that = {row.size / size:.3f} ({row.gzip / packed:.3f} gzipped)"
            )
        print(f"\n== targets (our page at most {TARGET:.0%} of plain folium's size)")
        for n in range(0, len(rows), 2):
            ours, plain = rows[n], rows[n + 1]
            ratio = ours.size / plain.size
            verdict = "PASS" if ratio <= TARGET else "MISS"
            print(
                f"   {verdict}  {ours.case}: {ratio:.3f} of the HTML "
                f"({ours.gzip / plain.gzip:.3f} gzipped)"
            )
        if not args.no_browser:
            for row in rows:
                verdict = "PASS" if row.drawn_ok else "MISS"
                print(
                    f"   {verdict}  every path drawn, no console error: {row.case}, {row.variant}"
                )
        print(f"   {'PASS' if edges_ok else 'MISS'}  B. shared edges stay shared")


if __name__ == "__main__":
    main()
