"""Logins (账号与登录): users, passwords, bearer tokens and API keys.

Passwords are hashed with argon2 (pwdlib). Tokens and API keys are random
(``secrets``) and only their SHA-256 is stored, so a leaked database holds no
usable credential; a token expires after ``token_ttl_minutes``, a key when
revoked. Checking a token is one indexed query, cached for a few seconds so
busy lookups do not pay it on every request.
"""

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from pwdlib import PasswordHash

from geogrid.domain.access import Caller, Role
from geogrid.domain.codes import AreaLevel, code_problem
from geogrid.errors import InvalidInput, NotFound, Unauthorized
from geogrid.store import accounts as account_store
from geogrid.store import areas as area_store
from geogrid.store.batches import utcnow
from geogrid.store.engine import Bind, session_scope

_HASHER = PasswordHash.recommended()
# A hash to verify against when the user does not exist, so a login takes as
# long for an unknown name as for a wrong password (no user enumeration).
_DUMMY_HASH = _HASHER.hash("geogrid-dummy-password")
MIN_PASSWORD = 8
LOGIN_ROLES = (Role.STAFF, Role.PLANNER, Role.ADMIN)
KEY_PREFIX = "ggk_"


@dataclass(frozen=True)
class IssuedToken:
    """A bearer token as handed out once (OAuth2 token response)."""

    access_token: str
    expires_in: int
    token_type: str = "bearer"


def add_user(
    bind: Bind, username: str, password: str, role: str, *, street: str = ""
) -> Caller:
    """Create a login (`geogrid users add`).

    Raises:
        InvalidInput: a taken or empty name, a short password, an unknown
            role, or a staff user without a current street (街道) code.
    """
    username = username.strip()
    if not username or len(username) > 100:
        raise InvalidInput("value_invalid", field="username", value=username)
    if len(password) < MIN_PASSWORD:
        raise InvalidInput("password_too_short", n=MIN_PASSWORD)
    if role not in {r.value for r in LOGIN_ROLES}:
        raise InvalidInput(
            "value_invalid", field="role", value=f"{role} (staff/planner/admin)"
        )
    with session_scope(bind) as session:
        if account_store.user_by_name(session, username) is not None:
            raise InvalidInput("user_exists", username=username)
        if role == Role.STAFF:
            if not street or code_problem(street, AreaLevel.STREET) is not None:
                raise InvalidInput("staff_street_missing", username=username)
            if area_store.areas_frame(session, level="street", codes=[street]).empty:
                raise NotFound("area_not_found", code=street)
        account_store.add_user(session, username, _HASHER.hash(password), role, street)
    return Caller(Role(role), username, street)


def users(bind: Bind) -> list[dict[str, object]]:
    """Every login, without its password hash (for admins)."""
    with session_scope(bind) as session:
        return [
            {
                "username": u.username,
                "role": u.role,
                "street": u.street_code,
                "is_active": u.is_active,
                "created_at": u.created_at.isoformat(),
            }
            for u in account_store.list_users(session)
        ]


def login(bind: Bind, username: str, password: str, *, ttl_minutes: int) -> IssuedToken:
    """Check a password and issue a bearer token (OAuth2 password flow).

    Raises:
        Unauthorized: unknown user, wrong password or a disabled login (one
            message for all three).
    """
    with session_scope(bind) as session:
        user = account_store.user_by_name(session, username)
        if user is None:
            _HASHER.verify(password, _DUMMY_HASH)
            raise Unauthorized("login_failed")
        valid, new_hash = _HASHER.verify_and_update(password, user.password_hash)
        if not valid or not user.is_active:
            raise Unauthorized("login_failed")
        if new_hash:  # parameters moved on since the password was set
            user.password_hash = new_hash
        token = secrets.token_urlsafe(32)
        account_store.add_token(
            session,
            user.id,
            _digest(token),
            kind="session",
            expires_at=utcnow() + timedelta(minutes=ttl_minutes),
        )
    return IssuedToken(token, ttl_minutes * 60)


def create_api_key(bind: Bind, username: str, *, name: str = "") -> str:
    """A new API key for a user's scripts; shown once, stored as a hash.

    Raises:
        NotFound: no such user.
    """
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with session_scope(bind) as session:
        user = account_store.user_by_name(session, username)
        if user is None:
            raise NotFound("user_not_found", username=username)
        account_store.add_token(session, user.id, _digest(key), kind="key", name=name)
    return key


def revoke(bind: Bind, username: str) -> int:
    """Revoke every token and key of a user; returns how many."""
    with session_scope(bind) as session:
        user = account_store.user_by_name(session, username)
        if user is None:
            raise NotFound("user_not_found", username=username)
        count = account_store.revoke_tokens(session, user.id)
    _CACHE.clear()
    return count


class _TokenCache:
    """Recently checked tokens, for ``ttl`` seconds: a revoked one lapses that late."""

    def __init__(self, ttl: float = 5.0) -> None:
        self.ttl = ttl
        self._seen: dict[str, tuple[float, Caller | None]] = {}
        self._lock = threading.Lock()

    def get(self, digest: str) -> tuple[bool, Caller | None]:
        with self._lock:
            hit = self._seen.get(digest)
        if hit is None or time.monotonic() - hit[0] > self.ttl:
            return False, None
        return True, hit[1]

    def put(self, digest: str, caller: Caller | None) -> None:
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[digest] = (time.monotonic(), caller)

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


_CACHE = _TokenCache()


def caller_for(bind: Bind, token: str) -> Caller:
    """The caller a bearer token or API key stands for.

    Raises:
        Unauthorized: an unknown, expired or revoked token.
    """
    digest = _digest(token)
    known, caller = _CACHE.get(digest)
    if not known:
        with session_scope(bind) as session:
            user = account_store.token_owner(session, digest, utcnow())
            caller = (
                None
                if user is None
                else Caller(Role(user.role), user.username, user.street_code)
            )
        _CACHE.put(digest, caller)
    if caller is None:
        raise Unauthorized("token_invalid")
    return caller


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
