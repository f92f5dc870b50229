"""The staff map: everything the public map has, plus private fields and households."""

from pathlib import Path

from geogrid.domain.access import Role
from geogrid.maps.base import write_site
from geogrid.maps.public import public_map
from geogrid.maps.staff import staff_map
from geogrid.services.publishing import public_map_data
from geogrid.store.engine import Bind

ORGANISATION = "城关街道东街社区居委会"  # 网格长 何婷's, on staff cards only


def _pages(sample_db: Bind, tmp_path: Path, community: str) -> tuple[str, str]:
    staff = staff_map(
        public_map_data(sample_db, community, caller=Role.STAFF), band=(300, 500)
    )
    public = public_map(public_map_data(sample_db, community))
    write_site({"staff": staff, "public": public}, tmp_path)
    return tuple(
        (tmp_path / f"{n}.html").read_text(encoding="utf-8")
        for n in ("staff", "public")
    )  # type: ignore[return-value]


def test_staff_map_shows_private_fields_the_public_map_leaves_out(
    sample_db: Bind, tmp_path: Path
) -> None:
    staff, public = _pages(sample_db, tmp_path, "620899001001")

    assert ORGANISATION in staff
    assert ORGANISATION not in public


def test_staff_map_shades_the_overloaded_grid(sample_db: Bind, tmp_path: Path) -> None:
    data = public_map_data(sample_db, "620899001005", caller=Role.STAFF)
    staff, _ = _pages(sample_db, tmp_path, "620899001005")

    households = {g.code: g.households for g in data.grids}
    assert households["620899001005001"] == 641
    assert all(
        300 <= n <= 500 for code, n in households.items() if code != "620899001005001"
    )
    assert (
        staff.count("#de2d26") == 2
    )  # the overloaded grid's fill and its legend entry
    assert "户数 641（标准 300–500）" in staff
