"""``/people`` and ``/assignments``: the roster, read and edited by staff of its street.

Reads send an ETag; every change needs If-Match with it, and a stale one gets
412 and changes nothing (optimistic concurrency). Changes are audited.
"""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from geogrid.api.deps import require
from geogrid.domain.access import Caller, Role
from geogrid.services import roster

router = APIRouter(tags=["people 人员与任职"])

StaffDep = Annotated[Caller, Depends(require(Role.STAFF, "人员信息 People"))]
IfMatch = Annotated[
    str | None, Header(description="ETag from the last GET (optimistic concurrency)")
]
PersonCode = Annotated[str, Path(max_length=40, pattern=r"^[0-9A-Za-z._-]+$")]
# The largest INTEGER (PostgreSQL int4): a larger id or offset is a 422 here,
# not an overflow in the database driver (a 500, found by schemathesis).
MAX_INT = 2**31 - 1
AssignmentId = Annotated[int, Path(ge=1, le=MAX_INT)]
Offset = Annotated[int, Query(ge=0, le=MAX_INT)]
Phone = Annotated[str, Field(max_length=40, pattern=r"^[0-9+\- ]*$")]
Employment = Literal["full_time", "part_time", "专职", "兼职", ""]


class PersonIn(BaseModel):
    """A new person (人员)."""

    # A misspelt field ("phnoe") is refused, not silently ignored.
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=40, pattern=r"^[0-9A-Za-z._-]+$")
    name: str = Field(min_length=1, max_length=100)
    phone: Phone = ""
    phone_public: bool = False
    organisation: str = Field("", max_length=200)
    is_party_member: bool = False
    employment: Employment = ""


class PersonChange(BaseModel):
    """Fields to change on a person; those left out stay as they are."""

    # A misspelt field ("phnoe") is refused, not silently ignored.
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=100)
    phone: Phone | None = None
    phone_public: bool | None = None
    organisation: str | None = Field(None, max_length=200)
    is_party_member: bool | None = None
    employment: Employment | None = None


class AssignmentIn(BaseModel):
    """A role given to a person on a target (任职)."""

    # A misspelt field ("phnoe") is refused, not silently ignored.
    model_config = ConfigDict(extra="forbid")

    person_code: str = Field(min_length=1, max_length=40)
    role: str = Field(min_length=1, max_length=40, description="角色键，如 grid_head")
    target_code: str = Field(min_length=1, max_length=60)
    target_level: str | None = Field(None, max_length=20)
    valid_from: datetime | None = None


class AssignmentChange(BaseModel):
    """A new role or target: the assignment ends and a new one starts."""

    # A misspelt field ("phnoe") is refused, not silently ignored.
    model_config = ConfigDict(extra="forbid")

    role: str | None = Field(None, min_length=1, max_length=40)
    target_code: str | None = Field(None, min_length=1, max_length=60)
    target_level: str | None = Field(None, max_length=20)


def _tagged(response: Response, record: dict[str, Any]) -> dict[str, Any]:
    response.headers["ETag"] = roster.etag(record["version"])
    return record


def _written(
    request: Request, response: Response, record: dict[str, Any]
) -> dict[str, Any]:
    # Lookups otherwise notice a change only at their next periodic check.
    request.app.state.lookup.data_changed()
    return _tagged(response, record)


def _bind(request: Request) -> Any:
    return request.app.state.lookup.bind


