"""``/maps``: the published community maps, with the Leaflet they need, for any browser."""

from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from geogrid.api.deps import BindDep, CheckOptionsDep, SettingsDep, TilesDep, require
from geogrid.config import Settings
from geogrid.domain.access import Caller, Role
from geogrid.maps.cards import grid_card, print_all_page
from geogrid.maps.coverage import coverage_map
from geogrid.maps.public import index_page, public_map
from geogrid.maps.staff import staff_map
from geogrid.services.coverage import area_report
from geogrid.services.publishing import community_of, public_map_data, site_index

router = APIRouter(prefix="/maps", tags=["maps 地图"])

# Pages refer to static/leaflet/… beside them, as they do on a static site.
ASSETS = StaticFiles(directory=str(resources.files("geogrid.maps") / "static"))

Code = Annotated[
    str, Path(max_length=40, pattern=r"^[0-9A-Za-z._-]+$", description="社区编码")
]


@router.get(
    "/public/",
    response_class=HTMLResponse,
    summary="社区网格公示图索引（公众版）/ the public maps' index, with one search box",
)
@router.get("/public/index.html", response_class=HTMLResponse, include_in_schema=False)
def public_index(bind: BindDep) -> HTMLResponse:
    """Every community's public map, and a search across all of them.

    Declared before ``{code}.html``, which would otherwise take ``index.html``.
    """
    return HTMLResponse(index_page(site_index(bind)))


@router.get(
    "/public/{code}.html",
    response_class=HTMLResponse,
    summary="社区管辖范围图（公众版）/ a community's public map",
)
def public_page(bind: BindDep, tiles: TilesDep, code: Code) -> HTMLResponse:
    """The residents' map of one community: grids and their posted contacts only."""
    data = public_map_data(bind, code)
    return HTMLResponse(public_map(data, tiles=tiles).get_root().render())


@router.get(
    "/staff/{code}.html",
    response_class=HTMLResponse,
    summary="社区工作图（工作人员）/ a community's staff map",
)
def staff_page(
    bind: BindDep,
    settings: SettingsDep,
    tiles: TilesDep,
    code: Code,
    caller: Annotated[
        Caller, Depends(require(Role.STAFF, "工作人员地图 The staff map"))
    ],
) -> HTMLResponse:
    """Everything on the public map plus private contacts and households per grid."""
    data = public_map_data(bind, code, caller=caller.view_of(code))
    band = (settings.grid_households_min, settings.grid_households_max)
    page = staff_map(data, band=band, tiles=tiles)
    return HTMLResponse(page.get_root().render())


@router.get(
    "/coverage/{code}.html",
    response_class=HTMLResponse,
    summary="覆盖检查图（工作人员）/ an area's coverage map",
)
def coverage_page(
    bind: BindDep,
    check: CheckOptionsDep,
    tiles: TilesDep,
    code: Code,
    caller: Annotated[
        Caller, Depends(require(Role.STAFF, "覆盖检查图 The coverage map"))
    ],
) -> HTMLResponse:
    """The coverage report of a community, street or district, drawn."""
    result = area_report(bind, check, code)
    page = coverage_map(
        result, public_map_data(bind, code, caller=caller.view_of(code)), tiles=tiles
    )
    return HTMLResponse(page.get_root().render())


@router.get(
    "/cards/{code}.html",
    response_class=HTMLResponse,
    summary="网格便民联系卡（A4 打印）/ a grid's printable contact card",
)
def card_page(
    request: Request,
    bind: BindDep,
    settings: SettingsDep,
    code: Annotated[
        str, Path(max_length=40, pattern=r"^[0-9A-Za-z._-]+$", description="网格编码")
    ],
) -> HTMLResponse:
    """One grid's contact card: posted contacts, 监督电话 and a QR code to its map."""
    data = public_map_data(bind, community_of(bind, code))
    return HTMLResponse(grid_card(data, code, base_url=_qr_base(request, settings)))


@router.get(
    "/cards/{code}/print-all.html",
    response_class=HTMLResponse,
    summary="社区全部网格联系卡（每网格一页 A4）/ every card of a community, to print",
)
def print_all_cards(
    request: Request, bind: BindDep, settings: SettingsDep, code: Code
) -> HTMLResponse:
    """Every grid card of the community coded ``code``, one A4 page each."""
    data = public_map_data(bind, code)
    return HTMLResponse(print_all_page(data, base_url=_qr_base(request, settings)))


def _qr_base(request: Request, settings: Settings) -> str:
    """Where a card's QR code points: without a configured base, this server's maps."""
    return settings.public_base_url or str(request.base_url)
