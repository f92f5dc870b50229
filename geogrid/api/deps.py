"""Request dependencies (依赖): the lookup service and the caller's role."""

from typing import Annotated

from fastapi import Depends, Request

from geogrid.domain.access import Role
from geogrid.errors import Forbidden
from geogrid.services.lookup import LookupService


def get_lookup(request: Request) -> LookupService:
    """The app's lookup service, built once at start-up."""
    return request.app.state.lookup  # type: ignore[no-any-return]


def get_caller() -> Role:
    """The caller's role.

    Until logins exist every web caller is public: the web service must never
    hand out private contacts or residents' addresses without one. Staff use
    the CLI, which runs with the database's own rights.
    """
    return Role.PUBLIC


def staff_only(what: str) -> object:
    """A dependency that lets staff and above through and refuses the public (403)."""

    def check(caller: Role = Depends(get_caller)) -> Role:  # noqa: B008  # FastAPI's idiom
        if caller.is_public:
            raise Forbidden("forbidden", what=what, role="工作人员 staff")
        return caller

    return Depends(check)


LookupDep = Annotated[LookupService, Depends(get_lookup)]
CallerDep = Annotated[Role, Depends(get_caller)]
