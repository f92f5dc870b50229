"""Editing the roster (花名册): people and their assignments, safely, with an audit trail.

Every record carries a version; a change names the version it was based on
(HTTP If-Match) and is refused when someone changed the record first, in one
atomic UPDATE, so two editors never overwrite each other silently. Every
change is written to the audit log in the same transaction, and records a
batch so lookups and coverage checks see it at once.

Staff edit and see people of their own street only: a person belongs to the
streets of their current assignments. Admins see everyone.
"""

from datetime import datetime
from typing import Any

import pandas as pd

from geogrid.domain.access import Caller, Role
from geogrid.domain.answers import (
    AssignmentPage,
    AssignmentRecord,
    AssignmentRow,
    AuditRecord,
    PeoplePage,
    PersonRecord,
    SchemeInfo,
)
from geogrid.domain.roles import (
    RoleScheme,
    load_preset,
    preset_names,
    scheme_from_mapping,
)
from geogrid.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
)
from geogrid.messages import level_name
from geogrid.services.people import EMPLOYMENT, active_scheme
from geogrid.store import accounts as account_store
from geogrid.store import people as people_store
from geogrid.store.batches import record_batch, utcnow
from geogrid.store.engine import Bind, session_scope

EDITABLE = ("name", "phone", "organisation", "is_party_member", "employment")


