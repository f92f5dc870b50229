"""Request dependencies (依赖): the app's tools and who is calling.

Routers take what they need as parameters (``bind: BindDep``) instead of
reaching into ``request.app.state``; a route that writes declares
``dependencies=[WRITES]`` and the lookups see the change without the route
having to remember it.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from geogrid.config import Settings
from geogrid.domain.access import Caller, Role
from geogrid.errors import Forbidden
from geogrid.maps.tiles import BaseMap
from geogrid.services.accounts import caller_for
from geogrid.services.coverage_rules import CheckOptions
from geogrid.services.lookup import LookupService
from geogrid.store.engine import Bind


# async, like the lookup route: a plain def runs in the thread pool, and two
# thread hops cost a lookup 30 % of its CPU (benchmarks/load.py).
async def get_lookup(request: Request) -> LookupService:
    """The app's lookup service, built once at start-up."""
    return request.app.state.lookup


async def get_bind(request: Request) -> Bind:
    """The app's database (engine), set at start-up."""
    return request.app.state.bind


async def get_settings(request: Request) -> Settings:
    """The app's settings (``GEOGRID_*``), read once at start-up."""
    return request.app.state.settings


async def get_tiles(request: Request) -> BaseMap:
    """The base map the app's pages draw on."""
    return request.app.state.tiles


async def get_check_options(request: Request) -> CheckOptions:
    """The coverage check's options, from the settings."""
    return request.app.state.check_options


async def data_changed(request: Request) -> AsyncIterator[None]:
    """After a write succeeds, lookups rebuild their snapshot at once.

    Without it a lookup would notice the change only at its next periodic
    check. The part after ``yield`` runs when the route returned (scope
    "function"), before the answer is sent, and not when it raised.
    """
    yield
    request.app.state.lookup.data_changed()


WRITES = Depends(data_changed, scope="function")
"""For ``dependencies=[WRITES]`` on every route that changes stored data."""

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
    return await run_in_threadpool(caller_for, request.app.state.bind, credential)


def require(role: Role, what: str) -> Callable[..., Awaitable[Caller]]:
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
BindDep = Annotated[Bind, Depends(get_bind)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
TilesDep = Annotated[BaseMap, Depends(get_tiles)]
CheckOptionsDep = Annotated[CheckOptions, Depends(get_check_options)]
