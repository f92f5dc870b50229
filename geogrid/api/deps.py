"""Request dependencies (依赖): the lookup service and who is calling."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from geogrid.domain.access import Caller, Role
from geogrid.errors import Forbidden
from geogrid.services.lookup import LookupService


def get_lookup(request: Request) -> LookupService:
    """The app's lookup service, built once at start-up."""
    return request.app.state.lookup  # type: ignore[no-any-return]


def get_caller() -> Caller:
    """The caller: public until logins exist (the auth router replaces this)."""
    return Caller()


def require(role: Role, what: str) -> Callable[..., Caller]:
    """A dependency that lets ``role`` (and admins) through and refuses others (403)."""

    def check(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
        if not caller.may(role):
            raise Forbidden("forbidden", what=what, role=ROLE_NAMES[role])
        return caller

    return check


ROLE_NAMES = {
    Role.STAFF: "工作人员 staff",
    Role.PLANNER: "规划人员 planner",
    Role.ADMIN: "管理员 admin",
}

LookupDep = Annotated[LookupService, Depends(get_lookup)]
CallerDep = Annotated[Caller, Depends(get_caller)]
