"""The printable contact card (便民联系卡): complete, offline, and nothing private on it."""

import re
from pathlib import Path

import pytest

from shapely.geometry import box

from geogrid.domain.answers import ContactCard
from geogrid.maps.cards import (
    card_filename,
    cards_index,
    contact_card_page,
    grid_map_url,
    grid_svg,
)
from geogrid.maps.public import safe_text
from geogrid.services.people import import_people
from geogrid.services.publishing import PublishedArea, public_map_data
from geogrid.store.engine import Bind

COMMUNITY = "620899001001"
GRID = "620899001001001"
BASE = "https://grid.example.gov.cn"
SUPERVISION = "0933-1234567"


def _card(bind: Bind, grid: str = GRID, *, base_url: str = BASE) -> str:
    data = public_map_data(bind, COMMUNITY)
    (area,) = [g for g in data.grids if g.code == grid]
    return contact_card_page(
        area,
        data.community,
        supervision_phone=SUPERVISION,
        map_url=grid_map_url(COMMUNITY, grid, base_url=base_url),
    )


def test_card_names_the_grid_and_its_posted_contacts(sample_db: Bind) -> None:
    page = _card(sample_db)

    assert page.startswith("<!DOCTYPE html><html lang=zh-CN><head><meta charset=utf-8>")
    assert "<h1>东街社区第1网格</h1>" in page
    assert f"网格编码 {GRID}" in page
    row = re.search(r"<th>网格长</th><td>(.*?)</td><td class=phone>(.*?)</td>", page)
    assert row is not None
    # Her phone is public: a number to tap on a phone.
    assert row.groups() == ("何婷", "<a href='tel:13800009756'>13800009756</a>")
    assert f"监督电话：{SUPERVISION}" in page


def test_card_is_a4_and_loads_nothing(sample_db: Bind) -> None:
    page = _card(sample_db)

    assert "@page { size: A4; margin: 15mm }" in page
    assert not re.findall(r"(?:src|href)=[\"']?(?:https?:)?//", page)
    assert not re.search(r"<(?:script|link|img|iframe)\b", page)
    assert page.count("<svg") == 2  # the small map and the QR code
    assert not re.search(r"=[^'\"\s>]+/>", page)  # an unquoted value would eat the "/"
    assert len(re.findall(r"<path d='M[^']+Z'", page)) == 2  # community and grid


def test_qr_code_opens_the_grid_on_the_public_map(sample_db: Bind) -> None:
    page = _card(sample_db)
    url = f"{BASE}/maps/public/{COMMUNITY}.html#grid={GRID}"

    assert "扫码查看网格地图" in page
    assert f"<span class=url>{url}</span>" in page
    assert re.search(r"<svg viewBox=\"0 0 (\d+) \1\" class=\"qr-code\"", page)


def test_qr_code_is_built_from_the_map_url(monkeypatch: pytest.MonkeyPatch) -> None:
    import segno

    encoded: list[str] = []
    make_qr = segno.make_qr

    def spy(content: str, **kw: object) -> object:
        encoded.append(content)
        return make_qr(content, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(segno, "make_qr", spy)
    grid = PublishedArea("G1", "一网格", "grid", box(0, 0, 1, 1))

    contact_card_page(
        grid, grid, supervision_phone="", map_url="https://x.cn/a#grid=G1"
    )

    assert encoded == ["https://x.cn/a#grid=G1"]


def test_map_url_is_relative_without_a_base() -> None:
    assert grid_map_url(COMMUNITY, GRID) == f"{COMMUNITY}.html#grid={GRID}"
    assert (
        grid_map_url(COMMUNITY, GRID, base_url=BASE + "/")
        == f"{BASE}/maps/public/{COMMUNITY}.html#grid={GRID}"
    )


def test_a_private_phone_is_masked_never_shown(
    sample_copy: Bind, tmp_path: Path
) -> None:
    people = tmp_path / "people.csv"
    people.write_text(
        "person_code,name,phone,phone_public,role,target_level,target_code\n"
        f"PX,石私密,13900001234,false,grid_worker,grid,{GRID}\n",
        encoding="utf-8",
    )
    import_people(
        sample_copy, people, scheme_name=None, default_scheme="三长三员一民警"
    )

    page = _card(sample_copy)

    assert "石私密" in page
    assert "13900001234" not in page
    assert "139****1234" in page
    assert "按规定隐去部分号码" in page


@pytest.mark.parametrize(
    "name",
    ["<img src=x onerror=alert(1)>", "</style><script>alert(1)</script>"],
    ids=["img", "script"],
)
def test_hostile_names_are_text(name: str) -> None:
    grid = PublishedArea(
        "G1",
        name,
        "grid",
        box(107.3, 35.3, 107.31, 35.31),
        [
            ContactCard(
                role="grid_head",
                title="网格长",
                name=name,
                phone="138****0001",
                duties=name,
            )
        ],
    )

    page = contact_card_page(
        grid, grid, supervision_phone=name, map_url=f"x.html#grid={name}"
    ) + cards_index(grid, [grid])

    assert "<img" not in page
    assert "<script" not in page
    assert page.count("</style>") == 1  # only the card's own
    assert page.count(safe_text(name)) >= 5  # grid name, holder, duties, phone, index


def test_card_shows_only_whitelisted_fields() -> None:
    grid = PublishedArea(
        "G1",
        "一网格",
        "grid",
        box(0, 0, 1, 1),
        [
            ContactCard(
                role="grid_worker",
                title="网格员",
                name="张伟",
                phone="138****0001",
                organisation="秘密单位",
                employment="SENTINEL",
            )
        ],
    )

    page = contact_card_page(grid, grid, supervision_phone="", map_url="x.html")

    assert "张伟" in page
    assert "138****0001" in page
    assert "秘密单位" not in page
    assert "SENTINEL" not in page
    assert "监督电话" not in page  # none set: left off rather than blank


def test_small_map_keeps_the_grid_square() -> None:
    # A square of 1 km at 60°N spans twice as many degrees of longitude as of latitude.
    square = box(10.0, 59.995, 10.018, 60.004)
    grid = PublishedArea("G1", "方", "grid", square)

    svg = grid_svg(grid, grid)

    width, height = map(
        float, re.search(r"viewBox='0 0 ([\d.]+) ([\d.]+)'", svg).groups()
    )  # type: ignore[union-attr]
    assert width == pytest.approx(height, rel=0.01)


def test_card_file_names_stay_in_the_folder() -> None:
    assert card_filename(GRID) == f"{GRID}-card.html"
    assert "/" not in card_filename("../../etc/passwd")
