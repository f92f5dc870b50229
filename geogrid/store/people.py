"""People repository (人员与任职): role schemes, persons and their assignments."""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, insert, select, true, update
from sqlalchemy.orm import Session

from geogrid.store.areas import valid_at
from geogrid.store.frames import changed_rows, rows_frame
from geogrid.store.models import (
    Area,
    Assignment,
    Building,
    Lane,
    Person,
    RoleSchemeRow,
)


def save_scheme(
    session: Session, name: str, definition: dict[str, Any], *, activate: bool
) -> None:
    """Store (or replace) a role scheme; ``activate`` makes it the only active one."""
    row = session.scalar(select(RoleSchemeRow).where(RoleSchemeRow.name == name))
    if row is None:
        row = RoleSchemeRow(name=name, definition=definition, is_active=False)
        session.add(row)
    else:
        row.definition = definition
    if activate:
        session.execute(update(RoleSchemeRow).values(is_active=False))
        row.is_active = True
    session.flush()


def active_scheme(session: Session) -> dict[str, Any] | None:
    """The active scheme's definition, or None when none is stored."""
    return session.scalar(
        select(RoleSchemeRow.definition).where(RoleSchemeRow.is_active)
    )


def scheme_names(session: Session) -> list[tuple[str, bool]]:
    """Stored schemes as (name, is_active), by name."""
    rows = session.execute(
        select(RoleSchemeRow.name, RoleSchemeRow.is_active).order_by(RoleSchemeRow.name)
    )
    return [(name, bool(active)) for name, active in rows]


def stored_scheme(session: Session, name: str) -> dict[str, Any] | None:
    """A stored scheme's definition by name."""
    return session.scalar(
        select(RoleSchemeRow.definition).where(RoleSchemeRow.name == name)
    )


def existing_targets(session: Session, level: str, codes: Collection[str]) -> set[str]:
    """Which ``codes`` name a current target at ``level`` (an area level, building or lane)."""
    codes = list(codes)
    if level == "building":
        col, cond = Building.code, true()
    elif level == "lane":
        col, cond = Lane.code, true()
    else:
        col, cond = Area.code, (Area.level == level) & valid_at(Area, None)
    found: set[str] = set()
    for start in range(0, len(codes), 10_000):
        chunk = codes[start : start + 10_000]
        found.update(session.scalars(select(col).where(cond, col.in_(chunk))))
    return found


def upsert_persons(
    session: Session, persons: Sequence[dict[str, Any]]
) -> dict[str, int]:
    """Insert or update persons by code; returns code -> id."""
    codes = [p["code"] for p in persons]
    existing = {
        p.code: p for p in session.scalars(select(Person).where(Person.code.in_(codes)))
    }
    new = [p for p in persons if p["code"] not in existing]
    for p in persons:
        if p["code"] in existing:
            person = existing[p["code"]]
            if any(getattr(person, key) != value for key, value in p.items()):
                for key, value in p.items():
                    setattr(person, key, value)
                person.version += 1  # the API's ETag moves with an import too
    if new:
        session.execute(insert(Person), new)
    session.flush()
    rows = session.execute(select(Person.code, Person.id).where(Person.code.in_(codes)))
    return {code: person_id for code, person_id in rows}  # noqa: C416  # Row is not a 2-tuple for dict()


def current_assignments(
    session: Session, person_ids: Collection[int]
) -> list[Assignment]:
    """Current assignments of these persons."""
    return list(
        session.scalars(
            select(Assignment).where(
                Assignment.person_id.in_(list(person_ids)),
                Assignment.valid_to.is_(None),
            )
        )
    )


def last_target(session: Session, person_id: int) -> str | None:
    """The target of a person's most recent assignment, current or ended, or None."""
    return session.scalar(
        select(Assignment.target_code)
        .where(Assignment.person_id == person_id)
        .order_by(Assignment.valid_from.desc(), Assignment.id.desc())
        .limit(1)
    )


def end_assignments(session: Session, ids: Sequence[int], at: datetime) -> None:
    """End assignments at ``at``; they stay in the history."""
    if ids:
        session.execute(
            update(Assignment).where(Assignment.id.in_(list(ids))).values(valid_to=at)
        )


