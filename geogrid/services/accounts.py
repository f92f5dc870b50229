"""Logins (账号与登录): users, passwords, bearer tokens and API keys.

Passwords are hashed with argon2 (pwdlib). Tokens and API keys are random
(``secrets``) and only their SHA-256 is stored, so a leaked database holds no
usable credential; a token expires after ``token_ttl_minutes``, a key when
revoked. Checking a token is one indexed query, cached for a few seconds so
busy lookups do not pay it on every request.
"""

import hashlib
import math
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pwdlib import PasswordHash

from geogrid.domain.access import Caller, Role
from geogrid.domain.answers import UserInfo
from geogrid.domain.codes import AreaLevel, code_problem
from geogrid.errors import InvalidInput, NotFound, TooManyRequests, Unauthorized
from geogrid.store import accounts as account_store
from geogrid.store import areas as area_store
from geogrid.store.batches import utcnow
from geogrid.store.engine import Bind, session_scope

_HASHER = PasswordHash.recommended()
# A hash to verify against when the user does not exist, so a login takes as
# long for an unknown name as for a wrong password (no user enumeration).
_DUMMY_HASH = _HASHER.hash("geogrid-dummy-password")
MIN_PASSWORD = 10
# The passwords tried first by anyone guessing: leaked-list favourites and
# the Chinese ones (woaini1314, 5201314 …), compared case-insensitively.
_COMMON = frozenset(
    """
    123456 1234567 12345678 123456789 1234567890 0123456789 111111 000000 666666
    888888 123123 123321 654321 112233 147258369 123qwe qwe123 qwerty qwertyuiop
    asdfgh asdfghjkl zxcvbnm password password1 password123 passw0rd p@ssw0rd
    admin admin123 admin1234 administrator root 1q2w3e4r 1q2w3e4r5t 1qaz2wsx
    1qaz2wsx3edc abc123 abc123456 abcd1234 a123456 a123456789 aa123456 iloveyou
    woaini woaini1314 woaini520 5201314 520520 1314520 letmein welcome welcome1
    monkey dragon master sunshine football baseball superman trustno1 changeme
    geogrid geogrid123 wanggeyuan shequ123 wangge123 jiedao123
    """.split()  # noqa: SIM905 - a word list reads better as words
)
LOGIN_WINDOW = timedelta(minutes=15)
MAX_LOCKOUT_S = 3600.0


@dataclass(frozen=True)
class LoginPolicy:
    """How failed logins are throttled (登录限流), from settings."""

    max_failures: int = 5
    lockout_s: float = 30.0
    client_max_failures: int = 30


def check_password(username: str, password: str) -> None:
    """Refuse a weak password: short, the user name, or a common one.

    Raises:
        InvalidInput: ``password_too_short`` or ``password_weak``.
    """
    if len(password) < MIN_PASSWORD:
        raise InvalidInput("password_too_short", n=MIN_PASSWORD)
    lowered = password.lower()
    if (
        username.strip().lower() in lowered
        or lowered in _COMMON
        or len(set(lowered)) <= 2
        or lowered in "01234567890123456789"
        or lowered in "abcdefghijklmnopqrstuvwxyz"
    ):
        raise InvalidInput("password_weak", n=MIN_PASSWORD)


LOGIN_ROLES = (Role.STAFF, Role.PLANNER, Role.ADMIN)
KEY_PREFIX = "ggk_"


@dataclass(frozen=True)
class IssuedToken:
    """A bearer token as handed out once (OAuth2 token response)."""

    access_token: str
    expires_in: int
    token_type: str = "bearer"


def add_user(
    bind: Bind,
    username: str,
    password: str,
    role: str,
    *,
    street: str = "",
    actor: str = "-",
) -> Caller:
    """Create a login (`geogrid users add`).

    Raises:
        InvalidInput: a taken or empty name, a short password, an unknown
            role, or a staff user without a current street (街道) code.
    """
    username = username.strip()
    if not username or len(username) > 100:
        raise InvalidInput("value_invalid", field="username", value=username)
    check_password(username, password)
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
        account_store.audit(
            session, actor, "user.add", f"user:{username}", before=None,
            after={"role": role, "street": street},
        )  # fmt: skip
    return Caller(Role(role), username, street)


def users(bind: Bind) -> list[UserInfo]:
    """Every login, without its password hash (for admins)."""
    with session_scope(bind) as session:
        return [
            UserInfo(
                username=u.username,
                role=u.role,
                street=u.street_code,
                is_active=u.is_active,
                created_at=u.created_at,
            )
            for u in account_store.list_users(session)
        ]


