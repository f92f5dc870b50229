"""People repository (人员与任职): role schemes, persons and their assignments."""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from geogrid.store.areas import valid_at
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


def stored_scheme(session: Session, name: str) -> dict[str, Any] | None:
    """A stored scheme's definition by name."""
    return session.scalar(
        select(RoleSchemeRow.definition).where(RoleSchemeRow.name == name)
    )


def existing_targets(session: Session, level: str, codes: Collection[str]) -> set[str]:
    """Which ``codes`` name a current target at ``level`` (an area level, building or lane)."""
    codes = list(codes)
    if level == "building":
        col, cond = Building.code, True
    elif level == "lane":
        col, cond = Lane.code, True
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
            for key, value in p.items():
                setattr(existing[p["code"]], key, value)
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
    return pd.DataFrame(result.all(), columns=list(result.keys()))


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
