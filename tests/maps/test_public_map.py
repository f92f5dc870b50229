"""The residents' map as HTML: offline, complete, and nothing private or executable in it."""

import re
from pathlib import Path

import pytest

from shapely.geometry import box

from geogrid.maps.base import write_site
from geogrid.maps.colors import distinct_colors
from geogrid.maps.public import card_html, public_map, safe_text
from geogrid.services.publishing import PublishedArea, public_map_data
from geogrid.store.engine import Bind

COMMUNITY = "620899001001"
PRIVATE_PHONES = {
    "13800008017"
}  # 邵西 (楼长, phone not public) — never on a public page


def _page(sample_db: Bind, tmp_path: Path, community: str = COMMUNITY) -> str:
    write_site({community: public_map(public_map_data(sample_db, community))}, tmp_path)
    return (tmp_path / f"{community}.html").read_text(encoding="utf-8")


def test_public_map_loads_nothing_from_the_internet(
    sample_db: Bind, tmp_path: Path
) -> None:
    page = _page(sample_db, tmp_path)

    assert not re.findall(r"(?:src|href)=[\"']?(?:https?:)?//", page)
    assert "static/leaflet/leaflet.js" in page
    assert (tmp_path / "static" / "leaflet" / "leaflet.js").stat().st_size > 100_000


def test_public_map_draws_every_grid_with_its_posted_contacts(
    sample_db: Bind, tmp_path: Path
) -> None:
    data = public_map_data(sample_db, COMMUNITY)
    page = _page(sample_db, tmp_path)

    assert len(data.grids) >= 5
    for grid in data.grids:
        assert grid.code in page
        assert safe_text(grid.name) in page
    assert "网格长" in page
    assert "何婷" in page  # 网格长 of grid 001, phone public


def test_public_map_holds_no_private_phone(sample_db: Bind, tmp_path: Path) -> None:
    pages = "".join(_page(sample_db, tmp_path, f"62089900100{i}") for i in range(1, 9))

    assert not any(phone in pages for phone in PRIVATE_PHONES)
    assert not re.search(r"1380000\d{4}", pages.replace("138****", "")) or _only_public(
        pages
    )


def _only_public(pages: str) -> bool:
    # Grid staff publish their phones; every full number shown must be one of theirs.
    return all(
        phone not in PRIVATE_PHONES for phone in re.findall(r"1380000\d{4}", pages)
    )


@pytest.mark.parametrize(
    "name",
    [
        "<img src=x onerror=alert(1)>",
        "`${alert(1)}`",
        "</script><script>alert(1)</script>",
    ],
    ids=["img", "template-literal", "script"],
)
def test_names_are_text_never_markup_or_code(name: str) -> None:
    area = PublishedArea(
        "G1",
        name,
        "grid",
        box(0, 0, 1, 1),
        [{"title": "网格长", "name": name, "phone": "138****0001"}],
    )

    card = card_html(area)

    for dangerous in ("<img", "`", "${", "<script", "</script"):
        assert dangerous not in card


def test_card_shows_only_whitelisted_fields() -> None:
    area = PublishedArea(
        "G1",
        "一网格",
        "grid",
        box(0, 0, 1, 1),
        [
            {
                "title": "网格员",
                "name": "张伟",
                "phone": "13800000001",
                "organisation": "秘密单位",
                "private_note": "SENTINEL",
            }
        ],
    )

    card = card_html(area)

    assert "张伟" in card
    assert "秘密单位" not in card
    assert "SENTINEL" not in card


def test_neighbouring_grids_never_share_a_colour(sample_db: Bind) -> None:
    grids = public_map_data(sample_db, COMMUNITY).grids
    colors = distinct_colors([g.geometry for g in grids])

    for i, a in enumerate(grids):
        for j, b in enumerate(grids):
            if i < j and a.geometry.buffer(1e-6).intersects(b.geometry):
                assert colors[i] != colors[j], (a.code, b.code)