def login(
    bind: Bind,
    username: str,
    password: str,
    *,
    ttl_minutes: int,
    client: str = "",
    policy: LoginPolicy | None = None,
) -> IssuedToken:
    """Check a password and issue a bearer token (OAuth2 password flow).

    Every attempt is audited (``login.ok``/``login.failed`` on ``user:NAME``
    and ``client:ADDRESS``). After ``policy.max_failures`` failures of one
    account, or ``client_max_failures`` from one address, within 15 minutes,
    further attempts wait ``lockout_s`` (doubling per failure, at most an
    hour) from the last failure, the right password included: guessing is
    slowed to a crawl, and the owner gets in again once the wait is over.

    Raises:
        TooManyRequests: the account or the address must wait (429).
        Unauthorized: unknown user, wrong password or a disabled login (one
            message for all three).
    """
    policy = policy or LoginPolicy()
    user_target, client_target = f"user:{username[:90]}", f"client:{client[:90]}"
    with session_scope(bind) as session:
        wait = max(
            _wait(session, user_target, policy.max_failures, policy.lockout_s),
            _wait(session, client_target, policy.client_max_failures, policy.lockout_s)
            if client
            else 0.0,
        )
    if wait > 0:
        _log_attempt(bind, "login.throttled", [user_target], client)
        raise TooManyRequests("login_throttled", retry_after=math.ceil(wait))
    token = secrets.token_urlsafe(32)
    with session_scope(bind) as session:
        user = account_store.user_by_name(session, username)
        if user is None:
            _HASHER.verify(password, _DUMMY_HASH)
            valid = False
        else:
            valid, new_hash = _HASHER.verify_and_update(password, user.password_hash)
            valid = valid and user.is_active
        if valid and user is not None:
            if new_hash:  # parameters moved on since the password was set
                user.password_hash = new_hash
            account_store.add_token(
                session,
                user.id,
                _digest(token),
                kind="session",
                expires_at=utcnow() + timedelta(minutes=ttl_minutes),
            )
            account_store.audit(
                session, username, "login.ok", user_target, before=None,
                after={"client": client},
            )  # fmt: skip
    if not valid:
        targets = [user_target, client_target] if client else [user_target]
        _log_attempt(bind, "login.failed", targets, client)
        raise Unauthorized("login_failed")
    return IssuedToken(token, ttl_minutes * 60)


def _wait(session: Any, target: str, limit: int, lockout_s: float) -> float:
    """Seconds ``target`` must still wait before its next login attempt."""
    now = utcnow()
    n, last = account_store.failures_since(session, target, now - LOGIN_WINDOW)
    if n < limit or last is None:
        return 0.0
    lock = min(lockout_s * 2 ** (n - limit), MAX_LOCKOUT_S)
    return max(0.0, (last - now).total_seconds() + lock)


def _log_attempt(bind: Bind, action: str, targets: list[str], client: str) -> None:
    """Audit a refused login in its own unit of work (the refusal raises after it)."""
    with session_scope(bind) as session:
        for target in targets:
            account_store.audit(
                session, "-", action, target, before=None, after={"client": client}
            )


def set_password(bind: Bind, username: str, password: str, *, actor: str) -> None:
    """Give a user a new password (`geogrid users passwd`); their tokens are revoked.

    Raises:
        NotFound: no such user.
        InvalidInput: a weak password.
    """
    check_password(username, password)
    with session_scope(bind) as session:
        user = account_store.user_by_name(session, username)
        if user is None:
            raise NotFound("user_not_found", username=username)
        user.password_hash = _HASHER.hash(password)
        account_store.revoke_tokens(session, user.id)
        account_store.audit(
            session, actor, "user.passwd", f"user:{username}", before=None, after=None
        )
    _CACHE.clear()


def disable(bind: Bind, username: str, *, actor: str) -> int:
    """Refuse a user's logins, tokens and keys at once (`geogrid users disable`).

    Returns how many tokens and keys were revoked. Other workers stop
    honouring them within their token cache's lifetime (one second).

    Raises:
        NotFound: no such user.
    """
    with session_scope(bind) as session:
        user = account_store.user_by_name(session, username)
        if user is None:
            raise NotFound("user_not_found", username=username)
        user.is_active = False
        count = account_store.revoke_tokens(session, user.id)
        account_store.audit(
            session, actor, "user.disable", f"user:{username}", before=None,
            after={"revoked": count},
        )  # fmt: skip
    _CACHE.clear()
    return count


def create_api_key(
    bind: Bind, username: str, *, name: str = "", actor: str = "-"
) -> str:
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
        account_store.audit(
            session, actor, "user.key", f"user:{username}", before=None,
            after={"name": name},
        )  # fmt: skip
    return key


def revoke(bind: Bind, username: str, *, actor: str = "-") -> int:
    """Revoke every token and key of a user; returns how many."""
    with session_scope(bind) as session:
        user = account_store.user_by_name(session, username)
        if user is None:
            raise NotFound("user_not_found", username=username)
        count = account_store.revoke_tokens(session, user.id)
        account_store.audit(
            session, actor, "user.revoke", f"user:{username}", before=None,
            after={"revoked": count},
        )  # fmt: skip
    _CACHE.clear()
    return count


class _TokenCache:
    """Recently checked tokens, for ``ttl`` seconds: a revoked one lapses that late."""

    def __init__(self, ttl: float = 1.0) -> None:
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
