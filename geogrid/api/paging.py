"""List parameters and page links (分页参数) shared by the resource routers.

One design for every list: ``limit``/``offset`` paging, ``bbox``, ``parent``
and ``q`` filters and ``geometry=false`` for a light page, answered with an
RFC 7946 FeatureCollection carrying ``numberMatched``, ``numberReturned`` and
``links`` (self, next, prev), the way OGC API – Features pages its items.
"""

from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse

from geogrid.services.resources import Filters, parse_bbox

MAX_LIMIT = 1000
GEOJSON = "application/geo+json"


class GeoJSONResponse(JSONResponse):
    """GeoJSON under its own media type (RFC 7946 §12), so OpenAPI documents it."""

    media_type = GEOJSON


PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    404: {"description": "不存在 / not found", **PROBLEM},
    422: {"description": "参数无效 / invalid parameter", **PROBLEM},
}


def listing(
    *,
    bbox: Annotated[
        str | None,
        Query(
            max_length=200,
            description="minx,miny,maxx,maxy 经纬度（EPSG:4326）/ lon/lat bounds",
            examples=["107.35,35.32,107.37,35.34"],
        ),
    ] = None,
    parent: Annotated[
        str | None,
        Query(max_length=40, description="上级区域编码 / code of the area above"),
    ] = None,
    q: Annotated[
        str | None,
        Query(max_length=100, description="名称或编码中的文字 / text in name or code"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="每页条数")] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1, description="跳过条数")] = 0,
    geometry: Annotated[
        bool, Query(description="false: 不含几何（geometry 为 null）")
    ] = True,
) -> Filters:
    """The list parameters, checked; a malformed bbox is a 422 naming ``bbox``."""
    return Filters(
        bbox=parse_bbox(bbox) if bbox is not None else None,
        parent=parent or None,
        q=q.strip() if q and q.strip() else None,
        limit=limit,
        offset=offset,
        has_geometry=geometry,
    )


ListingDep = Annotated[Filters, Depends(listing)]


def page_response(
    request: Request, page: dict[str, Any], filters: Filters
) -> GeoJSONResponse:
    """A FeatureCollection page with its self, next and prev links."""
    url = request.url
    links = [{"rel": "self", "type": GEOJSON, "href": str(url)}]
    after = filters.offset + filters.limit
    if after < page["numberMatched"]:
        href = url.include_query_params(offset=after, limit=filters.limit)
        links.append({"rel": "next", "type": GEOJSON, "href": str(href)})
    if filters.offset > 0:
        before = max(filters.offset - filters.limit, 0)
        href = url.include_query_params(offset=before, limit=filters.limit)
        links.append({"rel": "prev", "type": GEOJSON, "href": str(href)})
    return GeoJSONResponse(page | {"links": links})
