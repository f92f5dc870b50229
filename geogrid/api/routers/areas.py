"""``/areas``: the area tree (区域) as GeoJSON pages, single features and a nested tree."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from geogrid.api.deps import BindDep
from geogrid.api.paging import PROBLEMS, GeoJSONResponse, ListingDep, page_response
from geogrid.domain.answers import AreaFeature, AreasPage, AreaTree
from geogrid.domain.codes import AreaLevel
from geogrid.services import resources

router = APIRouter(prefix="/areas", tags=["areas 区域"])

Day = Annotated[
    date | None,
    Query(alias="date", description="该日有效的版本（YYYY-MM-DD）；缺省为现行版本"),
]
AreaCode = Annotated[str, Path(max_length=40, description="区域编码")]


@router.get(
    "",
    response_class=GeoJSONResponse,
    response_model=AreasPage,
    responses=PROBLEMS,
    summary="区域列表（GeoJSON）/ areas, a page at a time",
)
def list_areas(
    request: Request,
    bind: BindDep,
    filters: ListingDep,
    level: Annotated[AreaLevel | None, Query(description="层级")] = None,
    day: Day = None,
) -> GeoJSONResponse:
    """Areas of one generation; ``parent`` is the direct parent's code."""
    page = resources.list_areas(
        bind, filters, level=level.value if level else None, day=day
    )
    return page_response(request, page, filters)


@router.get(
    "/tree",
    responses=PROBLEMS,
    summary="区域树（不含几何）/ the area tree, nested, without geometry",
)
def area_tree(
    bind: BindDep,
    root: Annotated[str | None, Query(max_length=40, description="根区域编码")] = None,
    day: Day = None,
) -> AreaTree:
    """The areas valid on ``date`` as nested nodes (code, name, level, children)."""
    return resources.area_tree(bind, root=root, day=day)


@router.get(
    "/{code}",
    response_class=GeoJSONResponse,
    response_model=AreaFeature,
    responses=PROBLEMS,
    summary="单个区域及其上下级 / one area with its parent and children",
)
def get_area(bind: BindDep, code: AreaCode, day: Day = None) -> GeoJSONResponse:
    """A GeoJSON Feature; ``properties.parent`` and ``properties.children`` name its neighbours."""
    return GeoJSONResponse(resources.area_feature(bind, code, day=day))
