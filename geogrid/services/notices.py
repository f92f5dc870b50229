"""Change notices (网格调整公告): who moves to which grid, and whom they call now.

A plan's diff lists every building whose grid changes. The notice turns it
into what a community posts on its board or sends round: one line per moved
building (楼栋), or per 小区 (estate) when the whole estate moves together,
with the old grid, the new grid and the new grid's posted contacts exactly as
the public map shows them (the scheme's public fields; a phone its holder
keeps private masked or hidden, as the scheme says). Grid names come from the
plan's own frames, since a plan may rename grids.
"""

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from geogrid.domain.access import Role
from geogrid.domain.answers import BuildingMove, ContactCard, PlanImpact
from geogrid.services.people import active_scheme
from geogrid.services.planning import plan_frames
from geogrid.services.publishing import CardBook
from geogrid.store import areas as area_store
from geogrid.store import people as people_store
from geogrid.store import plans as plan_store
from geogrid.store.engine import Bind, session_scope

TO_BE_APPOINTED = "待定 (to be appointed)"
NOT_POSTED = "（不公示）"
NO_GRID = "未划入网格 (no grid)"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""Cell starts a spreadsheet would run as a formula (CSV injection)."""


@dataclass
class Notice:
    """A change notice (网格调整公告): table rows and the text to post."""

    rows: list[dict[str, Any]]
    text: str
    columns: list[str] = field(default_factory=list)

    def csv(self) -> str:
        """The rows as CSV with a BOM, so Excel opens the Chinese correctly.

        A cell that starts like a formula (``=``, ``+``, ``-``, ``@``) gets a
        leading ``'``, so a hostile name cannot run in the spreadsheet.
        """
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.DictWriter(out, fieldnames=self.columns or _columns(self.rows))
        writer.writeheader()
        for row in self.rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
        return out.getvalue()


@dataclass
class _Item:
    """One line of the notice: a building, or a whole 小区."""

    kind: str  # 楼栋 or 小区
    code: str
    name: str
    buildings: int
    households: int


def change_notice(bind: Bind, impact: PlanImpact) -> Notice:
    """The change notice of a plan's diff (:func:`geogrid.services.planning.diff`).

    Raises:
        NotFound: the plan named in ``impact`` is gone.
    """
    plan_id = impact.plan.id
    old, new, buildings = plan_frames(bind, plan_id)
    with session_scope(bind) as session:
        plan = plan_store.get_plan(session, plan_id)
        plan_name = plan.name if plan is not None else ""
        scope = impact.plan.scope
        found = area_store.areas_frame(session, codes=[scope])
        scope_name = str(found["name"].iloc[0]) if not found.empty else scope
        people = people_store.people_table(session)
        scheme = active_scheme(session, default="三长三员一民警")
    cards = CardBook(people, scheme, Role.PUBLIC)
    grid_titles = [r.title for r in scheme.roles_for("grid")]
    old_names = dict(zip(old["code"], old["name"], strict=True))
    new_names = dict(zip(new["code"], new["name"], strict=True))

    pairs = _grouped(impact.moves, buildings)
    rows = []
    contacts_of: dict[str, list[tuple[str, str, str]]] = {}
    for (source, target), items in pairs.items():
        if target not in contacts_of:
            contacts_of[target] = _contacts(cards("grid", target), grid_titles, target)
        for item in items:
            row: dict[str, Any] = {
                "楼栋/小区": item.name,
                "类型": item.kind,
                "楼栋数": item.buildings,
                "原网格": _grid_name(old_names, source),
                "新网格": _grid_name(new_names, target),
                "户数": item.households,
            }
            for title, names, phones in contacts_of[target]:
                row[f"新{title}"] = names
                row[f"新{title}电话"] = phones
            row |= {"编码": item.code, "原网格编码": source, "新网格编码": target}
            rows.append(row)
    columns = [
        "楼栋/小区", "类型", "楼栋数", "原网格", "新网格", "户数",
        *(f"新{t}{s}" for t in grid_titles for s in ("", "电话")),
        "编码", "原网格编码", "新网格编码",
    ]  # fmt: skip
    text = _text(
        pairs,
        contacts_of,
        old_names=old_names,
        new_names=new_names,
        plan=(plan_id, plan_name),
        scope=(scope, scope_name),
        supervision=scheme.supervision_phone,
    )
    return Notice(rows, text, columns)


def _grouped(
    moves: list[BuildingMove], buildings: pd.DataFrame
) -> dict[tuple[str, str], list[_Item]]:
    """Moves by (old grid, new grid); an estate all of whose buildings make one move is one item."""
    estate_of = dict(zip(buildings["code"], buildings["estate_code"], strict=True))
    estate_name = {
        c: str(n or "").strip() or c
        for c, n in zip(buildings["estate_code"], buildings["estate"], strict=True)
        if isinstance(c, str) and c
    }
    members: dict[str, set[str]] = {}
    for code, estate in estate_of.items():
        if isinstance(estate, str) and estate:
            members.setdefault(estate, set()).add(code)
    pairs: dict[tuple[str, str], list[_Item]] = {}
    moved_with: dict[str, tuple[str, str]] = {
        m.building: (m.from_grid or "", m.to_grid or "") for m in moves
    }
    estates_done: dict[str, _Item] = {}
    for move in moves:
        pair = moved_with[move.building]
        items = pairs.setdefault(pair, [])
        estate = estate_of.get(move.building)
        whole = (
            isinstance(estate, str)
            and bool(estate)
            and all(moved_with.get(b) == pair for b in members[estate])
        )
        if not whole:
            items.append(
                _Item(
                    "楼栋",
                    move.building,
                    (move.name or "").strip() or move.building,
                    1,
                    move.households,
                )
            )
            continue
        assert isinstance(estate, str)
        if estate not in estates_done:
            estates_done[estate] = _Item("小区", estate, estate_name[estate], 0, 0)
            items.append(estates_done[estate])
        estates_done[estate].buildings += 1
        estates_done[estate].households += move.households
    return pairs


def _contacts(
    cards: list[ContactCard], titles: list[str], grid: str
) -> list[tuple[str, str, str]]:
    """(title, names, phones) per grid role, as posted; "待定" where nobody holds it."""
    out = []
    for title in titles:
        held = [c for c in cards if c.title == title]
        if not grid or not held:
            out.append((title, TO_BE_APPOINTED if grid else "", ""))
            continue
        names = "、".join(c.name or NOT_POSTED for c in held)
        phones = "、".join(c.phone for c in held if c.phone)
        out.append((title, names, phones))
    return out


def _grid_name(names: dict[str, str], code: str) -> str:
    if not code:
        return NO_GRID
    return str(names.get(code) or code)


def _text(
    pairs: dict[tuple[str, str], list[_Item]],
    contacts_of: dict[str, list[tuple[str, str, str]]],
    *,
    old_names: dict[str, str],
    new_names: dict[str, str],
    plan: tuple[int, str],
    scope: tuple[str, str],
    supervision: str,
) -> str:
    """The notice as posted: heading, what changes from when, one paragraph per grid pair."""
    plan_id, plan_name = plan
    scope_code, scope_name = scope
    lines = [
        "网格调整公告",
        "",
        "各位居民、网格工作人员：",
        (
            f"根据{scope_name}（{scope_code}）网格调整方案“{plan_name}”（方案编号 {plan_id}），"
            "以下楼栋/小区的所属网格调整如下，自发布之日起生效。"
            "调整后，请联系新网格的工作人员。"
        ),
    ]
    if not pairs:
        lines += ["", "本方案不改变任何楼栋的所属网格。"]
    for i, ((source, target), items) in enumerate(pairs.items(), start=1):
        listed = "、".join(
            f"{item.name}（小区，{item.buildings}栋）"
            if item.kind == "小区"
            else item.name
            for item in items
        )
        households = sum(item.households for item in items)
        buildings = sum(item.buildings for item in items)
        people = (
            "；".join(
                f"{title} {names}" + (f" {phones}" if phones else "")
                for title, names, phones in contacts_of[target]
            )
            if target
            else "请联系社区居委会 (please contact the community)"
        )
        lines += [
            "",
            (
                f"{_numeral(i)}、原“{_grid_name(old_names, source)}”调整为"
                f"“{_grid_name(new_names, target)}”（共{buildings}栋、{households}户）"
            ),
            f"涉及楼栋/小区：{listed}。",
            f"新网格联系人：{people or '—'}。",
        ]
    if supervision:
        lines += ["", f"监督电话：{supervision}。"]
    lines += [
        "",
        "特此公告。",
        "",
        scope_name,
        "　　年　　月　　日",
        "",
        (
            "Notice: from the date of publication the buildings listed above belong "
            "to the new grid shown; please contact its staff."
        ),
    ]
    return "\n".join(lines) + "\n"


def _numeral(n: int) -> str:
    """A paragraph number in Chinese (一 … 九十九), arabic beyond.

    Examples:
        >>> [_numeral(n) for n in (1, 10, 12, 20, 35, 100)]
        ['一', '十', '十二', '二十', '三十五', '100']
    """
    digits = "零一二三四五六七八九"
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else f"{digits[tens]}十")
    return head + (digits[ones] if ones else "")


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    return list(rows[0]) if rows else []


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