def list_people(
    bind: Bind,
    caller: Caller,
    *,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> PeoplePage:
    """People the caller may see, with their current assignments, a page at a time."""
    with session_scope(bind) as session:
        table = people_store.people_table(session)
    visible = _visible_codes(table, caller)
    table = table[table["person_code"].isin(visible)]
    if q:
        table = table[
            table["person_code"].str.contains(q, regex=False)
            | table["name"].str.contains(q, regex=False)
        ]
    codes = sorted(set(table["person_code"]))
    page = codes[offset : offset + limit]
    records = []
    with session_scope(bind) as session:
        for code in page:
            record = people_store.person_record(session, code)
            if record is not None:
                records.append(_out(record))
    return PeoplePage(number_matched=len(codes), items=records)


def get_person(bind: Bind, caller: Caller, code: str) -> PersonRecord:
    """One person with their current assignments and version.

    Raises:
        NotFound: no such person, or one outside the caller's street (never 403:
            a staff member learns nothing of other streets' people).
    """
    with session_scope(bind) as session:
        record = people_store.person_record(session, code)
    if record is None or not _may_see(record, caller):
        raise NotFound("person_not_found", code=code)
    return _out(record)


def create_person(bind: Bind, caller: Caller, values: dict[str, Any]) -> PersonRecord:
    """Add a person (新增人员); they appear to staff once given an assignment.

    Raises:
        InvalidInput: a taken code or a bad field.
    """
    code = values["code"]
    fields = _person_fields(values)
    with session_scope(bind, write=True) as session:
        if people_store.person_id_of(session, code) is not None:
            raise InvalidInput("person_exists", code=code)
        people_store.upsert_persons(session, [{"code": code} | fields])
        record = people_store.person_record(session, code)
        assert record is not None  # just written in this transaction
        _audited(
            session,
            caller,
            "person.create",
            f"person:{code}",
            before=None,
            after=_plain(record),
        )
    return _out(record)


def update_person(
    bind: Bind, caller: Caller, code: str, version: int | None, changes: dict[str, Any]
) -> PersonRecord:
    """Change a person's fields if nobody changed them since ``version``.

    Raises:
        NotFound: no such person (or not the caller's).
        Conflict: stale version (412); nothing is changed.
    """
    with session_scope(bind, write=True) as session:
        before = people_store.person_record(session, code)
        if before is None or not _may_see(before, caller):
            raise NotFound("person_not_found", code=code)
        _check_owns(session, before, caller)
        base = before["version"] if version is None else version
        fields = _person_fields(before | changes)
        if not people_store.update_person(session, code, base, fields):
            raise Conflict(
                "version_conflict",
                what=f"person {code}",
                current=before["version"],
                given=base,
            )
        after = people_store.person_record(session, code)
        assert after is not None
        _audited(
            session,
            caller,
            "person.update",
            f"person:{code}",
            before=_plain(before),
            after=_plain(after),
        )
    return _out(after)


def add_assignment(
    bind: Bind, caller: Caller, values: dict[str, Any]
) -> AssignmentRecord:
    """Give a person a role on a target (任职), checked against the active scheme.

    Raises:
        NotFound: unknown person or target.
        InvalidInput: a role the scheme lacks, or the wrong target level.
        Forbidden: staff assigning outside their street.
    """
    with session_scope(bind, write=True) as session:
        scheme = active_scheme(session, default="三长三员一民警")
        role_key, target = values["role"], values["target_code"]
        if role_key not in scheme.keys:
            raise InvalidInput(
                "role_unknown",
                role=role_key,
                scheme=scheme.name,
                available="、".join(scheme.keys),
            )
        role = scheme.role(role_key)
        level = values.get("target_level") or role.attaches_to
        if level != role.attaches_to:
            raise InvalidInput(
                "target_level_wrong",
                role=role.title,
                expected=level_name(role.attaches_to),
                actual=level_name(level),
            )
        if target not in people_store.existing_targets(session, level, [target]):
            raise NotFound("target_unknown", target_code=target)
        if caller.view_of(target).is_public:
            raise Forbidden(
                "forbidden", what=f"{target}", role="本街道工作人员 staff of its street"
            )
        person = people_store.person_record(session, values["person_code"])
        if person is None:
            raise NotFound("person_not_found", code=values["person_code"])
        _check_owns(session, person, caller)
        person_id = people_store.person_id_of(session, values["person_code"])
        assignment = people_store.add_assignment(
            session,
            {
                "person_id": person_id,
                "scheme": scheme.name,
                "role": role_key,
                "target_level": level,
                "target_code": target,
                "valid_from": values.get("valid_from") or utcnow(),
                "valid_to": None,
            },
        )
        record = people_store.assignment_record(assignment) | {
            "person_code": values["person_code"]
        }
        _audited(
            session,
            caller,
            "assignment.create",
            f"assignment:{assignment.id}",
            before=None,
            after=_plain(record),
        )
    return _assignment_out(record)


def get_assignment(bind: Bind, caller: Caller, assignment_id: int) -> AssignmentRecord:
    """One assignment (current or ended) the caller may see.

    Raises:
        NotFound: no such assignment, or not in the caller's street.
    """
    with session_scope(bind) as session:
        found = people_store.assignment_by_id(session, assignment_id)
        if found is None or caller.view_of(found.target_code).is_public:
            raise NotFound("assignment_not_found", id=assignment_id)
        record = people_store.assignment_record(found) | {
            "person_code": people_store.person_code_of(session, found.person_id)
        }
    return _assignment_out(record)


def end_assignment(
    bind: Bind,
    caller: Caller,
    assignment_id: int,
    version: int | None,
    *,
    at: datetime | None = None,
) -> AssignmentRecord:
    """End an assignment (卸任) if nobody changed it since ``version``; it stays in history.

    Raises:
        NotFound: no such assignment (or not the caller's).
        Conflict: stale version, or already ended (412).
    """
    with session_scope(bind, write=True) as session:
        found = people_store.assignment_by_id(session, assignment_id)
        if found is None or caller.view_of(found.target_code).is_public:
            raise NotFound("assignment_not_found", id=assignment_id)
        before = people_store.assignment_record(found) | {
            "person_code": people_store.person_code_of(session, found.person_id)
        }
        base = found.version if version is None else version
        when = at or utcnow()
        if found.valid_to is not None or not people_store.end_assignment(
            session, assignment_id, base, when
        ):
            raise Conflict(
                "version_conflict",
                what=f"assignment {assignment_id}",
                current=found.version,
                given=base,
            )
        session.expire(found)
        after = people_store.assignment_record(found) | {
            "person_code": before["person_code"]
        }
        _audited(
            session,
            caller,
            "assignment.end",
            f"assignment:{assignment_id}",
            before=_plain(before),
            after=_plain(after),
        )
    return _assignment_out(after)


def change_assignment(
    bind: Bind,
    caller: Caller,
    assignment_id: int,
    version: int | None,
    changes: dict[str, Any],
) -> AssignmentRecord:
    """Move an assignment to another role or target: the old one ends, a new one starts.

    History stays true ("who was 楼栋长 on 1 May" still answers), and both steps
    are one transaction.
    """
    current = get_assignment(bind, caller, assignment_id)
    values = {
        "person_code": current.person_code,
        "role": changes.get("role") or current.role,
        "target_level": changes.get("target_level") or current.target_level,
        "target_code": changes.get("target_code") or current.target_code,
    }
    with session_scope(bind, write=True) as session:
        # Both writes join this unit of work: a refused new target ends nothing.
        connection = session.connection()
        end_assignment(connection, caller, assignment_id, version)
        return add_assignment(connection, caller, values)


def list_assignments(
    bind: Bind,
    caller: Caller,
    *,
    target_code: str | None = None,
    person_code: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> AssignmentPage:
    """Current assignments the caller may see, by target or person."""
    with session_scope(bind) as session:
        table = people_store.people_table(session)
    table = table[table["target_code"].notna()]
    if target_code:
        table = table[table["target_code"] == target_code]
    if person_code:
        table = table[table["person_code"] == person_code]
    rows = [
        r
        for r in table.to_dict("records")
        if not caller.view_of(r["target_code"]).is_public
    ]
    keys = ("person_code", "name", "scheme", "role", "target_level", "target_code")
    return AssignmentPage(
        number_matched=len(rows),
        items=[
            AssignmentRow.model_validate(
                {k: r[k] for k in keys} | {"valid_from": r["valid_from"]}
            )
            for r in rows[offset : offset + limit]
        ],
    )


def schemes(bind: Bind) -> list[SchemeInfo]:
    """Stored role schemes (and the presets), marking the active one."""
    stored = stored_names(bind)
    names = {name for name, _ in stored}
    listed = [SchemeInfo(name=n, active=a, stored=True) for n, a in stored]
    return listed + [
        SchemeInfo(name=n, active=False, stored=False)
        for n in preset_names()
        if n not in names
    ]


def scheme(bind: Bind, name: str) -> RoleScheme:
    """One scheme's definition (public: titles and duties are what a 公示牌 posts).

    Raises:
        NotFound: neither stored nor a preset.
    """
    with session_scope(bind) as session:
        data = people_store.stored_scheme(session, name)
    if data is not None:
        return scheme_from_mapping(data, source="database")
    if name in preset_names():
        return load_preset(name)
    raise NotFound(
        "scheme_not_found",
        name=name,
        available="、".join([n for n, _ in stored_names(bind)] + preset_names()),
    )


def stored_names(bind: Bind) -> list[tuple[str, bool]]:
    """Names of stored schemes with their active flag."""
    with session_scope(bind) as session:
        return people_store.scheme_names(session)


def put_scheme(
    bind: Bind, caller: Caller, definition: dict[str, Any], *, activate: bool
) -> RoleScheme:
    """Store a scheme from its definition (admins), audited.

    Raises:
        InvalidInput: an invalid scheme (``scheme_invalid`` names the problem).
    """
    parsed = scheme_from_mapping(definition, source="API")
    with session_scope(bind) as session:
        before = people_store.stored_scheme(session, parsed.name)
        people_store.save_scheme(
            session, parsed.name, parsed.model_dump(mode="json"), activate=activate
        )
        account_store.audit(
            session, caller.username, "scheme.put", f"scheme:{parsed.name}",
            before=before, after=parsed.model_dump(mode="json") | {"activated": activate},
        )  # fmt: skip
        record_batch(session, "scheme", parsed.name)
    return parsed


def audit_log(
    bind: Bind, *, target: str | None = None, limit: int = 100, offset: int = 0
) -> list[AuditRecord]:
    """The audit log, newest first (admins)."""
    with session_scope(bind) as session:
        entries = account_store.audit_entries(
            session, target=target, limit=limit, offset=offset
        )
    return [AuditRecord.model_validate(e) for e in entries]


def _audited(
    session: Any,
    caller: Caller,
    action: str,
    target: str,
    *,
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> None:
    """Log a change and record a batch, in the change's own transaction."""
    account_store.audit(
        session, caller.username, action, target, before=before, after=after
    )
    record_batch(session, "edit", target)


def _visible_codes(table: pd.DataFrame, caller: Caller) -> set[str]:
    if caller.role is Role.ADMIN:
        return set(table["person_code"])
    current = table[table["target_code"].notna()]
    return {
        code
        for code, target in zip(
            current["person_code"], current["target_code"], strict=True
        )
        if not caller.view_of(target).is_public
    }


def _check_owns(session: Any, record: dict[str, Any], caller: Caller) -> None:
    """Refuse a change to a person who is not wholly the caller's (本街道人员).

    A person belongs to the streets of their current assignments. Staff may
    change a person, or give them a new role, only when every current
    assignment lies in their own street; a person with none only when their
    last assignment did, or when they never held one (just added). Anyone
    else is placed or changed by an admin, so one street's account can never
    claim, read or rewrite another street's people.

    Raises:
        Forbidden: ``person_other_street`` naming the person.
    """
    if caller.role is Role.ADMIN:
        return
    current = [a["target_code"] for a in record["assignments"]]
    if not current:
        person_id = people_store.person_id_of(session, record["code"])
        last = people_store.last_target(session, person_id) if person_id else None
        current = [last] if last else []
    if any(caller.view_of(target).is_public for target in current):
        raise Forbidden("person_other_street", code=record["code"])


def _may_see(record: dict[str, Any], caller: Caller) -> bool:
    if caller.role is Role.ADMIN:
        return True
    return any(
        not caller.view_of(a["target_code"]).is_public for a in record["assignments"]
    )


def _person_fields(values: dict[str, Any]) -> dict[str, Any]:
    """Checked stored fields of a person from API values."""
    fields = {
        k: values.get(k, "" if k != "is_party_member" else False) for k in EDITABLE
    }
    if not str(fields["name"]).strip():
        raise InvalidInput("value_invalid", field="name", value="")
    if fields["employment"] not in EMPLOYMENT:
        raise InvalidInput(
            "value_invalid", field="employment", value=fields["employment"]
        )
    visibility = dict(
        values.get("visibility") or {"name": "public", "organisation": "public"}
    )
    if "phone_public" in values:
        visibility["phone"] = "public" if values["phone_public"] else "private"
    visibility.setdefault("phone", "private")
    fields["visibility"] = visibility
    return fields


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    """A record as JSON-ready values (dates as ISO text), for the audit log."""
    return {
        k: (
            v.isoformat()
            if isinstance(v, datetime)
            else [_plain(i) for i in v]
            if isinstance(v, list)
            else v
        )
        for k, v in record.items()
    }


def _out(record: dict[str, Any]) -> PersonRecord:
    fields = dict(record)
    visibility = fields.pop("visibility") or {}
    fields["phone_public"] = visibility.get("phone") == "public"
    return PersonRecord.model_validate(fields)


def _assignment_out(record: dict[str, Any]) -> AssignmentRecord:
    return AssignmentRecord.model_validate(record)
