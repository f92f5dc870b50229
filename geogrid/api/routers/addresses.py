"""``/addresses``: residents' addresses (居民地址), for staff of their own street only."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from geogrid.api.deps import LookupDep, require
from geogrid.api.paging import PROBLEMS, GeoJSONResponse, ListingDep, page_response
from geogrid.domain.access import Caller, Role
from geogrid.services import resources

router = APIRouter(prefix="/addresses", tags=["addresses 地址"])

StaffDep = Annotated[
    Caller, Depends(require(Role.STAFF, "居民地址 Residents' addresses"))
]
RESPONSES = PROBLEMS | {403: {"description": "仅限工作人员 / staff only"}}


@router.get(
    "",
    response_class=GeoJSONResponse,
    responses=RESPONSES,
    summary="地址列表（仅本街道工作人员）/ addresses of the caller's street",
)
def list_addresses(
    request: Request, lookup: LookupDep, caller: StaffDep, filters: ListingDep
) -> GeoJSONResponse:
    """Addresses under the caller's street (all for admins); the public gets 403."""
    page = resources.list_features(lookup.bind, "addresses", filters, caller=caller)
    return page_response(request, page, filters)


@router.get(
    "/{code}",
    response_class=GeoJSONResponse,
    responses=RESPONSES,
    summary="单个地址（仅本街道工作人员）/ one address",
)
def get_address(
    lookup: LookupDep, caller: StaffDep, code: Annotated[str, Path(max_length=60)]
) -> GeoJSONResponse:
    """One address; outside the caller's street it is 404, as if absent."""
    return GeoJSONResponse(
        resources.feature(lookup.bind, "addresses", code, caller=caller)
    )
