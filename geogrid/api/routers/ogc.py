"""``/ogc``: OGC API - Features (Part 1 core, GeoJSON) so QGIS and GDAL open the layers directly.

Collections are the area levels, buildings and coverage defects (see
:mod:`geogrid.services.ogc`). Query parameters are read from the raw
query string and checked by the service, so that an unknown name or a bad
value is a 400 as the standard requires, not FastAPI's 422; the OpenAPI
document still describes them through ``openapi_extra``.
"""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from geogrid.api.deps import CallerDep
from geogrid.api.paging import GEOJSON, GeoJSONResponse
from geogrid.domain.answers import (
    CollectionInfo,
    Collections,
    Conformance,
    Item,
    ItemsPage,
    LandingPage,
)
from geogrid.services import ogc as service

router = APIRouter(prefix="/ogc", tags=["ogc OGC API - Features"])

JSON = "application/json"
# FastAPI writes OpenAPI 3.1, so the "oas30" class is not claimed: the
# conformance list and the API definition's media type must agree.
OPENAPI = "application/vnd.oai.openapi+json;version=3.1"
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
]

# No length or pattern limits here: an unknown id is a 404 from the service,
# not FastAPI's 422.
CollectionId = Annotated[str, Path(alias="collectionId", description="集合 collection")]
FeatureId = Annotated[
    str, Path(alias="featureId", description="编码或问题键 / code, or a defect's key")
]


PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "参数无效或不支持 / unknown or malformed parameter",
        **PROBLEM,
    },
    404: {"description": "集合或要素不存在 / no such collection or feature", **PROBLEM},
}

F_PARAMETER = {
    "name": "f",
    "in": "query",
    "required": False,
    "description": "输出格式 / format (JSON only)",
    "schema": {"type": "string", "enum": list(service.FORMATS)},
}
CRS_PARAMETER = {
    "name": "crs",
    "in": "query",
    "required": False,
    "description": "输出坐标系 / the CRS of the answer (EPSG:4490 CGCS2000 and 4326 are lat, lon)",
    "schema": {"type": "string", "enum": list(service.CRS_LIST)},
}
ITEMS_PARAMETERS = [
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "style": "form",
        "explode": False,
        "description": "每页要素数；超过上限按上限 / page size, lowered to the maximum",
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": service.LIMIT_MAX,
            "default": service.LIMIT_DEFAULT,
        },
    },
    {
        "name": "offset",
        "in": "query",
        "required": False,
        "description": "跳过的要素数（翻页用 next 链接）/ features to skip",
        "schema": {"type": "integer", "minimum": 0, "default": 0},
    },
    {
        "name": "bbox",
        "in": "query",
        "required": False,
        "style": "form",
        "explode": False,
        "description": "范围 minlon,minlat,maxlon,maxlat (CRS84)",
        "schema": {
            "type": "array",
            "minItems": 4,
            "maxItems": 6,
            "items": {"type": "number"},
        },
    },
    {
        "name": "datetime",
        "in": "query",
        "required": False,
        "description": "区域集合：该时刻（或时段 a/b，开放端 ..）有效的版本 / areas valid at this instant or within this interval (RFC 3339, ../b, a/..)",
        "schema": {"type": "string"},
    },
    CRS_PARAMETER,
    {
        "name": "bbox-crs",
        "in": "query",
        "required": False,
        "description": "bbox 的坐标系 / the CRS of bbox",
        "schema": {"type": "string", "enum": list(service.CRS_LIST)},
    },
    F_PARAMETER,
]


def _link(href: Any, rel: str, media_type: str, title: str = "") -> dict[str, str]:
    link = {"href": str(href), "rel": rel, "type": media_type}
    return link | {"title": title} if title else link


def _served(request: Request) -> service.FeatureCollections:
    """The app's collections, made on first use so that they keep their cache."""
    state = request.app.state
    if getattr(state, "ogc", None) is None:
        state.ogc = service.FeatureCollections(state.bind, state.check_options)
    return state.ogc


def _collection(
    request: Request, collection_id: str, *, is_public: bool
) -> dict[str, Any]:
    body = _served(request).describe(collection_id, is_public=is_public)
    here = request.url_for("ogc_collection", collectionId=collection_id)
    items = request.url_for("ogc_items", collectionId=collection_id)
    body["links"] = [
        _link(here, "self", JSON, "this collection"),
        _link(items, "items", GEOJSON, f"{body['title']} (GeoJSON)"),
    ]
    return body


@router.get(
    "",
    name="ogc_landing",
    response_class=JSONResponse,
    responses=PROBLEMS,
    response_model=LandingPage,
    summary="OGC API 入口 / landing page",
    openapi_extra={"parameters": [F_PARAMETER]},
)
def landing(request: Request) -> JSONResponse:
    """Links to the API definition, the conformance classes and the collections."""
    service.check_parameters(request.query_params, ("f",))
    return JSONResponse(
        {
            "title": "geogrid 网格化管理",
            "description": "区域、楼栋与覆盖检查问题 / areas, buildings and coverage defects",
            "links": [
                _link(request.url_for("ogc_landing"), "self", JSON, "this document"),
                _link(request.url_for("openapi"), "service-desc", OPENAPI, "API"),
                _link(request.url_for("swagger_ui_html"), "service-doc", "text/html"),
                _link(request.url_for("ogc_conformance"), "conformance", JSON),
                _link(request.url_for("ogc_collections"), "data", JSON, "collections"),
            ],
        }
    )


