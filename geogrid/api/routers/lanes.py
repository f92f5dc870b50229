"""``/lanes``: lanes (弄巷) as GeoJSON pages and single features."""

from typing import Annotated

from fastapi import APIRouter, Path, Request

from geogrid.api.deps import CallerDep, LookupDep
from geogrid.api.paging import PROBLEMS, GeoJSONResponse, ListingDep, page_response
from geogrid.services import resources

router = APIRouter(prefix="/lanes", tags=["lanes 弄巷"])


@router.get(
    "",
    response_class=GeoJSONResponse,
    responses=PROBLEMS,
    summary="弄巷列表（GeoJSON）/ lanes, a page at a time",
)
def list_lanes(
    request: Request, lookup: LookupDep, caller: CallerDep, filters: ListingDep
) -> GeoJSONResponse:
    """Lanes; parent is an area their line meets."""
    page = resources.list_features(lookup.bind, "lanes", filters, caller=caller)
    return page_response(request, page, filters)


@router.get(
    "/{code}",
    response_class=GeoJSONResponse,
    responses=PROBLEMS,
    summary="单个弄巷 / one lane",
)
def get_lane(
    lookup: LookupDep,
    caller: CallerDep,
    code: Annotated[str, Path(max_length=60)],
) -> GeoJSONResponse:
    """One lane as a GeoJSON Feature."""
    return GeoJSONResponse(resources.feature(lookup.bind, "lanes", code, caller=caller))
