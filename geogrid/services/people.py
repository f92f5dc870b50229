"""People and role schemes (人员与角色方案): import lists of role-holders, store schemes.

A people file has one row per assignment (任职); a person holding several
roles repeats with the same attributes. The file is the truth for the people
it lists: their current assignments not in the file are ended, the same
assignment again is kept, new ones are added.
"""

from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from sqlalchemy.orm import Session

from geogrid.domain.roles import RoleScheme, load_preset, scheme_from_mapping
from geogrid.errors import ImportRejected, InvalidInput
from geogrid.io.readers import read_table
from geogrid.io.report import ImportReport
from geogrid.messages import level_name
from geogrid.services.import_checks import check_lengths
from geogrid.store import people as people_store
from geogrid.store.batches import record_batch, utcnow
from geogrid.store.engine import Bind, session_scope
from geogrid.store.models import Assignment, Person

REQUIRED_COLUMNS = ("person_code", "name", "role", "target_code")
PERSON_FIELDS = (
    "name",
    "phone",
    "organisation",
    "is_party_member",
    "employment",
    "phone_public",
)
_TRUE = {"true", "1", "yes", "y", "是", "t"}
_FALSE = {"false", "0", "no", "n", "否", "f", ""}
EMPLOYMENT = {"full_time", "part_time", "专职", "兼职", ""}


