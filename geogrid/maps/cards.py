"""Printable contact cards (网格公示牌 / 便民联系卡): one A4 page per grid.

A card is posted on a notice board or handed out, so it is a plain HTML page
with nothing to fetch: the small map and the QR code are inline SVG, the
styles are inline, and it prints on one A4 sheet. The contacts come from
:func:`geogrid.services.publishing.public_map_data` already filtered for the
public (a phone its holder keeps private is masked or left out, as the role
scheme says); the card shows only the :data:`~geogrid.maps.public.CARD_FIELDS`
of each, and every text from the database passes
:func:`~geogrid.maps.public.safe_text`.
"""

import math
import re
from urllib.parse import quote

import segno

import shapely
from shapely import affinity
from shapely.geometry.base import BaseGeometry

from geogrid.errors import NotFound
from geogrid.maps.public import CARD_FIELDS, safe_text
from geogrid.services.publishing import PublicMapData, PublishedArea

_MAP_SIZE = 1000.0
"""Width or height of the small map's viewBox, whichever is larger."""

_PAD = 0.3
"""Margin around the grid on the small map, as a share of its larger side."""

_STYLE = """
@page { size: A4; margin: 15mm }
* { box-sizing: border-box }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact }
body { margin: 0; color: #000; background: #fff;
  font: 12pt/1.5 "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC",
    "Microsoft YaHei", "SimHei", sans-serif }
.sheet { width: 180mm; min-height: 262mm; margin: 0 auto; padding: 0;
  display: flex; flex-direction: column }
header { border-bottom: 2pt solid #b22; padding-bottom: 3mm; margin-bottom: 5mm }
header .kind { margin: 0; color: #b22; font-size: 14pt; letter-spacing: .3em }
h1 { margin: 1mm 0; font-size: 24pt }
header .code { margin: 0; font-size: 11pt; color: #333 }
.top { display: flex; gap: 6mm; align-items: flex-start; margin-bottom: 5mm }
.map { flex: 1; margin: 0; border: .5pt solid #999 }
.map svg { display: block; width: 100%; height: 85mm }
.qr { width: 48mm; margin: 0; text-align: center }
.qr svg { display: block; width: 44mm; height: 44mm; margin: 0 auto }
.qr figcaption { font-size: 10pt; font-weight: bold }
.qr .url { display: block; font-size: 7pt; font-weight: normal;
  word-break: break-all; color: #333 }
table { width: 100%; border-collapse: collapse; font-size: 12pt }
tbody { break-inside: avoid; page-break-inside: avoid }
th, td { border: .5pt solid #666; padding: 1.5mm 2.5mm; text-align: left;
  vertical-align: top }
th { width: 28mm; background: #f3e6e6; white-space: nowrap }
td.phone { width: 42mm; white-space: nowrap; font-variant-numeric: tabular-nums }
td.phone a { color: inherit; text-decoration: none }
td.duties { font-size: 10pt; color: #333; border-top: none }
.none { color: #666 }
footer { margin-top: auto; padding-top: 5mm }
.supervision { font-size: 16pt; font-weight: bold; border: 1.5pt solid #b22;
  padding: 2mm 4mm; margin: 0 0 2mm }
footer small { color: #555; font-size: 9pt }
.sheet + .sheet { break-before: page; page-break-before: always }
@media screen { body { background: #ddd } .sheet { background: #fff;
  padding: 15mm; width: 210mm; min-height: 297mm; margin: 5mm auto } }
@media screen and (max-width: 600px) {
  body { font-size: 16px } .sheet { width: auto; min-height: 0; padding: 4mm; margin: 0 0 4mm }
  h1 { font-size: 22px } .top { flex-direction: column } .map, .qr { width: 100% }
  .map svg { height: 60vw } th { width: auto } td.phone { width: auto } }
"""


def grid_map_url(community: str, grid: str, *, base_url: str = "") -> str:
    """Where the public map opens on ``grid`` (扫码看网格).

    With no ``base_url`` the link is relative, ``{community}.html#grid=…``,
    which works when the cards sit beside the static site of ``geogrid map
    public``; a phone scanning the QR code needs an absolute one.

    Examples:
        >>> grid_map_url("620899001001", "620899001001001")
        '620899001001.html#grid=620899001001001'
        >>> grid_map_url("620899001001", "620899001001001", base_url="https://grid.example.gov.cn/")
        'https://grid.example.gov.cn/maps/public/620899001001.html#grid=620899001001001'
    """
    page = f"{quote(community, safe='')}.html#grid={quote(grid, safe='')}"
    if not base_url:
        return page
    return f"{base_url.rstrip('/')}/maps/public/{page}"


