"""``/coverage``: the coverage report as JSON, and its defects as GeoJSON."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from geogrid.api.deps import CallerDep
from geogrid.api.paging import GeoJSONResponse
from geogrid.services.coverage import (
    CoverageResult,
    current_report,
    findings_geojson,
    public_view,
)

router = APIRouter(tags=["coverage 覆盖检查"])


CommunityQuery = Annotated[
    str | None,
    Query(max_length=40, pattern=r"^[0-9A-Za-z._-]+$", description="社区编码"),
]


def _report(request: Request, community: str | None, caller: Any) -> CoverageResult:
    state = request.app.state
    result = current_report(state.lookup.bind, state.check_options, community=community)
    return public_view(result) if caller.is_public else result


@router.get("/coverage", summary="覆盖检查报告 / the coverage report")
def coverage(
    request: Request, caller: CallerDep, community: CommunityQuery = None
) -> dict[str, Any]:
    """Counts per rule and per community, service coverage, and every finding."""
    result = _report(request, community, caller)
    return {
        "report_id": result.report_id,
        "created_at": result.created_at.isoformat(),
        "scope": result.scope,
        "summary": result.summary,
        "findings": findings_geojson(result)["features"],
    }


@router.get(
    "/coverage.geojson",
    response_class=GeoJSONResponse,
    summary="覆盖检查问题的几何 / the defects as GeoJSON",
)
def coverage_geojson(
    request: Request, caller: CallerDep, community: CommunityQuery = None
) -> GeoJSONResponse:
    """The findings as an RFC 7946 FeatureCollection for the coverage map layer."""
    return GeoJSONResponse(findings_geojson(_report(request, community, caller)))
