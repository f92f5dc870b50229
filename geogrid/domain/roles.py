"""Role schemes (角色方案): who is publicly responsible for each area, as data.

A scheme lists role types, the level or feature each attaches to, how many
holders a target needs to count as covered, and which contact fields a public
board (公示牌) may show. Schemes are YAML so a city can edit its own; the
presets ship in ``geogrid/domain/presets``.
"""

import functools
from collections import Counter
from collections.abc import Mapping
from importlib import resources
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from geogrid.errors import InvalidInput

Target = Literal[
    "district", "street", "community", "grid", "estate", "building", "lane"
]
ContactField = Literal[
    "name", "phone", "organisation", "duties", "is_party_member", "employment"
]
PhoneDisplay = Literal["full", "masked", "hidden"]

# Strict so that a YAML ``required: yes`` is an error rather than a silent 1.
_Count = Annotated[int, Field(strict=True, ge=0)]
_Limit = Annotated[int, Field(strict=True, ge=1)]


class RoleType(BaseModel):
    """A role (角色) such as 网格长, attached to one level or feature type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str = Field(min_length=1)
    title_en: str = ""
    attaches_to: Target
    required: _Count = 1
    max_holders: _Limit | None = 1
    duties: str = ""
    public_fields: tuple[ContactField, ...] = ("name", "phone", "duties")

    @model_validator(mode="after")
    def _limit_covers_required(self) -> "RoleType":
        if self.max_holders is not None and self.max_holders < self.required:
            raise PydanticCustomError(
                "max_below_required",
                "max_holders ({max_holders}) is less than required ({required})",
                {"max_holders": self.max_holders, "required": self.required},
            )
        return self


class RoleScheme(BaseModel):
    """A role scheme (角色方案): the roles one place posts for its areas."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    name_en: str = ""
    description: str = ""
    phone_display: PhoneDisplay = "masked"
    supervision_phone: str = ""
    roles: tuple[RoleType, ...]

    @field_validator("roles")
    @classmethod
    def _roles_present_and_unique(
        cls, roles: tuple[RoleType, ...]
    ) -> tuple[RoleType, ...]:
        # A validator, not min_length: pydantic reports min_length again when
        # every listed role is invalid, which would read as "no roles given".
        if not roles:
            raise PydanticCustomError("no_roles", "a scheme needs at least one role")
        counts = Counter(r.key for r in roles)
        dupes = [key for key, n in counts.items() if n > 1]
        if dupes:
            raise PydanticCustomError(
                "duplicate_role_key",
                "duplicate role key {keys}",
                {"keys": ", ".join(dupes)},
            )
        return roles

    @property
    def keys(self) -> tuple[str, ...]:
        """The role keys, in scheme order."""
        return tuple(r.key for r in self.roles)

    def role(self, key: str) -> RoleType:
        """The role with ``key``.

        Raises:
            InvalidInput: ``role_unknown`` when the scheme has no such role.
        """
        for r in self.roles:
            if r.key == key:
                return r
        raise InvalidInput(
            "role_unknown", role=key, scheme=self.name, available="、".join(self.keys)
        )

    def roles_for(self, target: Target) -> tuple[RoleType, ...]:
        """The roles that attach to ``target``, in scheme order."""
        return tuple(r for r in self.roles if r.attaches_to == target)


def _loc(loc: tuple[int | str, ...], data: Mapping[str, object]) -> str:
    """Render ``("roles", 1, "requird")`` as ``roles[1] (grid_head).requird``."""
    out = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
    roles = data.get("roles")
    if loc[:1] == ("roles",) and len(loc) > 1 and isinstance(loc[1], int):
        i = loc[1]
        role = roles[i] if isinstance(roles, list | tuple) and i < len(roles) else None
        if isinstance(role, Mapping) and isinstance(role.get("key"), str):
            out = out.replace(f"[{i}]", f"[{i}] ({role['key']})", 1)
    return out.lstrip(".")


def _reason(exc: ValidationError, data: Mapping[str, object]) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        where = _loc(err["loc"], data)
        msg = err["msg"]
        # Say what was given, except where the value is absent or is the typo'd key.
        value = err.get("input")
        if err["type"] not in {"missing", "extra_forbidden"} and isinstance(
            value, str | int | float
        ):
            msg += f", got {value!r}"
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


def scheme_from_mapping(data: Mapping[str, object], *, source: str) -> RoleScheme:
    """Build a role scheme (角色方案) from user data such as a parsed YAML file.

    Args:
        data: the scheme as a mapping.
        source: where it came from; names the scheme in errors when it has no name.

    Raises:
        InvalidInput: ``scheme_invalid`` with every problem and where it is.
    """
    if not isinstance(data, Mapping):
        raise InvalidInput(
            "scheme_invalid", name=source, reason="expected a mapping of scheme fields"
        )
    try:
        return RoleScheme.model_validate(data)
    except ValidationError as exc:
        name = data.get("name") or source
        reason = _reason(exc, data)
        raise InvalidInput("scheme_invalid", name=name, reason=reason) from exc


@functools.cache
def _presets() -> dict[str, tuple[str, RoleScheme]]:
    """The shipped presets: file slug -> (Chinese name, scheme)."""
    found: dict[str, tuple[str, RoleScheme]] = {}
    folder = resources.files("geogrid.domain").joinpath("presets")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        slug = entry.name.removesuffix(".yaml")
        data = yaml.safe_load(entry.read_text(encoding="utf-8"))
        scheme = scheme_from_mapping(data, source=f"presets/{entry.name}")
        found[slug] = (scheme.name, scheme)
    return found


def preset_names() -> list[str]:
    """The Chinese names of the shipped role-scheme presets (预置方案)."""
    return [name for name, _ in _presets().values()]


def load_preset(name: str) -> RoleScheme:
    """Load a shipped preset (预置方案) by its Chinese name or its file slug.

    Examples:
        >>> load_preset("三长").keys
        ('area_head', 'building_head', 'lane_head')
        >>> load_preset("sanzhang") is load_preset("三长")
        True

    Raises:
        InvalidInput: ``scheme_not_found`` naming the available presets.
    """
    presets = _presets()
    if name in presets:
        return presets[name][1]
    for zh, scheme in presets.values():
        if zh == name:
            return scheme
    available = "、".join(f"{zh} ({slug})" for slug, (zh, _) in presets.items())
    raise InvalidInput("scheme_not_found", name=name, available=available)


def mask_phone(phone: str) -> str:
    """Mask a phone number (号码脱敏) for a public board: first 3 and last 4 digits.

    Separators and a +86/0086 country prefix are dropped; anything too short
    to keep digits on both sides of the mask is masked entirely.

    Examples:
        >>> mask_phone("13800000001")
        '138****0001'
        >>> mask_phone("+86 138-0000-0001")
        '138****0001'
        >>> mask_phone("110")
        '****'
    """
    # str(int(c)) turns full-width digits (１３８) into ASCII ones.
    digits = "".join(str(int(c)) for c in phone if c.isdecimal())
    if phone.lstrip().startswith("+86") or (len(digits) == 13 and digits[:2] == "86"):
        digits = digits[2:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if len(digits) < 8:
        return "****"
    return f"{digits[:3]}****{digits[-4:]}"
