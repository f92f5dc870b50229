"""The coverage map: every finding of a community drawn and clickable, offline."""

import re
from dataclasses import replace
from pathlib import Path

import pytest

from geogrid.maps.base import write_site
from geogrid.maps.coverage import coverage_map
from geogrid.services.coverage import CheckOptions, CoverageResult, run_check
from geogrid.services.publishing import public_map_data
from geogrid.store.engine import Bind

COMMUNITY = "620899001006"  # the seeded gap and the building standing in it
VACANT = "620899001004"  # a grid without its 法律咨询员, a building without its 楼栋长
VACANT_GRID = "620899001004003"
SERVICE = "620899001007"  # homes beyond every 睦邻中心's 500 m


def _page(bind: Bind, community: str, tmp_path: Path) -> tuple[CoverageResult, str]:
    result = run_check(bind, CheckOptions(), community=community, store=False)
    write_site(
        {"map": coverage_map(result, public_map_data(bind, community))}, tmp_path
    )
    return result, (tmp_path / "map.html").read_text(encoding="utf-8")


def _classes(page: str) -> list[set[str]]:
    return [set(c.split()) for c in re.findall(r'"className": "([^"]*)"', page)]


def test_coverage_map_draws_every_finding_offline(
    sample_db: Bind, tmp_path: Path
) -> None:
    result, page = _page(sample_db, COMMUNITY, tmp_path)
    classes = _classes(page)

    assert {"gap", "building_no_grid", "address_unassigned"} <= set(
        result.findings["rule"]
    )
    for key in result.findings["key"]:
        assert any({"geogrid-finding", f"geogrid-key-{key}"} <= c for c in classes)
    assert "class=geogrid-legend" in page
    assert not re.findall(r"(?:src|href)=[\"']?(?:https?:)?//", page)


def test_grids_with_a_vacant_role_are_hatched(sample_db: Bind, tmp_path: Path) -> None:
    result, page = _page(sample_db, VACANT, tmp_path)
    vacant = result.findings[result.findings["rule"] == "role_vacant"]
    in_grid = vacant[[codes[0] == VACANT_GRID for codes in vacant["codes"]]]
    classes = _classes(page)

    assert len(in_grid) == 1
    assert "<pattern id=geogrid-hatch" in page
    assert "path.geogrid-vacant{fill:url(#geogrid-hatch)" in page
    for key in vacant["key"]:
        assert any({"geogrid-vacant", f"geogrid-key-{key}"} <= c for c in classes)
    assert f"岗位空缺：{in_grid['measure'].iloc[0]['title']}" in page
    # Other defects are not hatched.
    assert all(
        "geogrid-rule-role_vacant" in c for c in classes if "geogrid-vacant" in c
    )


def test_a_vacant_role_without_a_place_is_drawn_on_its_target(
    sample_db: Bind, tmp_path: Path
) -> None:
    result = run_check(sample_db, CheckOptions(), community=VACANT, store=False)
    findings = result.findings.copy()
    vacant = findings["rule"] == "role_vacant"
    findings.loc[vacant, "geometry"] = None
    write_site(
        {
            "map": coverage_map(
                replace(result, findings=findings), public_map_data(sample_db, VACANT)
            )
        },
        tmp_path,
    )
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    classes = _classes(page)

    assert vacant.sum() == 2  # the grid's 法律咨询员 and a building's 楼栋长
    for key in findings.loc[vacant, "key"]:
        assert any({"geogrid-vacant", f"geogrid-key-{key}"} <= c for c in classes)
    assert "无位置未画出" not in page


def test_a_finding_without_a_place_is_listed(sample_db: Bind, tmp_path: Path) -> None:
    result = run_check(sample_db, CheckOptions(), community=COMMUNITY, store=False)
    findings = result.findings.copy()
    gap = findings["rule"] == "gap"
    findings.loc[gap, "geometry"] = None
    write_site(
        {
            "map": coverage_map(
                replace(result, findings=findings),
                public_map_data(sample_db, COMMUNITY),
            )
        },
        tmp_path,
    )
    page = (tmp_path / "map.html").read_text(encoding="utf-8")
    key = findings.loc[gap, "key"].iloc[0]

    assert "1 条问题无位置未画出" in page
    assert " ".join(findings.loc[gap, "codes"].iloc[0]) in page
    assert not any(f"geogrid-key-{key}" in c for c in _classes(page))


def test_homes_beyond_the_service_radius_shade_their_hole(
    sample_db: Bind, tmp_path: Path
) -> None:
    result, page = _page(sample_db, SERVICE, tmp_path)
    key = result.findings.loc[result.findings["rule"] == "service_radius", "key"]

    assert len(key) == 1
    holes = [c for c in _classes(page) if "geogrid-service-hole" in c]
    assert holes
    assert all(f"geogrid-key-{key.iloc[0]}" in c for c in holes)


def test_measures_from_the_database_are_text(sample_db: Bind, tmp_path: Path) -> None:
    result = run_check(sample_db, CheckOptions(), community=COMMUNITY, store=False)
    findings = result.findings.copy()
    hostile = "<img src=x onerror=alert(1)>`${alert(2)}`"
    findings["measure"] = [m | {"note": hostile} for m in findings["measure"]]
    write_site(
        {
            "map": coverage_map(
                replace(result, findings=findings),
                public_map_data(sample_db, COMMUNITY),
            )
        },
        tmp_path,
    )
    page = (tmp_path / "map.html").read_text(encoding="utf-8")

    assert "<img src=x" not in page
    assert "${alert" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;&#96;&#36;{alert(2)}&#96;" in page


def test_coverage_map_on_gcj02_tiles_moves_findings_with_the_grids(
    sample_db: Bind,
) -> None:
    from geogrid.maps.tiles import base_map
    from geogrid.spatial.crs import wgs84_to_gcj02

    area = public_map_data(sample_db, COMMUNITY)
    result = run_check(sample_db, CheckOptions(), community=COMMUNITY, store=False)
    page = coverage_map(result, area, tiles=base_map("amap")).get_root().render()

    minx, miny = area.community.geometry.bounds[:2]
    shifted = base_map("amap").shift(area.community.geometry).bounds[0]
    assert "autonavi.com" in page
    assert str(round(shifted, 6)) in page  # the frame sits on the 高德 streets…
    assert str(round(minx, 6)) not in page
    assert shifted - minx == pytest.approx(
        float(wgs84_to_gcj02(minx, miny)[0]) - minx, abs=1e-5
    )
