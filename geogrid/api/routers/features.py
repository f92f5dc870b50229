"""``/buildings``, ``/lanes``, ``/centres``, ``/addresses``: one router per layer, one code.

Each layer's pages and single features differ only in what
:data:`geogrid.domain.layers.LAYERS` says of it: its names, its not-found code,
and whether only staff of its street may read it (residents' addresses).
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from geogrid.api.deps import BindDep, get_caller, require
from geogrid.api.paging import PROBLEMS, GeoJSONResponse, ListingDep, page_response
from geogrid.domain.access import Caller, Role
from geogrid.domain.answers import feature_model, feature_page
from geogrid.domain.layers import LAYERS, Layer
from geogrid.services import resources

FeatureCode = Annotated[str, Path(max_length=60)]


def feature_router(layer: Layer) -> APIRouter:
    """The routes of one layer: a page of features, and one feature by code."""
    router = APIRouter(prefix=f"/{layer.key}", tags=[f"{layer.key} {layer.title_zh}"])
    if layer.is_private:
        who = Depends(require(Role.STAFF, f"{layer.title_zh} {layer.title_en}"))
        responses = PROBLEMS | {403: {"description": "仅限工作人员 / staff only"}}
        only = "（仅本街道工作人员）"
    else:
        who, responses, only = Depends(get_caller), PROBLEMS, "（GeoJSON）"
    CallerOf = Annotated[Caller, who]  # noqa: N806  # a type, named as one

    @router.get(
        "",
        response_class=GeoJSONResponse,
        responses=responses,
        response_model=feature_page(layer),
        summary=f"{layer.title_zh}列表{only}/ {layer.title_en}, a page at a time",
        description=layer.description,
        operation_id=f"list_{layer.key}",
    )
    def list_features(
        request: Request, bind: BindDep, caller: CallerOf, filters: ListingDep
    ) -> GeoJSONResponse:
        page = resources.list_features(bind, layer.key, filters, caller=caller)
        return page_response(request, page, filters)

    @router.get(
        "/{code}",
        response_class=GeoJSONResponse,
        responses=responses,
        response_model=feature_model(layer),
        summary=f"单个{layer.title_zh} / one {layer.one_en}",
        description=f"One {layer.one_en} as a GeoJSON Feature"
        + (
            "; outside the caller's street it is 404, as if absent."
            if layer.is_private
            else "."
        ),
        operation_id=f"get_{layer.one_en}",
    )
    def get_feature(
        bind: BindDep, caller: CallerOf, code: FeatureCode
    ) -> GeoJSONResponse:
        return GeoJSONResponse(resources.feature(bind, layer.key, code, caller=caller))

    return router


ROUTERS = [feature_router(layer) for layer in LAYERS.values()]
