"""``/people`` and ``/assignments``: the roster, read and edited by staff of its street.

Reads send an ETag; every change needs If-Match with it, and a stale one gets
412 and changes nothing (optimistic concurrency). Changes are audited.
"""

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from geogrid.api.deps import WRITES, BindDep, require
from geogrid.api.etags import etag, parse_if_match
from geogrid.domain.access import Caller, Role
from geogrid.domain.answers import (
    AssignmentPage,
    AssignmentRecord,
    PeoplePage,
    PersonRecord,
    SchemeInfo,
)
from geogrid.domain.roles import RoleScheme
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


Versioned = TypeVar("Versioned", PersonRecord, AssignmentRecord)


def _tagged(response: Response, record: Versioned) -> Versioned:
    response.headers["ETag"] = etag(record.version)
    return record


@router.get("/people", summary="人员列表 / people of the caller's street")
def list_people(
    bind: BindDep,
    caller: StaffDep,
    q: Annotated[str | None, Query(max_length=100, description="姓名或编码")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> PeoplePage:
    """People holding a role in the caller's street (admins: everyone)."""
    return roster.list_people(bind, caller, q=q, limit=limit, offset=offset)


@router.get("/people/{code}", summary="人员详情 / one person")
def get_person(
    bind: BindDep, response: Response, caller: StaffDep, code: PersonCode
) -> PersonRecord:
    """One person with current assignments; the ETag names its version."""
    return _tagged(response, roster.get_person(bind, caller, code))


@router.post(
    "/people", status_code=201, summary="新增人员 / add a person", dependencies=[WRITES]
)
def create_person(
    bind: BindDep, response: Response, caller: StaffDep, body: PersonIn
) -> PersonRecord:
    """Add a person; give them an assignment to place them in a street."""
    return _tagged(
        response,
        roster.create_person(bind, caller, body.model_dump()),
    )


@router.patch(
    "/people/{code}",
    summary="修改人员 / change a person (If-Match)",
    dependencies=[WRITES],
)
def update_person(
    bind: BindDep,
    response: Response,
    caller: StaffDep,
    code: PersonCode,
    body: PersonChange,
    if_match: IfMatch = None,
) -> PersonRecord:
    """Change a person; a stale If-Match gets 412 and changes nothing."""
    version = parse_if_match(if_match, f"person {code}")
    changes = body.model_dump(exclude_none=True)
    return _tagged(
        response,
        roster.update_person(bind, caller, code, version, changes),
    )


@router.post(
    "/assignments",
    status_code=201,
    summary="新增任职 / give a role",
    dependencies=[WRITES],
)
def create_assignment(
    bind: BindDep, response: Response, caller: StaffDep, body: AssignmentIn
) -> AssignmentRecord:
    """Give a person a role of the active scheme on a grid, building or lane."""
    return _tagged(
        response,
        roster.add_assignment(bind, caller, body.model_dump()),
    )


@router.get("/assignments/{assignment_id}", summary="任职详情 / one assignment")
def get_assignment(
    bind: BindDep,
    response: Response,
    caller: StaffDep,
    assignment_id: AssignmentId,
) -> AssignmentRecord:
    """One assignment; the ETag names its version."""
    return _tagged(response, roster.get_assignment(bind, caller, assignment_id))


@router.patch(
    "/assignments/{assignment_id}",
    summary="调整任职 / change an assignment (If-Match)",
    dependencies=[WRITES],
)
def change_assignment(
    bind: BindDep,
    response: Response,
    caller: StaffDep,
    assignment_id: AssignmentId,
    body: AssignmentChange,
    if_match: IfMatch = None,
) -> AssignmentRecord:
    """End this assignment and start the changed one; returns the new assignment."""
    version = parse_if_match(if_match, f"assignment {assignment_id}")
    changes = body.model_dump(exclude_none=True)
    return _tagged(
        response,
        roster.change_assignment(bind, caller, assignment_id, version, changes),
    )


@router.post(
    "/assignments/{assignment_id}/end",
    summary="卸任 / end an assignment (If-Match)",
    dependencies=[WRITES],
)
def end_assignment(
    bind: BindDep,
    response: Response,
    caller: StaffDep,
    assignment_id: AssignmentId,
    if_match: IfMatch = None,
) -> AssignmentRecord:
    """End an assignment now; it stays in the history."""
    version = parse_if_match(if_match, f"assignment {assignment_id}")
    return _tagged(
        response,
        roster.end_assignment(bind, caller, assignment_id, version),
    )


@router.get("/assignments", summary="任职列表 / assignments of the caller's street")
def list_assignments(
    bind: BindDep,
    caller: StaffDep,
    target_code: Annotated[str | None, Query(max_length=60)] = None,
    person_code: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Offset = 0,
) -> AssignmentPage:
    """Current assignments in the caller's street, by target or person."""
    return roster.list_assignments(
        bind,
        caller,
        target_code=target_code,
        person_code=person_code,
        limit=limit,
        offset=offset,
    )


@router.get("/schemes", summary="角色方案 / role schemes")
def list_schemes(bind: BindDep) -> list[SchemeInfo]:
    """Stored schemes and presets; which one is active."""
    return roster.schemes(bind)


@router.get("/schemes/{name}", summary="角色方案定义 / one role scheme")
def get_scheme(bind: BindDep, name: Annotated[str, Path(max_length=100)]) -> RoleScheme:
    """A scheme's roles, titles, duties and what each posts (public)."""
    return roster.scheme(bind, name)


@router.put(
    "/schemes",
    summary="保存角色方案（管理员）/ store a scheme (admins)",
    dependencies=[WRITES],
)
def put_scheme(
    bind: BindDep,
    caller: Annotated[Caller, Depends(require(Role.ADMIN, "角色方案 Role schemes"))],
    definition: Annotated[dict[str, Any], Body(description="角色方案（与 YAML 同构）")],
    *,
    activate: Annotated[bool, Query()] = True,
) -> RoleScheme:
    """Store (or replace) a scheme and, by default, make it the active one."""
    return roster.put_scheme(bind, caller, definition, activate=activate)