def card_filename(grid: str) -> str:
    """The file a grid's card is written to: ``{grid}-card.html``.

    The code is percent-quoted so that no code can name a path outside the folder.
    """
    return f"{quote(grid, safe='')}-card.html"


def contact_card_page(
    grid: PublishedArea,
    community: PublishedArea,
    *,
    supervision_phone: str,
    map_url: str | None,
) -> str:
    """The printable contact card (便民联系卡) of one grid, as a standalone A4 HTML page.

    Args:
        grid: the grid with its cards, already filtered for the public.
        community: the grid's community; its outline frames the small map.
        supervision_phone: the 监督电话 to post; left off the card when empty.
        map_url: what the QR code opens, from :func:`grid_map_url`; None for
            a card without a QR code.
    """
    return _document(
        f"{safe_text(grid.name)} 便民联系卡",
        _sheet(grid, community, supervision_phone=supervision_phone, map_url=map_url),
    )


def _document(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html><html lang=zh-CN><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>{title}</title><style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def _sheet(
    grid: PublishedArea,
    community: PublishedArea,
    *,
    supervision_phone: str,
    map_url: str | None,
) -> str:
    """One card's A4 sheet."""
    supervision = (
        f"<p class=supervision>监督电话：{safe_text(supervision_phone)}</p>"
        if supervision_phone
        else ""
    )
    masked = any("*" in (card.phone or "") for card in grid.cards)
    note = (
        "<small>号码未经本人同意公开的，按规定隐去部分号码。</small>" if masked else ""
    )
    qr = (
        f"<figure class=qr>{qr_svg(map_url)}<figcaption>扫码查看网格地图"
        f"<span class=url>{safe_text(map_url)}</span></figcaption></figure>"
        if map_url is not None
        else ""
    )
    return (
        "<main class=sheet><header><p class=kind>网格便民联系卡</p>"
        f"<h1>{safe_text(grid.name)}</h1><p class=code>{safe_text(community.name)} · "
        f"网格编码 {safe_text(grid.code)}</p></header>"
        f"<div class=top><figure class=map>{grid_svg(grid, community)}</figure>"
        f"{qr}</div>"
        f"{_contacts(grid)}<footer>{supervision}{note}</footer></main>"
    )


PRINT_ALL = "print-all.html"
"""The file holding every card of a community, one A4 page each (全部打印)."""


def print_all_page(data: PublicMapData, *, base_url: str | None = "") -> str:
    """Every grid card of a community in one document, one A4 page per grid.

    For the browser's print (to paper or PDF) in one go, instead of opening
    each grid's card: a street office posts dozens at a time.
    """
    sheets = "".join(
        _sheet(
            g,
            data.community,
            supervision_phone=data.supervision_phone,
            map_url=_map_url(data, g, base_url),
        )
        for g in data.grids
    )
    return _document(f"{safe_text(data.community.name)} 网格便民联系卡", sheets)


def cards_index(community: PublishedArea, grids: list[PublishedArea]) -> str:
    """A page listing the contact cards of a community's grids (联系卡目录)."""
    links = "".join(
        f"<li><a href='{safe_text(quote(card_filename(g.code)))}'>"
        f"{safe_text(g.name)}</a> <small>{safe_text(g.code)}</small></li>"
        for g in grids
    )
    title = f"{safe_text(community.name)} 网格便民联系卡"
    return (
        "<!DOCTYPE html><html lang=zh-CN><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>{title}</title></head><body><h1>{title}</h1>"
        f"<p><a href='{PRINT_ALL}'>全部打印（每网格一页 A4） / print all</a></p>"
        f"<ul>{links or '<li>暂无网格</li>'}</ul></body></html>"
    )


def community_cards(
    data: PublicMapData, *, base_url: str | None = ""
) -> dict[str, str]:
    """Every grid card of a community plus the index, as file name -> HTML.

    ``base_url`` is where the public maps are served, for the QR codes; ""
    gives relative links (a preview), None cards without QR codes.
    """
    pages = {card_filename(g.code): _card(data, g, base_url) for g in data.grids}
    pages[PRINT_ALL] = print_all_page(data, base_url=base_url)
    pages["index.html"] = cards_index(data.community, data.grids)
    return pages


def grid_card(data: PublicMapData, grid: str, *, base_url: str = "") -> str:
    """The contact card of the grid coded ``grid`` in the community ``data``.

    Raises:
        NotFound: the community has no current grid with this code.
    """
    for area in data.grids:
        if area.code == grid:
            return _card(data, area, base_url)
    raise NotFound("area_not_found", code=grid)


def _card(data: PublicMapData, grid: PublishedArea, base_url: str | None) -> str:
    return contact_card_page(
        grid,
        data.community,
        supervision_phone=data.supervision_phone,
        map_url=_map_url(data, grid, base_url),
    )


def _map_url(
    data: PublicMapData, grid: PublishedArea, base_url: str | None
) -> str | None:
    if base_url is None:
        return None
    return grid_map_url(data.community.code, grid.code, base_url=base_url)


def qr_svg(text: str) -> str:
    """``text`` as an inline SVG QR code (二维码), sized by the page's CSS."""
    # make_qr, not make: a short text would become a Micro QR, which most
    # phone cameras cannot read. Border 4 is the quiet zone the standard asks.
    code = segno.make_qr(text, error="m")
    return code.svg_inline(
        scale=1, border=4, omitsize=True, svgclass="qr-code", title="二维码"
    )


def grid_svg(grid: PublishedArea, community: PublishedArea) -> str:
    """A small inline SVG map: the grid filled, its community outlined faintly.

    Lon/lat are scaled by cos(latitude) (local equirectangular) so the shape
    keeps its proportions, and framed on the grid with a margin.
    """
    if grid.geometry is None or grid.geometry.is_empty:
        return "<p class=none>暂无网格范围</p>"
    minx, miny, maxx, maxy = grid.geometry.bounds
    kx = math.cos(math.radians((miny + maxy) / 2))
    side = max((maxx - minx) * kx, maxy - miny) or 1e-6
    scale = _MAP_SIZE / (side * (1 + 2 * _PAD))
    # x' = (lon - minx)·kx·s + pad, y' = (maxy - lat)·s + pad: north up, SVG y down.
    pad = side * _PAD * scale
    matrix = [
        kx * scale,
        0,
        0,
        -scale,
        pad - minx * kx * scale,
        pad + maxy * scale,
    ]
    width = (maxx - minx) * kx * scale + 2 * pad
    height = (maxy - miny) * scale + 2 * pad
    outline = _path(affinity.affine_transform(community.geometry, matrix))
    shape = _path(affinity.affine_transform(grid.geometry, matrix))
    return (
        f"<svg viewBox='0 0 {width:.1f} {height:.1f}'"
        " preserveAspectRatio='xMidYMid meet' role='img'"
        f" aria-label='{safe_text(grid.name)} 网格范围'>"
        f"<path d='{outline}' fill='#eee' stroke='#888' stroke-width='1.5'"
        " stroke-dasharray='6 4' fill-rule='evenodd' vector-effect='non-scaling-stroke'/>"
        f"<path d='{shape}' fill='#d9534f' fill-opacity='.35' stroke='#b22'"
        " stroke-width='2.5' fill-rule='evenodd' vector-effect='non-scaling-stroke'/>"
        "</svg>"
    )


def _path(geometry: BaseGeometry | None) -> str:
    """SVG path data for the polygons in ``geometry`` (holes included)."""
    if geometry is None or geometry.is_empty:
        return ""
    rings = []
    for part in shapely.get_parts(geometry):
        if part.geom_type == "GeometryCollection":
            rings.append(_path(part))
            continue
        if part.geom_type != "Polygon":
            continue
        for ring in (part.exterior, *part.interiors):
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in ring.coords[:-1])
            rings.append(f"M{points}Z")
    return "".join(rings)


def _phone(phone: str) -> str:
    """A number to tap on a phone (printed as plain text); a masked one stays text."""
    text = safe_text(phone)
    if not re.fullmatch(r"\+?[0-9][0-9 -]{5,}[0-9]", phone):
        return text
    return f"<a href='tel:{re.sub(r'[ -]', '', phone)}'>{text}</a>"


def _contacts(grid: PublishedArea) -> str:
    """The table of posted roles: title, name, phone, then the duties below."""
    rows = []
    for card in grid.cards:
        shown = {k: getattr(card, k) for k in CARD_FIELDS if getattr(card, k)}
        duties = (
            f"<tr><td class=duties colspan=3>职责：{safe_text(shown['duties'])}</td></tr>"
            if "duties" in shown
            else ""
        )
        rows.append(
            f"<tbody><tr><th>{safe_text(shown.get('title', ''))}</th>"
            f"<td>{safe_text(shown.get('name', ''))}</td>"
            f"<td class=phone>{_phone(shown.get('phone', ''))}</td></tr>"
            f"{duties}</tbody>"
        )
    if not rows:
        return "<p class=none>暂无公示人员</p>"
    return f"<table>{''.join(rows)}</table>"
