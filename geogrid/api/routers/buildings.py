"""``/buildings``: buildings (楼栋) as GeoJSON pages and single features."""

from typing import Annotated

from fastapi import APIRouter, Path, Request

from geogrid.api.deps import CallerDep, LookupDep
from geogrid.api.paging import PROBLEMS, GeoJSONResponse, ListingDep, page_response
from geogrid.services import resources

router = APIRouter(prefix="/buildings", tags=["buildings 楼栋"])


@router.get(
    "",
    response_class=GeoJSONResponse,
    responses=PROBLEMS,
    summary="楼栋列表（GeoJSON）/ buildings, a page at a time",
)
def list_buildings(
    request: Request, lookup: LookupDep, caller: CallerDep, filters: ListingDep
) -> GeoJSONResponse:
    """Buildings with their grid and estate links; households are public."""
    page = resources.list_features(lookup.bind, "buildings", filters, caller=caller)
    return page_response(request, page, filters)


@router.get(
    "/{code}",
    response_class=GeoJSONResponse,
    responses=PROBLEMS,
    summary="单个楼栋 / one building",
)
def get_building(
    lookup: LookupDep,
    caller: CallerDep,
    code: Annotated[str, Path(max_length=60)],
) -> GeoJSONResponse:
    """One building as a GeoJSON Feature."""
    return GeoJSONResponse(
        resources.feature(lookup.bind, "buildings", code, caller=caller)
    )
