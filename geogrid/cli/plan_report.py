"""A plan's impact as the CLI prints it (影响分析): grids, moves, people, households, coverage."""

from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from rich.table import Table

from geogrid.cli.output import console, measure_text
from geogrid.domain.answers import (
    BuildingMove,
    CoverageDelta,
    FindingsDelta,
    PlanImpact,
    PlanRef,
)
from geogrid.domain.findings import RULES

if TYPE_CHECKING:
    import geopandas as gpd

    from geogrid.services.planning import PlanState

MAX_ROWS = 40
"""Buildings listed one by one; the rest are counted (``--format json`` has all)."""


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    codes: Collection[int] = (),
    title: str | None = None,
) -> Table:
    """A table that never cuts text short: ``codes`` columns keep their width, others fold."""
    out = Table(title=title)
    for i, header in enumerate(headers):
        if i in codes:
            width = max((len(r[i]) for r in rows), default=0)
            out.add_column(header, min_width=width, no_wrap=True)
        else:
            out.add_column(header, overflow="fold")
    for row in rows:
        out.add_row(*row)
    return out


def print_grids(grids: "gpd.GeoDataFrame") -> None:
    """The draft's grids: code, name and community."""
    rows = [
        [str(g.code), str(g.name), str(g.parent_code or "")] for g in grids.itertuples()
    ]
    console.print(
        table(["网格 grid", "名称 name", "社区 community"], rows, codes=(0, 2))
    )


def print_diff(impact: PlanImpact, grids: "gpd.GeoDataFrame") -> None:
    """The whole impact: what changes, what moves, who is affected, and the check."""
    names = dict(zip(grids["code"], grids["name"], strict=True))
    plan = impact.plan
    console.print(
        f"规划 plan #{plan.id} 与现行网格比较 vs current, 范围 scope {plan.scope}"
    )
    _print_stale(plan)
    changes = impact.grids
    for codes, title in (
        (changes.added, "新增网格 added"),
        (changes.removed, "撤销网格 removed"),
        (changes.changed, "调整网格 changed"),
    ):
        listed = "、".join(f"{c} {names[c]}" if c in names else c for c in codes)
        console.print(f"{title}：{listed or '无 none'}")
    _print_moves(impact.moves)
    _print_people(impact)
    print_check(impact, header=False)


def print_check(impact: PlanImpact, *, header: bool = True) -> None:
    """Households per grid against the band, and the coverage before and after."""
    if header:
        plan = impact.plan
        console.print(f"规划检查 plan check #{plan.id} 范围 scope {plan.scope}")
        _print_stale(plan)
    _print_households(impact)
    _print_coverage(impact.coverage)
    _print_findings(impact.findings)


def _print_stale(plan: PlanRef) -> None:
    if plan.stale:
        console.print(
            f"注意 stale：本规划基于旧版网格，发布前请先 rebase（geogrid plan rebase {plan.id}）"
        )
    else:
        console.print("基于现行网格 based on the current grids")


def _print_moves(moves: list[BuildingMove]) -> None:
    if not moves:
        console.print("楼栋迁移 moves：无 none")
        return
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for m in moves:
        total = totals[(m.from_grid or "-", m.to_grid or "-")]
        total[0] += 1
        total[1] += m.addresses
        total[2] += m.households
    rows = [[a, b, *(str(n) for n in t)] for (a, b), t in sorted(totals.items())]
    headers = [
        "从 from",
        "到 to",
        "楼栋 buildings",
        "地址 addresses",
        "户数 households",
    ]
    console.print(table(headers, rows, codes=(0, 1), title="楼栋迁移 moves"))
    rows = [
        [m.building, m.name or "", m.from_grid or "-", m.to_grid or "-",
         str(m.households)]
        for m in moves[:MAX_ROWS]
    ]  # fmt: skip
    headers = ["楼栋 building", "名称 name", "从 from", "到 to", "户数 households"]
    console.print(table(headers, rows, codes=(0, 2, 3)))
    if len(moves) > MAX_ROWS:
        console.print(
            f"…另有 {len(moves) - MAX_ROWS} 栋 more（--format json 列出全部）"
        )


