"""``/lookup``: who covers a point or an address, and what lies inside a shape."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response

from geogrid.api.deps import CallerDep, LookupDep
from geogrid.domain.answers import AddressAnswer, PointAnswer, WithinAnswer
from geogrid.errors import InvalidInput
from geogrid.services.resources import end_of_day

router = APIRouter(prefix="/lookup", tags=["lookup 查询"])


# async on purpose: a lookup is ~0.1 ms of CPU with no I/O once the snapshot
# is built; on the event loop it saves the thread hop and pyproj's start-up in
# every new pool thread (70–100 ms each). The typed answer is serialised by
# pydantic-core in one call rather than validated again by FastAPI's encoder;
# response_model still documents it.
@router.get(
    "",
    response_model=PointAnswer | AddressAnswer,
    summary="按坐标或地址查询归属与责任人 / who covers a point or an address",
)
async def lookup(
    service: LookupDep,
    caller: CallerDep,
    lon: Annotated[float | None, Query(ge=-180, le=180, description="经度")] = None,
    # ±180, not ±90, so that lon and lat sent the wrong way round reach the
    # service and are answered as latlon_swapped rather than "lat too large".
    lat: Annotated[
        float | None,
        Query(ge=-180, le=180, description="纬度（经纬度颠倒时答 latlon_swapped）"),
    ] = None,
    crs: Annotated[
        str, Query(max_length=100, description="EPSG:4326、EPSG:4490、gcj02 或 bd09")
    ] = "EPSG:4326",
    address: Annotated[
        str | None, Query(max_length=300, description="地址文本")
    ] = None,
    day: Annotated[
        date | None, Query(alias="date", description="查询该日有效的边界与任职")
    ] = None,
) -> Response:
    """Answer by point (``lon``, ``lat``, ``crs``) or by ``address`` text."""
    answer: PointAnswer | AddressAnswer
    if address is not None and address.strip():
        answer = service.address(address, as_of=end_of_day(day), caller=caller)
    elif lon is None or lat is None:
        raise InvalidInput("lookup_query_missing")
    else:
        answer = service.point(lon, lat, crs=crs, as_of=end_of_day(day), caller=caller)
    return Response(answer.model_dump_json(), media_type="application/json")


@router.post("/within", summary="范围内的网格、楼栋、地址和户数 / contents of a shape")
def within(
    service: LookupDep,
    caller: CallerDep,
    geometry: Annotated[
        dict[str, Any], Body(description="GeoJSON Polygon/MultiPolygon 或 Feature")
    ],
    crs: Annotated[str, Query(max_length=100)] = "EPSG:4326",
) -> WithinAnswer:
    """Grids, buildings, addresses and households inside a polygon."""
    return service.within(geometry, crs=crs, caller=caller)
