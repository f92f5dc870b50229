"""Area levels (层级) and area codes (区划代码).

Streets and communities carry the NBS 12-digit division code: 6 digits of
county, 3 of street (001–099 街道, 100–199 镇, 200–399 乡) and 3 of community.
Grids append a 3-digit grid number (15 digits, as Beijing's local standard
does). Data from outside the NBS system (a Taipei 里, an OSM compound) keeps
its own non-numeric ids; only all-digit codes are held to the NBS lengths,
which is where a typo (an 11-digit street) is a real mistake.
"""

import re
from enum import StrEnum


class AreaLevel(StrEnum):
    """One level of the area tree, from county down to estate."""

    DISTRICT = "district"  # 区/县
    STREET = "street"  # 街道/乡镇
    COMMUNITY = "community"  # 社区/村
    GRID = "grid"  # 网格
    ESTATE = "estate"  # 小区/院落/片区

    @property
    def parent(self) -> "AreaLevel | None":
        """The level directly above, or None for the top.

        Examples:
            >>> AreaLevel.GRID.parent
            <AreaLevel.COMMUNITY: 'community'>
            >>> AreaLevel.DISTRICT.parent is None
            True
        """
        order = list(AreaLevel)
        i = order.index(self)
        return order[i - 1] if i else None


NBS_LENGTHS: dict[AreaLevel, tuple[int, ...]] = {
    AreaLevel.DISTRICT: (12,),
    AreaLevel.STREET: (12,),
    AreaLevel.COMMUNITY: (12,),
    AreaLevel.GRID: (15,),
    AreaLevel.ESTATE: (18,),
}

_CODE_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.\-]{0,39}$")


def code_problem(code: str, level: AreaLevel) -> str | None:
    """Say what is wrong with ``code`` for ``level``, or None when it is fine.

    Args:
        code: the area code as given.
        level: the level the area is imported at.

    Returns:
        A short reason (Chinese) or None.

    Examples:
        >>> code_problem("620899001001", AreaLevel.COMMUNITY) is None
        True
        >>> code_problem("62089900100", AreaLevel.COMMUNITY)
        '社区编码应为 12 位数字，实际 11 位'
        >>> code_problem("6300011033", AreaLevel.COMMUNITY) is not None
        True
        >>> code_problem("TW-6300011033", AreaLevel.COMMUNITY) is None
        True
    """
    if not _CODE_RE.match(code):
        return "只能包含字母、数字和 - _ .，且不超过 40 个字符"
    if code.isdigit():
        lengths = NBS_LENGTHS[level]
        if len(code) not in lengths:
            want = " 或 ".join(str(n) for n in lengths)
            return f"{_ZH[level]}编码应为 {want} 位数字，实际 {len(code)} 位"
    return None


def parent_code_of(code: str, level: AreaLevel) -> str | None:
    """Derive the parent's code from an NBS code, or None when it cannot be derived.

    Examples:
        >>> parent_code_of("620899001003", AreaLevel.COMMUNITY)
        '620899001000'
        >>> parent_code_of("620899001003007", AreaLevel.GRID)
        '620899001003'
        >>> parent_code_of("620899001000", AreaLevel.STREET)
        '620899000000'
        >>> parent_code_of("TW-1", AreaLevel.GRID) is None
        True
    """
    if not code.isdigit() or code_problem(code, level):
        return None
    match level:
        case AreaLevel.STREET:
            return code[:6] + "000000"
        case AreaLevel.COMMUNITY:
            return code[:9] + "000"
        case AreaLevel.GRID:
            return code[:12]
        case AreaLevel.ESTATE:
            return code[:15]
        case _:
            return None


_ZH = {
    AreaLevel.DISTRICT: "区县",
    AreaLevel.STREET: "街道",
    AreaLevel.COMMUNITY: "社区",
    AreaLevel.GRID: "网格",
    AreaLevel.ESTATE: "小区",
}
