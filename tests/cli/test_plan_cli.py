"""``geogrid plan`` as a planner types it: draft, edit, diff, check, publish, rebase."""

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

import geopandas as gpd
import shapely
from shapely.geometry import shape

from geogrid.services import planning
from tests.cli.conftest import invoke
from tests.plans import COMMUNITY, GRID, NEW, split_line
from tests.plans import current_grids as _grids


@pytest.fixture
def run(cli_for: Callable[[str], CliRunner], sample_copy: Engine) -> CliRunner:
    return cli_for(sample_copy.url.render_as_string(hide_password=False))


def _new(run: CliRunner) -> int:
    result = invoke(run, "plan", "new", "--community", COMMUNITY, "--author", "wang")
    assert result.exit_code == 0, result.output
    found = re.search(r"created plan: (\d+)", result.output)
    assert found
    return int(found[1])


def _split(run: CliRunner, bind: Engine, plan_id: int, line: str = "") -> None:
    line = line or json.dumps(split_line(planning.plan_state(bind, plan_id), GRID))
    result = invoke(
        run,
        *("plan", "edit", plan_id, "split", "--grid", GRID, "--line", line),
        *("--new", f"{GRID}:东街社区第1网格", "--new", f"{NEW}:东街社区第8网格"),
        *("--author", "wang"),
    )
    assert result.exit_code == 0, result.output
    assert NEW in result.output


def test_plan_split_diff_check_publish_and_a_stale_plan_rebased(
    run: CliRunner, sample_copy: Engine
) -> None:
    first, second = _new(run), _new(run)
    renamed = invoke(
        run, "plan", "edit", second, "rename", "--grid", "620899001001003",
        "--name", "三网格", "--author", "li",
    )  # fmt: skip
    _split(run, sample_copy, first)

    diff = invoke(run, "plan", "diff", first)
    impact = json.loads(invoke(run, "plan", "diff", first, "--format", "json").output)
    check = invoke(run, "plan", "check", first)
    as_json = invoke(run, "plan", "check", first, "--format", "json").output
    added = json.loads(as_json)["findings"]["added"]
    published = invoke(run, "plan", "publish", first)
    stale = invoke(run, "plan", "publish", second)

    assert renamed.exit_code == 0
    assert diff.exit_code == 0
    moved = sum(m["households"] for m in impact["moves"])
    for text in (
        f"新增网格 added：{NEW} 东街社区第8网格",
        f"{GRID} │ {NEW}",
        str(moved),
    ):
        assert text in diff.output
    assert "网格长" in diff.output  # the new grid has none yet
    assert "超出 outside" in diff.output  # 414 households split below the band
    # No gap or overlap, but the new grid has no 网格长 yet: an error that
    # geogrid check would report after publishing, so plan check exits 1.
    assert check.exit_code == 1
    assert "未新增空白区" in check.output
    assert any(f["rule"] == "role_vacant" and f["codes"] == [NEW] for f in added)
    assert "发布后新增 the plan adds" in check.output
    assert published.exit_code == 0, published.output
    assert NEW in _grids(sample_copy)
    assert stale.exit_code == 2
    assert "plan_stale" in stale.output
    assert "基于旧版网格" in stale.output
    assert f"geogrid plan rebase {second}" in stale.output
    assert invoke(run, "plan", "rebase", second).exit_code == 0
    again = invoke(run, "plan", "publish", second)
    assert again.exit_code == 0, again.output
    shown = invoke(run, "plan", "show", second)
    assert "rename" in shown.output
    assert "li" in shown.output
    assert "published" in invoke(run, "plan", "list", "--scope", COMMUNITY).output


