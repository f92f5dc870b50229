"""Who may see what (访问角色与公示字段): caller roles and the contact-card filter.

Residents see only what a 公示牌 would post: the fields a role scheme marks
public, and a person's phone only where that person agreed to publish it
(otherwise masked or hidden, as the scheme says). Staff see everything.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from geogrid.domain.answers import ContactCard
from geogrid.domain.roles import RoleType, mask_phone


class Role(StrEnum):
    """A caller's role (访问角色)."""

    PUBLIC = "public"  # 公众: published data only
    STAFF = "staff"  # 工作人员: contacts and addresses
    PLANNER = "planner"  # 规划人员: boundaries and plans
    ADMIN = "admin"  # 管理员: users, schemes, audit

    @property
    def is_public(self) -> bool:
        """True for callers without a login."""
        return self is Role.PUBLIC

    def view_of(self, code: str | None) -> "Role":
        """The role that applies to data under ``code``: a bare role sees every area alike."""
        return self


@dataclass(frozen=True)
class Caller:
    """A logged-in (or anonymous) caller (调用者): a role, a name and, for staff, a street.

    Staff see contacts and residents' addresses of their own street (街道)
    only; anywhere else they see what the public sees. The street is matched
    by NBS code prefix (街道 ``620899001000`` holds every code starting
    ``620899001``), so data with free, non-NBS codes stays public to staff:
    the scope fails closed.

    Examples:
        >>> staff = Caller(Role.STAFF, "li", street="620899001000")
        >>> staff.view_of("620899001001-B0003"), staff.view_of("620899002001001")
        (<Role.STAFF: 'staff'>, <Role.PUBLIC: 'public'>)
        >>> Caller(Role.ADMIN, "root").view_of("anything")
        <Role.ADMIN: 'admin'>
    """

    role: Role = Role.PUBLIC
    username: str = ""
    street: str = ""

    @property
    def is_public(self) -> bool:
        """True for callers without a login."""
        return self.role.is_public

    def view_of(self, code: str | None) -> Role:
        """The role this caller holds over data under area ``code``."""
        if self.role is Role.ADMIN:
            return Role.ADMIN
        if self.role is Role.STAFF and code and _in_street(code, self.street):
            return Role.STAFF
        return Role.PUBLIC

    @property
    def private_prefix(self) -> str | None:
        """Codes this caller sees in private, as a prefix a query can use.

        The same rule as :meth:`view_of`: "" for everything (admin), the
        street's code prefix for staff, None for nothing.

        Examples:
            >>> Caller(Role.STAFF, "li", street="620899001000").private_prefix
            '620899001'
            >>> Caller(Role.STAFF, "li", street="TW-1").private_prefix is None
            True
        """
        if self.role is Role.ADMIN:
            return ""
        if self.role is Role.STAFF:
            return _street_prefix(self.street) or None
        return None

    def may(self, role: Role) -> bool:
        """Whether this caller holds ``role`` or a higher one (admin holds all)."""
        return self.role is Role.ADMIN or self.role is role


Viewer = Role | Caller
"""Who is asking: a bare role (CLI, tests) or a caller with a street scope (web)."""


def _street_prefix(street: str) -> str:
    is_street = len(street) == 12 and street.endswith("000") and street.isdigit()
    return street[:9] if is_street else ""


def _in_street(code: str, street: str) -> bool:
    prefix = _street_prefix(street)
    return bool(prefix) and code.startswith(prefix)


def contact_card(
    person: Mapping[str, Any],
    role_type: RoleType,
    *,
    phone_display: str,
    caller: Role,
) -> ContactCard:
    """One role-holder as the caller may see them (联系卡).

    Args:
        person: name, phone, organisation, is_party_member, employment and
            ``visibility`` (field -> "public" | "private").
        role_type: the role held; its ``public_fields`` bound what is posted.
        phone_display: the scheme's rule for a phone its holder keeps private:
            "full", "masked" or "hidden".
        caller: who is asking.

    Returns:
        The card: ``role``, ``title`` and the visible contact fields (others null).

    Examples:
        >>> from geogrid.domain.roles import load_preset
        >>> worker = load_preset("三长三员一民警").role("grid_worker")
        >>> p = {"name": "张伟", "phone": "13800000001", "visibility": {"phone": "private"}}
        >>> contact_card(p, worker, phone_display="masked", caller=Role.PUBLIC).phone
        '138****0001'
        >>> contact_card(p, worker, phone_display="masked", caller=Role.STAFF).phone
        '13800000001'
    """
    fields: dict[str, Any] = {
        "name": text_value(person.get("name")),
        "phone": text_value(person.get("phone")),
        "organisation": text_value(person.get("organisation")),
        "is_party_member": _flag(person.get("is_party_member")),
        "employment": text_value(person.get("employment")),
        "duties": role_type.duties,
    }
    card = ContactCard(role=role_type.key, title=role_type.title)
    if not caller.is_public:
        return card.model_copy(update=fields)
    visibility = person.get("visibility") or {}
    shown: dict[str, Any] = {}
    for field in role_type.public_fields:
        value = fields[field]
        if field == "duties" or visibility.get(field) == "public":
            shown[field] = value
        elif field == "phone" and value and phone_display != "hidden":
            shown[field] = value if phone_display == "full" else mask_phone(str(value))
    return card.model_copy(update=shown)


def text_value(value: object) -> str | None:
    """A stored text as shown: None for a missing value (None or pandas' NaN)."""
    if value is None or value != value:  # NaN is the one value unequal to itself
        return None
    return str(value)


def _flag(value: object) -> bool | None:
    """A stored yes/no (numpy's or Python's) as a bool, None when unknown."""
    if value is None or value != value:
        return None
    return bool(value)