@router.get("/people", summary="人员列表 / people of the caller's street")
def list_people(
    request: Request,
    caller: StaffDep,
    q: Annotated[str | None, Query(max_length=100, description="姓名或编码")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """People holding a role in the caller's street (admins: everyone)."""
    return roster.list_people(_bind(request), caller, q=q, limit=limit, offset=offset)


@router.get("/people/{code}", summary="人员详情 / one person")
def get_person(
    request: Request, response: Response, caller: StaffDep, code: PersonCode
) -> dict[str, Any]:
    """One person with current assignments; the ETag names its version."""
    return _tagged(response, roster.get_person(_bind(request), caller, code))


@router.post("/people", status_code=201, summary="新增人员 / add a person")
def create_person(
    request: Request, response: Response, caller: StaffDep, body: PersonIn
) -> dict[str, Any]:
    """Add a person; give them an assignment to place them in a street."""
    return _written(
        request,
        response,
        roster.create_person(_bind(request), caller, body.model_dump()),
    )


@router.patch("/people/{code}", summary="修改人员 / change a person (If-Match)")
def update_person(
    request: Request,
    response: Response,
    caller: StaffDep,
    code: PersonCode,
    body: PersonChange,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """Change a person; a stale If-Match gets 412 and changes nothing."""
    version = roster.parse_if_match(if_match, f"person {code}")
    changes = body.model_dump(exclude_none=True)
    return _written(
        request,
        response,
        roster.update_person(_bind(request), caller, code, version, changes),
    )


@router.post("/assignments", status_code=201, summary="新增任职 / give a role")
def create_assignment(
    request: Request, response: Response, caller: StaffDep, body: AssignmentIn
) -> dict[str, Any]:
    """Give a person a role of the active scheme on a grid, building or lane."""
    return _written(
        request,
        response,
        roster.add_assignment(_bind(request), caller, body.model_dump()),
    )


@router.get("/assignments/{assignment_id}", summary="任职详情 / one assignment")
def get_assignment(
    request: Request,
    response: Response,
    caller: StaffDep,
    assignment_id: AssignmentId,
) -> dict[str, Any]:
    """One assignment; the ETag names its version."""
    return _tagged(
        response, roster.get_assignment(_bind(request), caller, assignment_id)
    )


@router.patch(
    "/assignments/{assignment_id}", summary="调整任职 / change an assignment (If-Match)"
)
def change_assignment(
    request: Request,
    response: Response,
    caller: StaffDep,
    assignment_id: AssignmentId,
    body: AssignmentChange,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """End this assignment and start the changed one; returns the new assignment."""
    version = roster.parse_if_match(if_match, f"assignment {assignment_id}")
    changes = body.model_dump(exclude_none=True)
    return _written(
        request,
        response,
        roster.change_assignment(
            _bind(request), caller, assignment_id, version, changes
        ),
    )


@router.post(
    "/assignments/{assignment_id}/end", summary="卸任 / end an assignment (If-Match)"
)
def end_assignment(
    request: Request,
    response: Response,
    caller: StaffDep,
    assignment_id: AssignmentId,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """End an assignment now; it stays in the history."""
    version = roster.parse_if_match(if_match, f"assignment {assignment_id}")
    return _written(
        request,
        response,
        roster.end_assignment(_bind(request), caller, assignment_id, version),
    )


@router.get("/assignments", summary="任职列表 / assignments of the caller's street")
def list_assignments(
    request: Request,
    caller: StaffDep,
    target_code: Annotated[str | None, Query(max_length=60)] = None,
    person_code: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Current assignments in the caller's street, by target or person."""
    return roster.list_assignments(
        _bind(request),
        caller,
        target_code=target_code,
        person_code=person_code,
        limit=limit,
        offset=offset,
    )


@router.get("/schemes", summary="角色方案 / role schemes")
def list_schemes(request: Request) -> list[dict[str, Any]]:
    """Stored schemes and presets; which one is active."""
    return roster.schemes(_bind(request))


@router.get("/schemes/{name}", summary="角色方案定义 / one role scheme")
def get_scheme(
    request: Request, name: Annotated[str, Path(max_length=100)]
) -> dict[str, Any]:
    """A scheme's roles, titles, duties and what each posts (public)."""
    return roster.scheme(_bind(request), name)


@router.put("/schemes", summary="保存角色方案（管理员）/ store a scheme (admins)")
def put_scheme(
    request: Request,
    caller: Annotated[Caller, Depends(require(Role.ADMIN, "角色方案 Role schemes"))],
    definition: Annotated[dict[str, Any], Body(description="角色方案（与 YAML 同构）")],
    *,
    activate: Annotated[bool, Query()] = True,
) -> dict[str, Any]:
    """Store (or replace) a scheme and, by default, make it the active one."""
    stored = roster.put_scheme(_bind(request), caller, definition, activate=activate)
    request.app.state.lookup.data_changed()
    return stored
