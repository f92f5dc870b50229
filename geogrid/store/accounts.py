"""Repository of logins, tokens and the audit log (账号、令牌、审计)."""

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from geogrid.store.batches import utcnow
from geogrid.store.frames import changed_rows
from geogrid.store.models import ApiToken, AuditEntry, User


def user_by_name(session: Session, username: str) -> User | None:
    """The user called ``username``, active or not."""
    return session.scalar(select(User).where(User.username == username))


def add_user(
    session: Session, username: str, password_hash: str, role: str, street: str
) -> User:
    """Store a new user."""
    user = User(
        username=username,
        password_hash=password_hash,
        role=role,
        street_code=street,
        is_active=True,
        created_at=utcnow(),
    )
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    """Every user, by name."""
    return list(session.scalars(select(User).order_by(User.username)))


def add_token(
    session: Session,
    user_id: int,
    token_hash: str,
    *,
    kind: str,
    name: str = "",
    expires_at: datetime | None = None,
) -> None:
    """Store a token's hash (never the token itself)."""
    session.add(
        ApiToken(
            user_id=user_id,
            kind=kind,
            name=name,
            token_hash=token_hash,
            created_at=utcnow(),
            expires_at=expires_at,
            revoked=False,
        )
    )


def token_owner(session: Session, token_hash: str, now: datetime) -> User | None:
    """The active user holding a valid, unrevoked token with this hash."""
    return session.scalar(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == token_hash,
            ApiToken.revoked.is_(False),
            (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now),
            User.is_active.is_(True),
        )
    )


def revoke_tokens(session: Session, user_id: int, *, kind: str | None = None) -> int:
    """Revoke a user's tokens (of one kind, or all); returns how many."""
    stmt = update(ApiToken).where(
        ApiToken.user_id == user_id, ApiToken.revoked.is_(False)
    )
    if kind is not None:
        stmt = stmt.where(ApiToken.kind == kind)
    return changed_rows(session, stmt.values(revoked=True))


def audit(
    session: Session,
    actor: str,
    action: str,
    target: str,
    *,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Record one change in the audit log, in the same transaction as the change."""
    session.add(
        AuditEntry(
            at=utcnow(),
            actor=actor,
            action=action,
            target=target,
            before=before,
            after=after,
        )
    )


def audit_entries(
    session: Session, *, target: str | None = None, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """Audit entries, newest first, optionally for one target."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    if target is not None:
        # "P00148" finds "person:P00148": staff know the code, not our prefixes.
        stmt = stmt.where(
            (AuditEntry.target == target)
            | AuditEntry.target.endswith(f":{target}", autoescape=True)
        )
    return [
        {
            "id": e.id,
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "target": e.target,
            "before": e.before,
            "after": e.after,
        }
        for e in session.scalars(stmt)
    ]


def failures_since(
    session: Session, target: str, since: datetime
) -> tuple[int, datetime | None]:
    """Failed logins logged for ``target`` since ``since`` or its last success.

    Returns how many and when the last one was. Logins are audited like any
    change, so every worker sees the same count.
    """
    last_ok = session.scalar(
        select(func.max(AuditEntry.at)).where(
            AuditEntry.target == target, AuditEntry.action == "login.ok"
        )
    )
    start = max(since, last_ok) if last_ok is not None else since
    n, last = session.execute(
        select(func.count(), func.max(AuditEntry.at)).where(
            AuditEntry.target == target,
            AuditEntry.action == "login.failed",
            AuditEntry.at > start,
        )
    ).one()
    return int(n), last
