"""Import batches (导入批次): where each write came from; their ids version the data."""

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geogrid.store.models import AuditEntry, ImportBatch


def utcnow() -> datetime:
    """Now in UTC, naive, as stored (both backends keep naive timestamps)."""
    return datetime.now(UTC).replace(tzinfo=None)


def record_batch(
    session: Session,
    kind: str,
    source: str,
    *,
    crs: str = "",
    n: int = 0,
    actor: str | None = None,
) -> int:
    """Record one write (an import, an assignment run, a scheme change); returns its id.

    With ``actor`` (who imported the file) the write is audited as well, in
    the same transaction: ``import.<kind>`` on ``batch:<id>``.
    """
    batch = ImportBatch(
        kind=kind, source=source, source_crs=crs, n_records=n, created_at=utcnow()
    )
    session.add(batch)
    session.flush()
    if actor is not None:
        session.add(
            AuditEntry(
                at=batch.created_at,
                actor=actor,
                action=f"import.{kind}"[:40],
                target=f"batch:{batch.id}",
                before=None,
                after={"source": source[-200:], "records": n, "crs": crs},
            )
        )
    return batch.id


def data_version(session: Session) -> int:
    """A number that grows with every write (the newest batch id)."""
    return int(session.scalar(select(func.max(ImportBatch.id))) or 0)


def data_stamp(session: Session) -> str:
    """The newest batch's id and time: names this data even across a recreated database.

    An id alone repeats when a database is made again from scratch; a cached
    snapshot keyed by it would answer with the old data.
    """
    newest = session.execute(
        select(ImportBatch.id, ImportBatch.created_at)
        .order_by(ImportBatch.id.desc())
        .limit(1)
    ).first()
    return f"{newest.id}@{newest.created_at.isoformat()}" if newest else "0"