def add_assignments(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert assignments."""
    if rows:
        session.execute(insert(Assignment), list(rows))


def people_table(session: Session, *, as_of: datetime | None = None) -> pd.DataFrame:
    """Persons with their assignments valid at ``as_of``, one row per assignment."""
    stmt = (
        select(
            Person.code.label("person_code"),
            Person.name,
            Person.phone,
            Person.visibility,
            Person.organisation,
            Person.is_party_member,
            Person.employment,
            Assignment.scheme,
            Assignment.role,
            Assignment.target_level,
            Assignment.target_code,
            Assignment.valid_from,
            Assignment.valid_to,
        )
        .outerjoin(
            Assignment,
            (Assignment.person_id == Person.id) & valid_at(Assignment, as_of),
        )
        .order_by(Person.code, Assignment.role, Assignment.target_code)
    )
    result = session.execute(stmt)
    return rows_frame(result.all(), list(result.keys()))


def count_people(session: Session) -> tuple[int, int]:
    """How many persons and current assignments are stored."""
    persons = session.scalar(select(func.count()).select_from(Person)) or 0
    assignments = (
        session.scalar(
            select(func.count())
            .select_from(Assignment)
            .where(Assignment.valid_to.is_(None))
        )
        or 0
    )
    return int(persons), int(assignments)


PERSON_COLUMNS = (
    "code",
    "name",
    "phone",
    "organisation",
    "is_party_member",
    "employment",
    "visibility",
    "version",
)
ASSIGNMENT_COLUMNS = (
    "id",
    "scheme",
    "role",
    "target_level",
    "target_code",
    "valid_from",
    "valid_to",
    "version",
)


def person_record(session: Session, code: str) -> dict[str, Any] | None:
    """One person as a plain dict, with their current assignments, or None."""
    person = session.scalar(select(Person).where(Person.code == code))
    if person is None:
        return None
    record = {c: getattr(person, c) for c in PERSON_COLUMNS}
    record["assignments"] = [
        assignment_record(a) | {"person_code": code}
        for a in current_assignments(session, [person.id])
    ]
    return record


def assignment_record(assignment: Assignment) -> dict[str, Any]:
    """One assignment as a plain dict."""
    return {c: getattr(assignment, c) for c in ASSIGNMENT_COLUMNS}


def find_persons(
    session: Session, *, q: str | None, limit: int, offset: int
) -> list[str]:
    """Codes of persons whose code or name contains ``q``, in code order."""
    stmt = select(Person.code).order_by(Person.code).limit(limit).offset(offset)
    if q:
        stmt = stmt.where(Person.code.contains(q) | Person.name.contains(q))
    return list(session.scalars(stmt))


def update_person(
    session: Session, code: str, version: int, values: dict[str, Any]
) -> bool:
    """Change a person if still at ``version`` (one atomic UPDATE); False when stale."""
    return bool(
        changed_rows(
            session,
            update(Person)
            .where(Person.code == code, Person.version == version)
            .values(**values, version=version + 1),
        )
    )


def assignment_by_id(session: Session, assignment_id: int) -> Assignment | None:
    """One assignment row, or None."""
    return session.get(Assignment, assignment_id)


def person_code_of(session: Session, person_id: int) -> str:
    """The code of a person row."""
    return str(session.scalar(select(Person.code).where(Person.id == person_id)))


def person_id_of(session: Session, code: str) -> int | None:
    """The row id of a person code, or None."""
    return session.scalar(select(Person.id).where(Person.code == code))


def end_assignment(
    session: Session, assignment_id: int, version: int, at: datetime
) -> bool:
    """End an assignment if still current and at ``version``; False when stale."""
    return bool(
        changed_rows(
            session,
            update(Assignment)
            .where(
                Assignment.id == assignment_id,
                Assignment.version == version,
                Assignment.valid_to.is_(None),
            )
            .values(valid_to=at, version=version + 1),
        )
    )


def add_assignment(session: Session, values: dict[str, Any]) -> Assignment:
    """Insert one assignment and return it with its id."""
    assignment = Assignment(**values, version=1)
    session.add(assignment)
    session.flush()
    return assignment
