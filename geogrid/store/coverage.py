"""Coverage reports repository (检查报告): stored snapshots and accepted exceptions."""

import hashlib
from collections.abc import Collection
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

import geopandas as gpd

from geogrid.domain.findings import RULES
from geogrid.store.areas import valid_at
from geogrid.store.dialect import one_of
from geogrid.store.frames import (
    bookkeeping_paused,
    changed_rows,
    insert_rows,
    read_frame,
    rows_frame,
    wkb_of,
)
from geogrid.store.models import (
    Area,
    Building,
    CoverageFinding,
    CoverageReport,
    FindingException,
    Lane,
)

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
    """Store a report and its findings (EPSG:4326); returns the report id.

    Only the newest report of a scope is ever read back, so the findings of
    older ones are dropped (their counts and summary stay, as history), and
    the findings the last report already holds unchanged are handed over
    to this one instead of written again: on a city every run stored 217,000
    rows with their geometries, and the table grew by that much each time.
    """
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
    rows = _rows(report.id, findings)
    kept = _hand_over(session, scope, report.id, rows)
    fresh = ~rows["key"].isin(kept).to_numpy()
    # A finding drawn at its target keeps the target's code, not a copy of
    # its outline: report_findings puts the outline back.
    geoms = findings.geometry.to_numpy()[fresh]
    geoms[[RULES[rule].at_target for rule in rows["rule"][fresh]]] = None
    insert_rows(session, CoverageFinding, rows[fresh], geoms)
    return report.id


def _rows(report_id: int, findings: gpd.GeoDataFrame) -> pd.DataFrame:
    """The findings as rows to store, built column by column, with their digests.

    A frame, not a dict per finding: on a re-run most are handed over, and
    only the new ones are written.
    """
    columns = {f: findings[f].tolist() for f in FINDING_FIELDS}
    columns["codes"] = [list(c) for c in columns["codes"]]
    for f in ("parent_code", "community_code"):
        columns[f] = [v if isinstance(v, str) else None for v in columns[f]]
    columns["is_accepted"] = [bool(v) for v in columns["is_accepted"]]
    said = zip(
        *(columns[f] for f in _SAME),
        columns["geom_hash"],
        columns["measure"],
        strict=True,
    )
    # repr, not sorted JSON: four times cheaper, and a finding is built the
    # same way on every run. Different text only costs a rewrite.
    columns["digest"] = [
        hashlib.blake2b(repr(values).encode(), digest_size=16).hexdigest()
        for values in said
    ]
    return pd.DataFrame({"report_id": report_id, **columns})


_SAME = ("rule", "severity", "codes", "parent_code", "community_code", "is_accepted")
"""With the geometry hash and the measure: what makes a finding with the same key the same."""


def _hand_over(
    session: Session, scope: str, report_id: int, rows: pd.DataFrame
) -> set[str]:
    """Move the unchanged findings of the scope's last report to ``report_id``; their keys."""
    older = session.scalars(
        select(CoverageReport.id)
        .where(CoverageReport.scope == scope, CoverageReport.id < report_id)
        .order_by(CoverageReport.id.desc())
    ).all()
    if not older:
        return set()
    last = older[0]
    if len(older) > 1:  # from before reports handed over: never read again
        session.execute(
            delete(CoverageFinding).where(CoverageFinding.report_id.in_(older[1:]))
        )
    stored = dict(
        session.execute(
            select(CoverageFinding.key, CoverageFinding.digest).where(
                CoverageFinding.report_id == last
            )
        ).all()
    )
    kept = {
        key
        for key, digest in zip(
            rows["key"].tolist(), rows["digest"].tolist(), strict=True
        )
        if stored.get(key) == digest
    }
    gone = [k for k in stored if k not in kept]
    table = CoverageFinding.__tablename__
    with bookkeeping_paused(session.connection(), table, len(stored)):
        if gone:
            session.execute(
                delete(CoverageFinding).where(
                    CoverageFinding.report_id == last,
                    one_of(session, CoverageFinding.key, gone),
                )
            )
        session.execute(
            update(CoverageFinding)
            .where(CoverageFinding.report_id == last)
            .values(report_id=report_id)
        )
    return kept


def report_keys(session: Session, report_id: int) -> set[str]:
    """The keys of a stored report's findings, without reading the findings."""
    return set(
        session.scalars(
            select(CoverageFinding.key).where(CoverageFinding.report_id == report_id)
        )
    )


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
    """The findings of a stored report, those drawn at a target at its outline."""
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
    placed = frame["rule"].map(lambda r: RULES[r].at_target) & frame["codes"].map(bool)
    if placed.any():
        firsts = frame.loc[placed, "codes"].map(lambda codes: codes[0])
        where = target_outlines(session, set(firsts))
        frame.loc[placed, "geometry"] = firsts.map(where).to_numpy()
    return frame


def target_outlines(session: Session, codes: Collection[str]) -> dict[str, Any]:
    """The outline of each code: a current area, else a building, else a lane.

    The same order as the check uses to place a finding at its first code.
    """
    where: dict[str, Any] = {}
    for model in (Lane, Building, Area):
        stmt = select(model.code, wkb_of(model.geom)).where(
            one_of(session, model.code, list(codes))
        )
        if model is Area:
            stmt = stmt.where(valid_at(Area, None))
        found = read_frame(session, stmt)
        where.update(zip(found["code"], found.geometry, strict=True))
    return where


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
    return rows_frame(result.all(), list(result.keys()))


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