def test_plan_diff_writes_the_map_and_the_notice(
    run: CliRunner, sample_copy: Engine, tmp_path: Path
) -> None:
    plan_id = _new(run)
    _split(run, sample_copy, plan_id)

    result = invoke(
        run, "plan", "diff", plan_id, "--map", tmp_path / "site" / "plan.html",
        "--notice", tmp_path / "notices" / "notice.csv",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    page = (tmp_path / "site" / "plan.html").read_text(encoding="utf-8")
    assert "网格调整方案对比图" in page
    assert (tmp_path / "site" / "static").is_dir()  # offline: Leaflet beside it
    notice = (tmp_path / "notices" / "notice.csv").read_text(encoding="utf-8-sig")
    assert "东街社区第8网格" in notice
    assert not notice.startswith("\ufeff")  # one BOM, not two


def test_plan_propose_writes_grids_and_makes_a_plan(
    run: CliRunner, sample_copy: Engine, tmp_path: Path
) -> None:
    output = tmp_path / "proposal.geojson"

    kept = invoke(run, "plan", "propose", "--community", COMMUNITY)
    result = invoke(
        run, "plan", "propose", "--community", COMMUNITY, "--households", "150-250",
        "-o", output, "--plan", "--author", "wang",
    )  # fmt: skip

    assert kept.exit_code == 0, kept.output
    assert "保留" in kept.output  # the sample's grids already fit 300-500
    assert result.exit_code == 0, result.output
    assert "东街社区第8网格" in result.output  # new grids numbered after the old
    found = re.search(r"created plan: (\d+)", result.output)
    assert found
    plan = planning.plan_state(sample_copy, int(found[1]))
    proposed = gpd.read_file(output)
    assert sorted(proposed["code"]) == sorted(plan.grids["code"])
    assert set(proposed["code"]).isdisjoint(_grids(sample_copy))  # no reused code
    assert [s.op for s in plan.steps] == ["base", "replace"]
    checked = invoke(run, "plan", "check", found[1], "--format", "json")
    # No gap or overlap; the errors it adds are the new grids' vacant roles.
    assert checked.exit_code == 1
    findings = json.loads(checked.output)["findings"]
    assert json.loads(checked.output)["coverage"]["introduced"] == []
    errors = {f["rule"] for f in findings["added"] if f["severity"] == "error"}
    assert errors == {"role_vacant"}
    again = _new(run)
    replaced = invoke(run, "plan", "edit", again, "replace", output)
    assert replaced.exit_code == 0, replaced.output


def test_plan_undo_and_discard(
    run: CliRunner, sample_copy: Engine, tmp_path: Path
) -> None:
    plan_id = _new(run)
    line = shape(split_line(planning.plan_state(sample_copy, plan_id), GRID))
    (tmp_path / "line.wkt").write_text(shapely.to_wkt(line), encoding="utf-8")
    _split(run, sample_copy, plan_id, line=str(tmp_path / "line.wkt"))

    undone = invoke(run, "plan", "edit", plan_id, "undo")
    nothing = invoke(run, "plan", "undo", plan_id)
    discarded = invoke(run, "plan", "discard", plan_id)
    late = invoke(run, "plan", "edit", plan_id, "rename", "--grid", GRID, "--name", "x")

    assert undone.exit_code == 0
    assert NEW not in undone.output
    assert nothing.exit_code == 2
    assert "plan_nothing_to_undo" in nothing.output
    assert discarded.exit_code == 0
    assert late.exit_code == 2
    assert "plan_not_draft" in late.output
    assert "discarded" in invoke(run, "plan", "show", plan_id).output


def test_plan_replace_from_a_file_that_adds_an_overlap_fails_the_check(
    run: CliRunner, sample_copy: Engine, tmp_path: Path
) -> None:
    plan_id = _new(run)
    grids = planning.plan_state(sample_copy, plan_id).grids
    chosen = grids["code"] == GRID
    grids.loc[chosen, "geometry"] = shapely.buffer(
        grids[chosen].geometry.to_numpy(), 0.001
    )
    grids[["code", "name", "geometry"]].to_file(tmp_path / "grids.geojson")

    replaced = invoke(
        run, "plan", "edit", plan_id, "replace", tmp_path / "grids.geojson"
    )
    check = invoke(run, "plan", "check", plan_id)
    refused = invoke(run, "plan", "publish", plan_id)

    assert replaced.exit_code == 0, replaced.output
    assert check.exit_code == 1
    assert "不能发布" in check.output
    assert "重叠" in check.output
    assert refused.exit_code == 2
    assert "plan_adds_defects" in refused.output


LINE = "LINESTRING (107.3 35.3, 107.4 35.4)"


@pytest.mark.parametrize(
    ("line", "half", "named"),
    [
        ('{"type": "Point", "coordinates": [107.3, 35.3]}', f"{GRID}:一", "--line"),
        ("LINESTRING (500000 3900000, 500100 3900000)", f"{GRID}:一", "--line"),
        (LINE, GRID, "--new"),
    ],
    ids=["not-a-line", "not-lon-lat", "new-without-name"],
)
def test_plan_split_refuses_bad_options_by_name(
    run: CliRunner, line: str, half: str, named: str
) -> None:
    plan_id = _new(run)

    result = invoke(
        run, "plan", "edit", plan_id, "split", "--grid", GRID, "--line", line,
        "--new", half, "--new", f"{NEW}:八",
    )  # fmt: skip

    assert result.exit_code == 2
    assert named in result.output


def test_plan_rollback_publishes_the_old_grids_again(
    run: CliRunner, sample_copy: Engine
) -> None:
    plan_id = _new(run)
    _split(run, sample_copy, plan_id)
    before = (
        f"{planning.plan_state(sample_copy, plan_id).steps[0].at:%Y-%m-%dT%H:%M:%S}"
    )
    invoke(run, "plan", "publish", plan_id)

    result = invoke(run, "plan", "rollback", "--community", COMMUNITY, "--to", before)

    assert result.exit_code == 0, result.output
    assert NEW not in _grids(sample_copy)
    unknown = invoke(run, "plan", "show", 999)
    assert unknown.exit_code == 2
    assert "plan_not_found" in unknown.output
