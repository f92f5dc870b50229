"""``/plans``: drafts of grid boundaries (网格调整规划), for planners.

A planner starts a draft from the current grids of a community or street,
edits it step by step (each undoable), reads its impact, and publishes it as
a new generation. A draft based on an older generation is refused until it is
rebased. Admins may roll a scope back to the grids of an earlier moment.
"""

import json
from datetime import UTC, datetime
from pathlib import Path as FilePath
from tempfile import TemporaryDirectory
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from geogrid.api.deps import (
    WRITES,
    BindDep,
    CheckOptionsDep,
    TilesDep,
    require,
)
from geogrid.domain.access import Caller, Role
from geogrid.domain.answers import (
    PlanImpact,
    PlanList,
    PlanSummary,
    Published,
    RolledBack,
)
from geogrid.services import planning
from geogrid.services.imports import ImportOptions

router = APIRouter(tags=["plans 网格调整规划"])

PlannerDep = Annotated[Caller, Depends(require(Role.PLANNER, "规划 Plans"))]
AdminDep = Annotated[Caller, Depends(require(Role.ADMIN, "回滚 Rollback"))]
# The largest INTEGER (PostgreSQL int4): a larger id is a 422, not a driver overflow.
PlanId = Annotated[int, Path(ge=1, le=2**31 - 1, description="规划编号")]
ScopeCode = Annotated[
    str,
    Field(max_length=40, pattern=r"^[0-9A-Za-z._-]+$", description="社区或街道编码"),
]
Code = Annotated[str, Field(min_length=1, max_length=60)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Lon = Annotated[float, Field(ge=-180, le=180)]
Lat = Annotated[float, Field(ge=-90, le=90)]
Position = tuple[Lon, Lat]
Ring = Annotated[list[Position], Field(min_length=4, max_length=100_000)]


class PlanIn(BaseModel):
    """A new draft of a community's or street's grids."""

    scope: ScopeCode
    name: str = Field("", max_length=100, description="规划名称（默认按范围命名）")


class LineString(BaseModel):
    """A GeoJSON LineString in lon/lat (EPSG:4326)."""

    type: Literal["LineString"]
    coordinates: list[Position] = Field(min_length=2, max_length=10_000)


class Polygon(BaseModel):
    """A GeoJSON Polygon in lon/lat."""

    type: Literal["Polygon"]
    coordinates: list[Ring] = Field(min_length=1, max_length=1_000)


class MultiPolygon(BaseModel):
    """A GeoJSON MultiPolygon in lon/lat."""

    type: Literal["MultiPolygon"]
    coordinates: list[Annotated[list[Ring], Field(min_length=1, max_length=1_000)]] = (
        Field(min_length=1, max_length=1_000)
    )


class GridProperties(BaseModel):
    """What a drawn grid needs: its code and name."""

    code: Code
    name: Name


class GridFeature(BaseModel):
    """One grid of a replacement."""

    type: Literal["Feature"]
    properties: GridProperties
    geometry: Annotated[Polygon | MultiPolygon, Field(discriminator="type")]


class GridCollection(BaseModel):
    """The grids that replace all of a draft's grids."""

    type: Literal["FeatureCollection"]
    features: list[GridFeature] = Field(min_length=1, max_length=5_000)


class ReplaceParams(BaseModel):
    """Replace every grid of the draft (网格整体替换)."""

    features: GridCollection
    free_codes: bool = Field(False, description="编码不按国家统计局区划代码检查")


class SplitParams(BaseModel):
    """Split a grid in two along a line that crosses it."""

    grid: Code
    line: LineString
    new: tuple[tuple[Code, Name], tuple[Code, Name]] = Field(
        description="[[编码, 名称], [编码, 名称]]：先北（或西）半，后另一半"
    )


class MergeParams(BaseModel):
    """Merge neighbouring grids of one community."""

    grids: list[Code] = Field(min_length=2, max_length=100)
    code: Code
    name: Name


class MoveParams(BaseModel):
    """Move buildings into a neighbouring grid; the boundary follows them."""

    buildings: list[Code] = Field(min_length=1, max_length=10_000)
    to: Code


class RenameParams(BaseModel):
    """Rename a grid."""

    grid: Code
    name: Name


class RenumberParams(BaseModel):
    """Give a grid a new code."""

    grid: Code
    to: Code


class ReplaceEdit(BaseModel):
    """``replace``: params.features is a FeatureCollection with code and name."""

    op: Literal["replace"]
    params: ReplaceParams


class SplitEdit(BaseModel):
    """``split``."""

    op: Literal["split"]
    params: SplitParams


class MergeEdit(BaseModel):
    """``merge``."""

    op: Literal["merge"]
    params: MergeParams


class MoveEdit(BaseModel):
    """``move``."""

    op: Literal["move"]
    params: MoveParams


class RenameEdit(BaseModel):
    """``rename``."""

    op: Literal["rename"]
    params: RenameParams


class RenumberEdit(BaseModel):
    """``renumber``."""

    op: Literal["renumber"]
    params: RenumberParams


EditIn = Annotated[
    ReplaceEdit | SplitEdit | MergeEdit | MoveEdit | RenameEdit | RenumberEdit,
    Field(discriminator="op"),
]


class RollbackIn(BaseModel):
    """Publish again the grids of a scope as they stood at a moment."""

    scope: ScopeCode
    to: datetime = Field(description="时刻；不带时区时按 UTC")


class CSVResponse(Response):
    """CSV under its own media type, so the OpenAPI says so too."""

    media_type = "text/csv"


def _replace_params(params: ReplaceParams) -> dict[str, Any]:
    # Uploaded grids get the checks of an imported file (geometry, codes, names).
    with TemporaryDirectory() as folder:
        path = FilePath(folder) / "plan.geojson"
        path.write_text(json.dumps(params.features.model_dump(mode="json")))
        options = ImportOptions(crs="EPSG:4326", is_free_codes=params.free_codes)
        return planning.replace_params(path, options)


@router.post("/plans", status_code=201, summary="新建规划草案 / start a draft")
def create_plan(bind: BindDep, caller: PlannerDep, body: PlanIn) -> PlanSummary:
    """A draft of the current grids of a community or street."""
    state = planning.new_plan(bind, body.scope, name=body.name, author=caller.username)
    return state.summary()


@router.get("/plans", summary="规划列表 / plans, newest first")
def list_plans(
    bind: BindDep,
    caller: PlannerDep,
    scope: Annotated[
        str | None,
        Query(
            max_length=40, pattern=r"^[0-9A-Za-z._-]+$", description="社区或街道编码"
        ),
    ] = None,
) -> PlanList:
    """Every plan (draft, published, discarded), optionally of one scope."""
    return PlanList(items=planning.list_plans(bind, scope=scope))


@router.get("/plans/{plan_id}", summary="规划详情 / a plan with its steps and grids")
def get_plan(bind: BindDep, caller: PlannerDep, plan_id: PlanId) -> PlanSummary:
    """The plan, its steps (author, time) and its grids as GeoJSON."""
    return planning.plan_state(bind, plan_id).summary()


@router.post("/plans/{plan_id}/edits", summary="编辑草案 / apply one edit")
def edit_plan(
    bind: BindDep, caller: PlannerDep, plan_id: PlanId, body: EditIn
) -> PlanSummary:
    """One edit (replace, split, merge, move, rename, renumber), kept as an undoable step."""
    if isinstance(body, ReplaceEdit):
        params = _replace_params(body.params)
    else:
        params = body.params.model_dump(mode="json")
    state = planning.edit(bind, plan_id, body.op, params, author=caller.username)
    return state.summary()


@router.post("/plans/{plan_id}/undo", summary="撤销最后一步 / undo the last edit")
def undo_edit(bind: BindDep, caller: PlannerDep, plan_id: PlanId) -> PlanSummary:
    """Drop the draft's last edit (the base cannot be undone)."""
    return planning.undo(bind, plan_id, author=caller.username).summary()


@router.get("/plans/{plan_id}/diff", summary="影响分析 / what the plan changes")
def diff_plan(
    bind: BindDep, check: CheckOptionsDep, caller: PlannerDep, plan_id: PlanId
) -> PlanImpact:
    """Grids added, removed and changed; moves; people affected; households; coverage."""
    return planning.diff(bind, plan_id, check=check)


@router.post(
    "/plans/{plan_id}/publish",
    summary="发布 / publish as the new grids",
    dependencies=[WRITES],
)
def publish_plan(
    bind: BindDep, check: CheckOptionsDep, caller: PlannerDep, plan_id: PlanId
) -> Published:
    """Publish the draft; 409 if it is stale (rebase first), 422 if it adds gaps or overlaps."""
    return planning.publish(bind, plan_id, author=caller.username, check=check)


@router.post("/plans/{plan_id}/rebase", summary="基于现行网格重放 / rebase")
def rebase_plan(bind: BindDep, caller: PlannerDep, plan_id: PlanId) -> PlanSummary:
    """Replay the draft's edits on the current grids after someone else published."""
    return planning.rebase(bind, plan_id, author=caller.username).summary()


@router.delete("/plans/{plan_id}", status_code=204, summary="放弃草案 / discard")
def discard_plan(bind: BindDep, caller: PlannerDep, plan_id: PlanId) -> Response:
    """Give a draft up; it stays listed as discarded."""
    planning.discard(bind, plan_id, author=caller.username)
    return Response(status_code=204)


@router.post(
    "/plans/rollback",
    summary="回滚（管理员）/ roll a scope back",
    dependencies=[WRITES],
)
def rollback(
    bind: BindDep, check: CheckOptionsDep, caller: AdminDep, body: RollbackIn
) -> RolledBack:
    """Publish again the grids of a scope as they stood at ``to`` (admins only)."""
    to = body.to
    if to.tzinfo is not None:  # stored times are naive UTC
        to = to.astimezone(UTC).replace(tzinfo=None)
    return planning.rollback(
        bind, body.scope, to=to, assign=check.assign, author=caller.username
    )


@router.get(
    "/plans/{plan_id}/map.html",
    response_class=HTMLResponse,
    summary="方案对比图 / the plan's diff map",
)
def plan_map(
    bind: BindDep,
    check: CheckOptionsDep,
    tiles: TilesDep,
    caller: PlannerDep,
    plan_id: PlanId,
) -> HTMLResponse:
    """Old and new boundaries and the buildings that change grid (a staff page)."""
    impact = planning.diff(bind, plan_id, check=check)
    old, new, buildings = planning.plan_frames(bind, plan_id)
    from geogrid.maps.plan import plan_diff_map

    page = plan_diff_map(impact, old, new, buildings, tiles=tiles)
    return HTMLResponse(page.get_root().render())


@router.get(
    "/plans/{plan_id}/notice.csv",
    response_class=CSVResponse,
    summary="调整告知表 / the change notice as CSV",
)
def plan_notice(
    bind: BindDep, check: CheckOptionsDep, caller: PlannerDep, plan_id: PlanId
) -> CSVResponse:
    """One row per moved building or 小区: old grid, new grid, new contacts."""
    impact = planning.diff(bind, plan_id, check=check)
    from geogrid.services.notices import change_notice

    return CSVResponse(
        change_notice(bind, impact).csv(),
        headers={
            "Content-Disposition": f'attachment; filename="plan-{plan_id}-notice.csv"'
        },
    )
