"""Request dependencies (依赖): the lookup service and who is calling."""

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from geogrid.domain.access import Caller, Role
from geogrid.errors import Forbidden
from geogrid.services.accounts import caller_for
from geogrid.services.lookup import LookupService


# async, like the lookup route: a plain def runs in the thread pool, and two
# thread hops cost a lookup 30 % of its CPU (benchmarks/load.py).
async def get_lookup(request: Request) -> LookupService:
    """The app's lookup service, built once at start-up."""
    return request.app.state.lookup  # type: ignore[no-any-return]


BEARER = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)
API_KEY = APIKeyHeader(name="X-API-Key", auto_error=False)


async def get_caller(
    request: Request,
    token: Annotated[str | None, Depends(BEARER)],
    key: Annotated[str | None, Depends(API_KEY)],
) -> Caller:
    """Who is calling: a bearer token (login) or an API key, else the public.

    A credential that is given but wrong is refused (401) rather than treated
    as public, so a script with an expired key notices.
    """
    credential = token or key
    if not credential:
        return Caller()
    # Checking a token may query the database: off the event loop.
    return await run_in_threadpool(
        caller_for, request.app.state.lookup.bind, credential
    )


def require(role: Role, what: str) -> Callable[..., Caller]:
    """A dependency that lets ``role`` (and admins) through and refuses others (403)."""

    async def check(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
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
