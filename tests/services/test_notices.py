"""Change notices: one row per moved building or 小区, with the new grid's posted contacts."""

import csv
import io

from geogrid.domain.access import Caller, Role
from geogrid.services.notices import TO_BE_APPOINTED, change_notice
from geogrid.services.roster import update_person
from geogrid.store.engine import Bind
from tests.conftest import SAMPLE
from tests.plans import GRID, MERGED_AWAY, NEW, RECEIVER, merge_plan, split_plan

ESTATE = "商业局家属院"  # all five of its buildings are in grid 2
RECEIVER_HEAD = ("P00003", "顾梅丹", "13800005291")  # 网格长 of grid 5, phone posted


def _private_phones() -> set[str]:
    with (SAMPLE / "people.csv").open(encoding="utf-8") as f:
        return {r["phone"] for r in csv.DictReader(f) if r["phone_public"] == "false"}


def _as_text(rows: list[dict]) -> list[dict[str, str]]:
    return [{k: str(v) for k, v in row.items()} for row in rows]


def test_a_split_lists_each_moved_building_with_the_new_grid_to_be_appointed(
    sample_copy: Bind,
) -> None:
    impact = split_plan(sample_copy)
    notice = change_notice(sample_copy, impact)

    moved = {m.building for m in impact.moves}
    assert {r["编码"] for r in notice.rows} == moved  # no estate moves whole here
    assert {(r["原网格"], r["新网格"]) for r in notice.rows} == {
        ("东街社区第1网格", "东街社区第8网格")
    }
    assert sum(r["户数"] for r in notice.rows) == sum(
        m.households for m in impact.moves
    )
    assert all(r["新网格长"] == TO_BE_APPOINTED for r in notice.rows)
    assert {(r["原网格编码"], r["新网格编码"]) for r in notice.rows} == {(GRID, NEW)}


def test_a_whole_estate_is_one_row_and_the_receiving_grid_posts_its_contacts(
    sample_copy: Bind,
) -> None:
    impact = merge_plan(sample_copy)
    notice = change_notice(sample_copy, impact)
    _, name, phone = RECEIVER_HEAD

    estates = [r for r in notice.rows if r["类型"] == "小区"]
    assert [(r["楼栋/小区"], r["楼栋数"]) for r in estates] == [(ESTATE, 5)]
    assert sum(r["户数"] for r in notice.rows) == sum(
        m.households for m in impact.moves
    )
    assert sum(r["楼栋数"] for r in notice.rows) == len(impact.moves)
    assert {(r["原网格编码"], r["新网格编码"]) for r in notice.rows} == {
        (MERGED_AWAY, RECEIVER)
    }
    assert {r["新网格"] for r in notice.rows} == {"东街社区合并网格"}  # the plan's name
    assert {(r["新网格长"], r["新网格长电话"]) for r in notice.rows} == {(name, phone)}
    assert f"网格长 {name} {phone}" in notice.text


def test_a_private_phone_is_masked_never_posted_in_full(sample_copy: Bind) -> None:
    person, name, phone = RECEIVER_HEAD
    update_person(
        sample_copy, Caller(Role.ADMIN, "admin"), person, None, {"phone_public": False}
    )
    notice = change_notice(sample_copy, merge_plan(sample_copy))
    posted = notice.text + notice.csv()

    assert {(r["新网格长"], r["新网格长电话"]) for r in notice.rows} == {
        (name, "138****5291")  # the scheme (三长三员一民警) masks private phones
    }
    assert phone not in posted
    assert not [p for p in _private_phones() | {phone} if p in posted]


def test_the_text_names_each_grid_pair_and_when_it_takes_effect(
    sample_copy: Bind,
) -> None:
    notice = change_notice(sample_copy, split_plan(sample_copy))

    assert notice.text.startswith("网格调整公告")
    assert "自发布之日起" in notice.text
    assert "“东街社区第1网格”调整为“东街社区第8网格”" in notice.text
    assert f"网格长 {TO_BE_APPOINTED}" in notice.text
    assert "东大街1号" in notice.text


def test_the_csv_has_a_bom_and_reads_back_as_the_rows(sample_copy: Bind) -> None:
    notice = change_notice(sample_copy, merge_plan(sample_copy))
    text = notice.csv()

    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows == _as_text(notice.rows)
    assert list(rows[0])[:6] == [
        "楼栋/小区",
        "类型",
        "楼栋数",
        "原网格",
        "新网格",
        "户数",
    ]
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf")


def test_a_cell_that_starts_like_a_formula_is_defused(sample_copy: Bind) -> None:
    notice = change_notice(sample_copy, split_plan(sample_copy))
    notice.rows[0]["楼栋/小区"] = '=HYPERLINK("http://x")'

    first = next(csv.DictReader(io.StringIO(notice.csv().removeprefix("\ufeff"))))
    assert first["楼栋/小区"] == '\'=HYPERLINK("http://x")'
