"""Coverage rules and their findings (覆盖检查规则): "全覆盖、无死角" as data.

A finding is one row: the rule it breaks, how bad it is, the features
involved (codes), the parent area it was checked under, a measure (m², share,
count…) and where it is. Engines return findings as frames with the columns
below; the service stores, compares and reports them.
"""

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How bad a finding is (严重程度); errors fail ``geogrid check``."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Rule:
    """One coverage rule (检查规则)."""

    code: str
    severity: Severity
    title: str
    title_en: str
    at_target: bool = False
    """Drawn at its first code's outline: stored by reference, not as a copy."""


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        # spatial, per parent area
        Rule(
            "gap",
            Severity.ERROR,
            "空白区（未被任何下级区域覆盖）",
            "gap: part of the parent in no child",
        ),
        Rule(
            "sliver",
            Severity.WARNING,
            "细碎缝隙（数字化误差）",
            "sliver: a gap too small or thin to be real",
        ),
        Rule(
            "overlap",
            Severity.ERROR,
            "重叠（两个同级区域重叠）",
            "overlap: two siblings share area",
        ),
        Rule(
            "outside_parent",
            Severity.ERROR,
            "超出上级区域",
            "outside: a child reaches outside its parent",
        ),
        Rule("invalid_geometry", Severity.ERROR, "几何无效", "invalid geometry"),
        Rule(
            "geometry_unprocessable",
            Severity.ERROR,
            "几何无法计算（请修复后重新检查）",
            "geometry GEOS cannot overlay: repair it and check again",
        ),
        Rule(
            "edge_mismatch",
            Severity.WARNING,
            "边界未对齐（相邻边几乎重合却不一致）",
            "edges that almost but do not quite meet",
        ),
        # assignment
        Rule(
            "building_no_grid",
            Severity.ERROR,
            "楼栋不在任何网格",
            "building in no grid",
        ),
        Rule(
            "building_split",
            Severity.WARNING,
            "楼栋跨网格",
            "building split across grids",
        ),
        Rule(
            "address_unassigned", Severity.ERROR, "地址未归属", "address not assigned"
        ),
        Rule(
            "address_far_from_building",
            Severity.WARNING,
            "地址离楼栋太远（请核对位置）",
            "address far from every building: check where it is",
        ),
        Rule(
            "lane_crosses_grids", Severity.WARNING, "弄巷跨网格", "lane crossing grids"
        ),
        # roles
        Rule(
            "role_vacant",
            Severity.ERROR,
            "岗位空缺",
            "required role vacant",
            at_target=True,
        ),
        Rule(
            "role_excess",
            Severity.WARNING,
            "岗位人数超出",
            "more holders than the role allows",
            at_target=True,
        ),
        Rule(
            "person_overloaded",
            Severity.WARNING,
            "一人负责过多",
            "a person holds too many targets or households",
            at_target=True,
        ),
        Rule(
            "assignment_orphan",
            Severity.ERROR,
            "任职对象或人员已不存在",
            "assignment whose person or target no longer exists",
            at_target=True,
        ),
        # load and service
        Rule(
            "grid_overloaded",
            Severity.ERROR,
            "网格户数超出上限",
            "grid above the household band",
            at_target=True,
        ),
        Rule(
            "grid_underloaded",
            Severity.WARNING,
            "网格户数低于下限",
            "grid below the household band",
            at_target=True,
        ),
        Rule(
            "community_overloaded",
            Severity.ERROR,
            "社区户数超出上限",
            "community above its household limit",
            at_target=True,
        ),
        Rule(
            "service_radius",
            Severity.WARNING,
            "超出服务半径",
            "homes beyond a service centre's radius",
        ),
    )
}

FINDING_COLUMNS = ("rule", "severity", "codes", "parent_code", "measure", "geometry")
"""Columns of a findings frame: ``codes`` is a tuple of feature codes, ``measure`` a dict."""