@router.get(
    "/conformance",
    name="ogc_conformance",
    response_class=JSONResponse,
    responses=PROBLEMS,
    response_model=Conformance,
    summary="符合的标准类 / conformance classes",
    openapi_extra={"parameters": [F_PARAMETER]},
)
def conformance(request: Request) -> JSONResponse:
    """Core, OpenAPI 3.0 and GeoJSON."""
    service.check_parameters(request.query_params, ("f",))
    self_link = _link(request.url_for("ogc_conformance"), "self", JSON)
    return JSONResponse({"conformsTo": CONFORMANCE, "links": [self_link]})


@router.get(
    "/collections",
    name="ogc_collections",
    response_class=JSONResponse,
    responses=PROBLEMS,
    response_model=Collections,
    summary="要素集合 / the collections",
    openapi_extra={"parameters": [F_PARAMETER]},
)
def collections(request: Request, caller: CallerDep) -> JSONResponse:
    """Every collection with its extent."""
    service.check_parameters(request.query_params, ("f",))
    return JSONResponse(
        {
            "links": [_link(request.url_for("ogc_collections"), "self", JSON)],
            "collections": [
                _collection(request, c, is_public=caller.is_public)
                for c in service.COLLECTIONS
            ],
        }
    )


@router.get(
    "/collections/{collectionId}",
    name="ogc_collection",
    response_class=JSONResponse,
    responses=PROBLEMS,
    response_model=CollectionInfo,
    summary="一个要素集合 / one collection",
    openapi_extra={"parameters": [F_PARAMETER]},
)
def collection(
    request: Request, caller: CallerDep, collection_id: CollectionId
) -> JSONResponse:
    """A collection's title, extent and link to its items."""
    service.check_parameters(request.query_params, ("f",))
    return JSONResponse(_collection(request, collection_id, is_public=caller.is_public))


@router.get(
    "/collections/{collectionId}/items",
    name="ogc_items",
    response_class=GeoJSONResponse,
    responses=PROBLEMS,
    response_model=ItemsPage,
    summary="集合中的要素（分页）/ a page of features",
    openapi_extra={"parameters": ITEMS_PARAMETERS},
)
def items(
    request: Request, caller: CallerDep, collection_id: CollectionId
) -> JSONResponse:
    """Features in pages of ``limit``; follow the ``next`` link for the rest."""
    query = service.items_query(collection_id, request.query_params)
    page = _served(request).items(collection_id, query, is_public=caller.is_public)
    return GeoJSONResponse(
        {
            "type": "FeatureCollection",
            "features": service.in_crs(page.features, query.crs),
            "numberMatched": page.number_matched,
            "numberReturned": len(page.features),
            "timeStamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "links": _page_links(request, collection_id, query, page.number_matched),
        },
        headers={"Content-Crs": f"<{query.crs}>"},
    )


@router.get(
    "/collections/{collectionId}/items/{featureId}",
    name="ogc_item",
    response_class=GeoJSONResponse,
    responses=PROBLEMS,
    response_model=Item,
    summary="一个要素 / one feature",
    openapi_extra={"parameters": [F_PARAMETER, CRS_PARAMETER]},
)
def item(
    request: Request,
    caller: CallerDep,
    collection_id: CollectionId,
    feature_id: FeatureId,
) -> JSONResponse:
    """One feature by its code (or, for a defect, its key)."""
    service.collection(collection_id)
    service.check_parameters(request.query_params, ("f", "crs"))
    crs = service.output_crs(request.query_params)
    feature = _served(request).item(
        collection_id, feature_id, is_public=caller.is_public
    )
    feature = service.in_crs([feature], crs)[0]
    feature["links"] = [
        _link(request.url, "self", GEOJSON, "this feature"),
        _link(
            request.url_for("ogc_collection", collectionId=collection_id),
            "collection",
            JSON,
        ),
    ]
    return GeoJSONResponse(feature, headers={"Content-Crs": f"<{crs}>"})


def _page_links(
    request: Request, collection_id: str, query: service.ItemsQuery, matched: int
) -> list[dict[str, str]]:
    """Self, collection, and next and prev while there are pages either side."""
    links = [
        _link(request.url, "self", GEOJSON, "this page"),
        _link(
            request.url_for("ogc_collection", collectionId=collection_id),
            "collection",
            JSON,
        ),
    ]
    after, before = query.offset + query.limit, max(query.offset - query.limit, 0)
    for rel, offset, wanted in (
        ("next", after, after < matched),
        ("prev", before, query.offset > 0),
    ):
        if wanted:
            href = request.url.include_query_params(limit=query.limit, offset=offset)
            links.append(_link(href, rel, GEOJSON))
    return links


# HEAD as well as GET on every resource: clients (and the standard's test
# suite) ask for the headers only. Undocumented, so that the OpenAPI keeps
# one operation id per resource.
for _route in list(router.routes):
    router.add_api_route(
        _route.path.removeprefix(router.prefix),  # type: ignore[attr-defined]
        _route.endpoint,  # type: ignore[attr-defined]
        methods=["HEAD"],
        include_in_schema=False,
        response_class=_route.response_class,  # type: ignore[attr-defined]
    )
