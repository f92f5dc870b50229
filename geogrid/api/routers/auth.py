"""``/auth``, ``/users`` and ``/audit``: logins, who am I, accounts and the audit log."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from geogrid.api.deps import BindDep, CallerDep, SettingsDep, require
from geogrid.domain.access import Caller, Role
from geogrid.domain.answers import AuditRecord, Identity, UserInfo
from geogrid.services import accounts
from geogrid.services.roster import audit_log

router = APIRouter(tags=["auth 登录与权限"])

AdminDep = Annotated[
    Caller, Depends(require(Role.ADMIN, "账号与审计 Accounts and audit"))
]


class TokenOut(BaseModel):
    """An OAuth2 bearer token."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


class NewUser(BaseModel):
    """A login to create (admins only)."""

    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=accounts.MIN_PASSWORD, max_length=200)
    role: Role
    street: str = Field("", max_length=40, description="工作人员所属街道编码")


@router.post("/auth/token", summary="登录取得令牌 / log in (OAuth2 password flow)")
def token(
    request: Request,
    bind: BindDep,
    settings: SettingsDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> TokenOut:
    """Exchange a username and password for a bearer token."""
    issued = accounts.login(
        bind,
        form.username,
        form.password,
        ttl_minutes=settings.token_ttl_minutes,
        client=request.client.host if request.client else "",
        policy=accounts.LoginPolicy(
            settings.login_max_failures,
            settings.login_lockout_seconds,
            settings.login_client_max_failures,
        ),
    )
    return TokenOut(access_token=issued.access_token, expires_in=issued.expires_in)


@router.get("/auth/me", summary="当前身份 / who am I")
def me(caller: CallerDep) -> Identity:
    """The caller's role, name and street (public when not logged in)."""
    return _identity(caller)


def _identity(caller: Caller) -> Identity:
    return Identity(
        role=caller.role.value, username=caller.username, street=caller.street
    )


@router.get("/users", summary="账号列表（管理员）/ logins (admins)")
def list_users(bind: BindDep, _admin: AdminDep) -> list[UserInfo]:
    """Every login without its password hash."""
    return accounts.users(bind)


@router.post(
    "/users", status_code=201, summary="新建账号（管理员）/ create a login (admins)"
)
def create_user(bind: BindDep, body: NewUser, admin: AdminDep) -> Identity:
    """Create a staff, planner or admin login."""
    caller = accounts.add_user(
        bind,
        body.username,
        body.password,
        body.role.value,
        street=body.street,
        actor=admin.username,
    )
    return _identity(caller)


@router.get("/audit", summary="审计日志（管理员）/ the audit log (admins)")
def audit(
    bind: BindDep,
    _admin: AdminDep,
    target: Annotated[
        str | None, Query(max_length=100, description="如 person:P00001")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    # Bounded like every offset: a larger one overflowed the driver (a 500).
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> list[AuditRecord]:
    """Who changed what and when, newest first."""
    return audit_log(bind, target=target, limit=limit, offset=offset)