def _print_people(impact: PlanImpact) -> None:
    people = impact.people
    affected = (
        people.left_without_grid
        or people.new_grids_missing
        or people.building_changed_grid
    )
    console.print("受影响人员 people affected:" + ("" if affected else "无 none"))
    for p in people.left_without_grid:
        console.print(
            f"  {p.title} {p.name}（{p.person_code}）：网格 {p.target_code} 撤销，需另行任职 left without a grid"
        )
    missing: dict[str, list[str]] = defaultdict(list)
    for vacancy in people.new_grids_missing:
        missing[vacancy.grid].append(vacancy.title)
    for grid, titles in missing.items():
        console.print(f"  新网格 {grid} 缺 lacks：{'、'.join(titles)}")
    if people.building_changed_grid:
        _print_building_holders(impact)


def _print_building_holders(impact: PlanImpact) -> None:
    """楼栋长 and the like whose building now answers to another grid, one row per person."""
    grids = {m.building: (m.from_grid or "-", m.to_grid or "-") for m in impact.moves}
    held: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for p in impact.people.building_changed_grid:
        old, new = grids.get(p.target_code, ("?", "?"))
        held[(p.title, p.name, p.person_code, old, new)].append(p.target_code)
    rows = [
        [title, f"{name}（{code}）", "、".join(buildings), old, new]
        for (title, name, code, old, new), buildings in held.items()
    ]
    headers = ["角色 role", "姓名 name", "楼栋 buildings", "原网格 from", "新网格 to"]
    console.print(
        table(headers, rows, codes=(3, 4), title="楼栋改属网格 buildings changing grid")
    )


def _print_households(impact: PlanImpact) -> None:
    band = impact.band
    before, after = impact.households.before, impact.households.after
    rows = [
        [
            code,
            str(before.get(code, "-")),
            str(after.get(code, "-")),
            "超出 outside" if code in band.outside_after else "",
        ]
        for code in sorted(set(before) | set(after))
    ]
    headers = [
        "网格 grid",
        "调整前 before",
        "调整后 after",
        f"户数区间 band {band.min}–{band.max}",
    ]
    console.print(
        table(headers, rows, codes=(0,), title="网格户数 households per grid")
    )


def _print_coverage(coverage: CoverageDelta) -> None:
    rows = [
        [
            f"{_title(rule)} ({rule})",
            f"{coverage.before[rule].count} / {coverage.before[rule].area_m2}",
            f"{after.count} / {after.area_m2}",
        ]
        for rule, after in coverage.after.items()
    ]
    headers = ["问题 rule", "调整前 before", "调整后 after"]
    console.print(table(headers, rows, title="覆盖检查 coverage（数量 / 面积 m²）"))
    introduced = coverage.introduced
    if introduced:
        titles = "、".join(_title(r) for r in introduced)
        console.print(f"不能发布 cannot publish：会新增 adds {titles}")
    else:
        console.print("未新增空白区、重叠或越界 adds no gaps, overlaps or overreach")


def _print_findings(findings: FindingsDelta) -> None:
    """What every rule of the check would report after publishing, against now."""
    rules = sorted(set(findings.before) | set(findings.after))
    rows = [
        [
            f"{_title(rule)} ({rule})",
            str(findings.before.get(rule, 0)),
            str(findings.after.get(rule, 0)),
        ]
        for rule in rules
    ]
    console.print(
        table(
            ["规则 rule", "调整前 before", "调整后 after"],
            rows,
            title="全部检查规则 every rule of geogrid check",
        )
    )
    added = findings.added
    if added:
        console.print(
            table(
                ["级别 severity", "规则 rule", "对象 codes", "度量 measure"],
                [
                    [
                        f.severity,
                        f"{_title(f.rule)} ({f.rule})",
                        " ".join(f.codes),
                        measure_text(f.measure),
                    ]
                    for f in added
                ],
                title=f"发布后新增 the plan adds ({len(added)})",
            )
        )
    removed = findings.removed
    console.print(
        f"发布后消除 the plan clears：{len(removed)}"
        + (
            "（" + "、".join(sorted({_title(f.rule) for f in removed})) + "）"
            if removed
            else ""
        )
    )


def _title(rule: str) -> str:
    return RULES[rule].title if rule in RULES else rule


def print_state(state: "PlanState") -> None:
    """A plan in one line (scope, status, edits, staleness), then its grids."""
    stale = "（基于旧版网格，请先 rebase / stale）" if state.is_stale else ""
    console.print(
        f"规划 plan #{state.id}「{state.name}」范围 scope {state.scope}，"
        f"状态 status {state.status}，{len(state.steps) - 1} 步编辑 edits{stale}"
    )
    print_grids(state.grids)