def read_scheme_file(path: Path) -> RoleScheme:
    """Read a user's role scheme (YAML or JSON) and validate it.

    Raises:
        InvalidInput: unreadable file or invalid scheme (``scheme_invalid``).
    """
    if not path.exists():
        raise InvalidInput("file_not_found", path=str(path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidInput("file_unreadable", path=str(path), reason=str(exc)) from exc
    return scheme_from_mapping(data if isinstance(data, dict) else {}, source=path.name)


def save_scheme(bind: Bind, scheme: RoleScheme, *, activate: bool = True) -> None:
    """Store a role scheme (a preset or a user's file) and optionally make it active."""
    with session_scope(bind) as session:
        people_store.save_scheme(
            session, scheme.name, scheme.model_dump(mode="json"), activate=activate
        )
        record_batch(session, "scheme", scheme.name)


def active_scheme(session: Session, *, default: str) -> RoleScheme:
    """The stored active scheme, or the preset ``default`` when none is stored."""
    data = people_store.active_scheme(session)
    return (
        scheme_from_mapping(data, source="database") if data else load_preset(default)
    )


def _scheme_named(session: Session, name: str) -> RoleScheme:
    data = people_store.stored_scheme(session, name)
    return scheme_from_mapping(data, source="database") if data else load_preset(name)


def _flag(value: str, field: str, record: str, report: ImportReport) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v not in _FALSE:
        report.add(record, "value_invalid", field=field, value=value)
    return False


def _date(value: str, record: str, report: ImportReport) -> datetime | None:
    if not value.strip():
        return None
    try:
        return datetime.combine(date.fromisoformat(value.strip()), datetime.min.time())
    except ValueError:
        report.add(record, "date_invalid", value=value)
        return None


def import_people(
    bind: Bind,
    path: Path,
    *,
    scheme_name: str | None,
    default_scheme: str,
    encoding: str | None = None,
    author: str | None = None,
) -> ImportReport:
    """Import persons (人员) and their assignments (任职) from a CSV table.

    ``author`` (who imports it) is written to the audit log with the batch.

    Raises:
        ImportRejected: any row has an error; nothing was written.
    """
    table = read_table(path, encoding=encoding)
    report = ImportReport(kind="assignments", source=str(path), n_read=len(table))
    if table.empty:
        raise InvalidInput("layer_empty", path=str(path))
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        raise InvalidInput(
            "field_missing",
            field=", ".join(missing),
            available=", ".join(table.columns),
        )
    for col in (*PERSON_FIELDS, "target_level", "valid_from", "valid_to"):
        if col not in table.columns:
            table[col] = ""
    table = table.fillna("").astype(str).apply(lambda c: c.str.strip())
    ids = [f"#{i + 1} {code}" for i, code in enumerate(table["person_code"])]
    now = utcnow()
    with session_scope(bind) as session:
        scheme = (
            _scheme_named(session, scheme_name)
            if scheme_name
            else active_scheme(session, default=default_scheme)
        )
        persons = _persons(table, ids, report)
        check_lengths({"code": table["person_code"], **table}, Person, ids, report)
        check_lengths(table, Assignment, ids, report)
        assignments = _assignments(session, table, ids, scheme, report, now)
        if not report.is_ok:
            raise ImportRejected(report)
        batch_id = record_batch(
            session, "people", str(path), n=len(table), actor=author
        )
        for p in persons:
            p["batch_id"] = batch_id
        person_ids = people_store.upsert_persons(session, persons)
        report.counts = _write_assignments(
            session, assignments, person_ids, batch_id, now
        )
        people_store.save_scheme(
            session,
            scheme.name,
            scheme.model_dump(mode="json"),
            activate=people_store.active_scheme(session) is None,
        )
    report.n_written = len(table)
    return report


def _persons(
    table: pd.DataFrame, ids: list[str], report: ImportReport
) -> list[dict[str, Any]]:
    """One record per person code; rows of the same person must agree."""
    first: dict[str, int] = {}
    for i, code in enumerate(table["person_code"]):
        if not code:
            report.add(ids[i], "code_missing")
            continue
        if not table["name"].iat[i]:
            report.add(ids[i], "value_invalid", field="name", value="")
        if table["employment"].iat[i] not in EMPLOYMENT:
            report.add(
                ids[i],
                "value_invalid",
                field="employment",
                value=table["employment"].iat[i],
            )
        if code in first:
            j = first[code]
            for field in PERSON_FIELDS:
                a, b = table[field].iat[j], table[field].iat[i]
                if a != b:
                    report.add(
                        ids[i],
                        "person_conflict",
                        person_code=code,
                        field=field,
                        first=a,
                        second=b,
                    )
        else:
            first[code] = i
    persons = []
    for code, i in first.items():
        row = table.iloc[i]
        is_public = _flag(row["phone_public"], "phone_public", ids[i], report)
        persons.append(
            {
                "code": code,
                "name": row["name"],
                "phone": row["phone"],
                "organisation": row["organisation"],
                "is_party_member": _flag(
                    row["is_party_member"], "is_party_member", ids[i], report
                ),
                "employment": row["employment"],
                "visibility": {
                    "name": "public",
                    "organisation": "public",
                    "phone": "public" if is_public else "private",
                },
            }
        )
    return persons


def _assignments(
    session: Session,
    table: pd.DataFrame,
    ids: list[str],
    scheme: RoleScheme,
    report: ImportReport,
    now: datetime,
) -> list[dict[str, Any]]:
    """Check each row's role against the scheme and its target against the store."""
    rows: list[dict[str, Any]] = []
    wanted: dict[str, set[str]] = {}
    for i, row in enumerate(table.itertuples(index=False)):
        if row.role not in scheme.keys:
            report.add(
                ids[i],
                "role_unknown",
                role=row.role,
                scheme=scheme.name,
                available="、".join(scheme.keys),
            )
            continue
        role = scheme.role(row.role)
        level = row.target_level or role.attaches_to
        if level != role.attaches_to:
            report.add(
                ids[i],
                "target_level_wrong",
                role=role.title,
                expected=level_name(role.attaches_to),
                actual=level_name(level),
            )
            continue
        valid_from = _date(row.valid_from, ids[i], report) or now
        valid_to = _date(row.valid_to, ids[i], report)
        wanted.setdefault(level, set()).add(row.target_code)
        rows.append(
            {
                "row": i,
                "person_code": row.person_code,
                "scheme": scheme.name,
                "role": row.role,
                "target_level": level,
                "target_code": row.target_code,
                "valid_from": valid_from,
                "valid_to": valid_to,
            }
        )
    existing = {
        level: people_store.existing_targets(session, level, codes)
        for level, codes in wanted.items()
    }
    for r in rows:
        if r["target_code"] not in existing[r["target_level"]]:
            report.add(ids[r["row"]], "target_unknown", target_code=r["target_code"])
    return rows


def _write_assignments(
    session: Session,
    rows: list[dict[str, Any]],
    person_ids: dict[str, int],
    batch_id: int,
    now: datetime,
) -> dict[str, int]:
    """End what the file no longer lists, keep what is unchanged, add the rest."""
    current = people_store.current_assignments(session, person_ids.values())

    def key(
        person_id: int, scheme: str, role: str, level: str, target: str
    ) -> tuple[Any, ...]:
        return (person_id, scheme, role, level, target)

    old = {
        key(a.person_id, a.scheme, a.role, a.target_level, a.target_code): a
        for a in current
    }
    new_rows, kept = [], set()
    for r in rows:
        k = key(
            person_ids[r["person_code"]],
            r["scheme"],
            r["role"],
            r["target_level"],
            r["target_code"],
        )
        if k in old and r["valid_to"] is None:
            kept.add(k)
            continue
        new_rows.append(
            {
                "person_id": k[0],
                "scheme": r["scheme"],
                "role": r["role"],
                "target_level": r["target_level"],
                "target_code": r["target_code"],
                "valid_from": r["valid_from"],
                "valid_to": r["valid_to"],
                "batch_id": batch_id,
            }
        )
    ended = [a.id for k, a in old.items() if k not in kept]
    people_store.end_assignments(session, ended, now)
    people_store.add_assignments(session, new_rows)
    return {
        "inserted": len(new_rows),
        "unchanged": len(kept),
        "ended": len(ended),
        "persons": len(person_ids),
    }


def people_export_table(bind: Bind) -> pd.DataFrame:
    """Current persons and assignments as the same columns the import reads."""
    with session_scope(bind) as session:
        table = people_store.people_table(session)
    table["phone_public"] = table.pop("visibility").map(
        lambda v: "true" if (v or {}).get("phone") == "public" else "false"
    )
    table["is_party_member"] = table["is_party_member"].map(
        lambda v: "true" if v else "false"
    )
    for col in ("valid_from", "valid_to"):
        table[col] = table[col].map(
            lambda v: v.date().isoformat() if isinstance(v, datetime) else ""
        )
    table = table.replace({np.nan: ""})
    columns = [
        "person_code",
        "name",
        "phone",
        "phone_public",
        "organisation",
        "is_party_member",
        "employment",
        "role",
        "target_level",
        "target_code",
        "valid_from",
        "valid_to",
    ]
    return table[columns].fillna("")
