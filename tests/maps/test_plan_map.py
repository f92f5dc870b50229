"""The plan diff map: old and new boundaries, moving buildings and figures, offline and escaped."""

import re
from pathlib import Path

from geogrid.domain.answers import PlanImpact
from geogrid.maps.base import write_site
from geogrid.maps.plan import plan_diff_map
from geogrid.services.planning import plan_frames
from geogrid.store.engine import Bind
from tests.plans import GRID, MERGED_AWAY, NEW, merge_plan, split_plan

HOSTILE = "<img src=x onerror=alert(1)>"


def _page(bind: Bind, impact: PlanImpact, tmp_path: Path) -> str:
    old, new, buildings = plan_frames(bind, impact.plan.id)
    write_site({"plan": plan_diff_map(impact, old, new, buildings)}, tmp_path)
    return (tmp_path / "plan.html").read_text(encoding="utf-8")


def _classes(page: str) -> list[set[str]]:
    return [set(c.split()) for c in re.findall(r'"className": "([^"]*)"', page)]


def test_plan_map_draws_old_and_new_boundaries_and_moving_buildings(
    sample_copy: Bind, tmp_path: Path
) -> None:
    impact = split_plan(sample_copy)
    page = _page(sample_copy, impact, tmp_path)
    classes = _classes(page)
    before, after = impact.households.before, impact.households.after

    assert "<title>网格调整方案对比图</title>" in page
    assert {"geogrid-old"} in classes  # the dashed current boundaries
    assert any({"geogrid-added", f"geogrid-g-{NEW}"} <= c for c in classes)
    assert any({"geogrid-changed", f"geogrid-g-{GRID}"} <= c for c in classes)
    assert impact.moves
    for move in impact.moves:
        assert any(
            {"geogrid-moved", f"geogrid-b-{move.building}"} <= c for c in classes
        )
        assert move.building in page
    assert f"{before[GRID]} → {after[GRID]}" in page  # the changed grid
    assert f"— → {after[NEW]}" in page  # the new grid had no households before
    assert "东街社区第8网格" in page
    assert "待配 to appoint" in page  # the new grid has no 网格长 yet
    assert "class=geogrid-legend" in page
    assert "L.control.layers" in page


def test_plan_map_loads_nothing_from_the_network(
    sample_copy: Bind, tmp_path: Path
) -> None:
    page = _page(sample_copy, split_plan(sample_copy), tmp_path)

    assert not re.findall(r"(?:src|href)=[\"']?(?:https?:)?//", page)
    assert "cdn" not in page.lower()


def test_a_removed_grid_is_hatched(sample_copy: Bind, tmp_path: Path) -> None:
    impact = merge_plan(sample_copy)
    page = _page(sample_copy, impact, tmp_path)

    assert impact.grids.removed == [MERGED_AWAY]
    assert any(
        {"geogrid-removed", f"geogrid-g-{MERGED_AWAY}"} <= c for c in _classes(page)
    )
    assert "<pattern id=geogrid-removed-hatch" in page


def test_a_hostile_grid_name_is_escaped(sample_copy: Bind, tmp_path: Path) -> None:
    impact = split_plan(sample_copy, rename=HOSTILE)
    page = _page(sample_copy, impact, tmp_path)

    assert HOSTILE not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
