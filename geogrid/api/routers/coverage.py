"""``/coverage``: the coverage report as JSON, and its defects as GeoJSON."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from geogrid.api.deps import BindDep, CallerDep, CheckOptionsDep
from geogrid.api.paging import GeoJSONResponse
from geogrid.domain.access import Caller
from geogrid.domain.answers import CoverageReport, FindingCollection
from geogrid.services.coverage import (
    CoverageResult,
    current_report,
    findings_geojson,
    public_view,
    report_document,
)
from geogrid.services.coverage_rules import CheckOptions
from geogrid.store.engine import Bind

router = APIRouter(tags=["coverage 覆盖检查"])


CommunityQuery = Annotated[
    str | None,
    Query(max_length=40, pattern=r"^[0-9A-Za-z._-]+$", description="社区编码"),
]


def _report(
    bind: Bind, check: CheckOptions, community: str | None, caller: Caller
) -> CoverageResult:
    result = current_report(bind, check, community=community)
    return public_view(result) if caller.is_public else result


@router.get(
    "/coverage",
    response_model=CoverageReport,
    summary="覆盖检查报告 / the coverage report",
)
def coverage(
    bind: BindDep,
    check: CheckOptionsDep,
    caller: CallerDep,
    community: CommunityQuery = None,
) -> JSONResponse:
    """Counts per rule and per community, service coverage, and every finding."""
    return JSONResponse(report_document(_report(bind, check, community, caller)))


@router.get(
    "/coverage.geojson",
    response_class=GeoJSONResponse,
    response_model=FindingCollection,
    summary="覆盖检查问题的几何 / the defects as GeoJSON",
)
def coverage_geojson(
    bind: BindDep,
    check: CheckOptionsDep,
    caller: CallerDep,
    community: CommunityQuery = None,
) -> GeoJSONResponse:
    """The findings as an RFC 7946 FeatureCollection for the coverage map layer."""
    return GeoJSONResponse(findings_geojson(_report(bind, check, community, caller)))
