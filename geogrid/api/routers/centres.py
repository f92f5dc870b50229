"""``/centres``: service centres (服务中心) as GeoJSON pages and single features."""

from typing import Annotated

from fastapi import APIRouter, Path, Request

from geogrid.api.deps import CallerDep, LookupDep
from geogrid.api.paging import PROBLEMS, GeoJSONResponse, ListingDep, page_response
from geogrid.services import resources

router = APIRouter(prefix="/centres", tags=["centres 服务中心"])


@router.get(
    "",
    response_class=GeoJSONResponse,
    responses=PROBLEMS,
    summary="服务中心列表（GeoJSON）/ centres, a page at a time",
)
def list_centres(
    request: Request, lookup: LookupDep, caller: CallerDep, filters: ListingDep
) -> GeoJSONResponse:
    """Service centres; parent is an area they stand in."""
    page = resources.list_features(lookup.bind, "centres", filters, caller=caller)
    return page_response(request, page, filters)


@router.get(
    "/{code}",
    response_class=GeoJSONResponse,
    responses=PROBLEMS,
    summary="单个服务中心 / one centre",
)
def get_centre(
    lookup: LookupDep,
    caller: CallerDep,
    code: Annotated[str, Path(max_length=60)],
) -> GeoJSONResponse:
    """One centre as a GeoJSON Feature."""
    return GeoJSONResponse(
        resources.feature(lookup.bind, "centres", code, caller=caller)
    )
