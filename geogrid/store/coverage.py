"""Coverage reports repository (检查报告): stored snapshots and accepted exceptions."""

from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

import geopandas as gpd

from geogrid.store.frames import changed_rows, insert_rows, read_frame, wkb_of
from geogrid.store.models import CoverageFinding, CoverageReport, FindingException

FINDING_FIELDS = (
    "rule",
    "severity",
    "key",
    "codes",
    "parent_code",
    "community_code",
    "measure",
    "is_accepted",
    "geom_hash",
)


def save_report(
    session: Session,
    *,
    created_at: datetime,
    scope: str,
    data_version: int,
    summary: dict[str, Any],
    findings: gpd.GeoDataFrame,
) -> int:
    """Store a report and its findings (EPSG:4326); returns the report id."""
    accepted = findings["is_accepted"].astype(bool)
    report = CoverageReport(
        created_at=created_at,
        scope=scope,
        data_version=data_version,
        n_errors=int(((findings["severity"] == "error") & ~accepted).sum()),
        n_warnings=int(((findings["severity"] == "warning") & ~accepted).sum()),
        n_accepted=int(accepted.sum()),
        summary=summary,
    )
    session.add(report)
    session.flush()
    rows = [
        {"report_id": report.id, **{f: _plain(row[f]) for f in FINDING_FIELDS}}
        for row in findings[list(FINDING_FIELDS)].to_dict("records")
    ]
    insert_rows(session, CoverageFinding, rows, findings.geometry.to_numpy())
    return report.id


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "item"):
        return value.item()
    return value


def report_row(
    session: Session, *, report_id: int | None = None, scope: str | None = None
) -> CoverageReport | None:
    """A stored report by id, or the newest one of a scope."""
    stmt = select(CoverageReport)
    if report_id is not None:
        stmt = stmt.where(CoverageReport.id == report_id)
    if scope is not None:
        stmt = stmt.where(CoverageReport.scope == scope)
    return session.scalars(stmt.order_by(CoverageReport.id.desc()).limit(1)).first()


def report_findings(session: Session, report_id: int) -> gpd.GeoDataFrame:
    """The findings of a stored report."""
    stmt = (
        select(
            *(getattr(CoverageFinding, f) for f in FINDING_FIELDS),
            wkb_of(CoverageFinding.geom),
        )
        .where(CoverageFinding.report_id == report_id)
        .order_by(CoverageFinding.id)
    )
    frame = read_frame(session, stmt)
    frame["codes"] = frame["codes"].map(tuple)
    return frame


def exceptions(session: Session) -> pd.DataFrame:
    """Every accepted exception: key, rule, reason, accepted_by, geom_hash, created_at."""
    result = session.execute(
        select(
            FindingException.key,
            FindingException.rule,
            FindingException.reason,
            FindingException.accepted_by,
            FindingException.geom_hash,
            FindingException.created_at,
        ).order_by(FindingException.key)
    )
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def accept(
    session: Session,
    *,
    key: str,
    rule: str,
    reason: str,
    accepted_by: str,
    geom_hash: str,
    at: datetime,
) -> None:
    """Accept a finding (or renew the acceptance for its current geometry)."""
    session.execute(delete(FindingException).where(FindingException.key == key))
    session.add(
        FindingException(
            key=key,
            rule=rule,
            reason=reason,
            accepted_by=accepted_by,
            geom_hash=geom_hash,
            created_at=at,
        )
    )


def revoke(session: Session, key: str) -> int:
    """Withdraw an acceptance; returns how many were removed."""
    return changed_rows(
        session, delete(FindingException).where(FindingException.key == key)
    )
