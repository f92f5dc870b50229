"""``/maps``: the published community maps, with the Leaflet they need, for any browser."""

from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from geogrid.maps.public import public_map
from geogrid.services.publishing import public_map_data

router = APIRouter(prefix="/maps", tags=["maps 地图"])

# Pages refer to static/leaflet/… beside them, as they do on a static site.
ASSETS = StaticFiles(directory=str(resources.files("geogrid.maps") / "static"))

Code = Annotated[
    str, Path(max_length=40, pattern=r"^[0-9A-Za-z._-]+$", description="社区编码")
]


@router.get(
    "/public/{code}.html",
    response_class=HTMLResponse,
    summary="社区管辖范围图（公众版）/ a community's public map",
)
def public_page(request: Request, code: Code) -> HTMLResponse:
    """The residents' map of one community: grids and their posted contacts only."""
    data = public_map_data(request.app.state.lookup.bind, code)
    return HTMLResponse(public_map(data).get_root().render())
