"""Plan commands (网格调整规划): draft, edit, compare, check, publish, rebase, roll back.

A plan is a draft of one community's (or street's) grids. Nothing here
changes the published grids until ``geogrid plan publish``; ``diff`` and
``check`` say beforehand what a publish would move and whom it would affect.
"""

import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from geogrid.cli.options import (
    AuthorOpt,
    FormatOpt,
    OutputFormat,
    PlanArg,
    actor,
    database,
)
from geogrid.cli.output import ExitCode, console, fail
from geogrid.cli.plan_report import (
    print_check,
    print_diff,
    print_state,
    table,
)
from geogrid.config import get_settings
from geogrid.errors import GeogridError, InvalidInput

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from geogrid.domain.answers import PlanImpact

plan_app = typer.Typer(help="网格调整规划 (grid plans)", no_args_is_help=True)

CommunityOpt = Annotated[str | None, typer.Option("--community", help="社区编码")]
# click's own formats, plus the microseconds of an ISO time copied from JSON.
DATETIME_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]
StreetOpt = Annotated[str | None, typer.Option("--street", help="街道编码")]


def _scope(community: str | None, street: str | None) -> str:
    if bool(community) == bool(street):
        fail(
            InvalidInput(
                "value_invalid",
                field="--community / --street",
                value="请给出其中一个 give exactly one",
            )
        )
    return community or street or ""


def _check_options() -> Any:
    from geogrid.services.coverage import check_options

    return {"check": check_options(get_settings())}


@plan_app.command("new")
def plan_new_cmd(
    community: CommunityOpt = None,
    street: StreetOpt = None,
    name: Annotated[str, typer.Option("--name", help="规划名称")] = "",
    author: AuthorOpt = None,
) -> None:
    """从现行网格新建规划草案 / start a draft from a community's or street's grids."""
    from geogrid.services import planning

    scope = _scope(community, street)
    try:
        with database(get_settings()) as engine:
            state = planning.new_plan(engine, scope, name=name, author=actor(author))
    except GeogridError as exc:
        fail(exc)
    console.print(f"已新建规划 created plan: {state.id}")
    print_state(state)


@plan_app.command("list")
def plan_list_cmd(
    scope: Annotated[
        str | None, typer.Option("--scope", help="只列出该社区或街道的规划")
    ] = None,
) -> None:
    """列出规划（新的在前）/ list plans, newest first."""
    from geogrid.services import planning

    try:
        with database(get_settings()) as engine:
            plans = planning.list_plans(engine, scope=scope)
    except GeogridError as exc:
        fail(exc)
    rows = [
        [str(p.id), p.name, p.scope, p.status, p.created_by,
         f"{p.created_at:%Y-%m-%d %H:%M:%S}"]
        for p in plans
    ]  # fmt: skip
    headers = ["编号 id", "名称 name", "范围 scope", "状态 status", "创建人 by",
               "创建 created (UTC)"]  # fmt: skip
    console.print(table(headers, rows, codes=(0, 2, 3, 5)))


@plan_app.command("show")
def plan_show_cmd(plan_id: PlanArg, fmt: FormatOpt = OutputFormat.text) -> None:
    """显示规划：每步编辑（操作人、时间）与网格 / a plan's steps and grids."""
    from geogrid.services import planning

    try:
        with database(get_settings()) as engine:
            state = planning.plan_state(engine, plan_id)
    except GeogridError as exc:
        fail(exc)
    if fmt is OutputFormat.json:
        typer.echo(state.summary().model_dump_json())
        return
    rows = [
        [str(s.seq), s.op, s.author, f"{s.at:%Y-%m-%d %H:%M:%S}", _describe(s.params)]
        for s in state.steps
    ]
    headers = ["步 step", "操作 op", "操作人 author", "时间 at (UTC)", "内容 params"]
    console.print(table(headers, rows, codes=(3,)))
    print_state(state)


def _describe(params: dict[str, Any]) -> str:
    parts = []
    for key, value in params.items():
        if key == "line":
            continue
        if key == "features":
            value = f"{len(value.get('features', []))} 个网格 grids"
        elif isinstance(value, list):
            value = "、".join(
                " ".join(v) if isinstance(v, list) else str(v) for v in value
            )
        parts.append(f"{key}={value}")
    return "  ".join(parts)


def _print_counts(counts: dict[str, int]) -> None:
    console.print("网格 grids：" + "，".join(f"{k} {v}" for k, v in counts.items()))


def _impact(engine: "Engine", plan_id: int) -> "PlanImpact":
    from geogrid.services import planning

    return planning.diff(engine, plan_id, **_check_options())


@plan_app.command("diff")
def plan_diff_cmd(
    plan_id: PlanArg,
    fmt: FormatOpt = OutputFormat.text,
    map_file: Annotated[
        Path | None, typer.Option("--map", help="把变化画成网页地图（.html）")
    ] = None,
    notice_file: Annotated[
        Path | None, typer.Option("--notice", help="写出调整告知表（.csv）")
    ] = None,
) -> None:
    """规划与现行网格的差异与影响 / what the plan changes and whom it affects."""
    from geogrid.services import planning

    try:
        with database(get_settings()) as engine:
            impact = _impact(engine, plan_id)
            state = planning.plan_state(engine, plan_id)
            if map_file is not None:
                _write_map(engine, plan_id, impact, map_file)
            if notice_file is not None:
                _write_notice(engine, impact, notice_file)
    except GeogridError as exc:
        fail(exc)
    if fmt is OutputFormat.json:
        typer.echo(impact.model_dump_json())
    else:
        print_diff(impact, state.grids)
    for path in (map_file, notice_file):
        if path is not None:
            console.print(f"已生成 written: {path}")


def _write_map(
    engine: "Engine", plan_id: int, impact: "PlanImpact", path: Path
) -> None:
    from geogrid.maps.base import write_site
    from geogrid.maps.plan import plan_diff_map
    from geogrid.maps.tiles import tiles_of
    from geogrid.services import planning

    settings = get_settings()
    tiles = tiles_of(settings)
    old, new, buildings = planning.plan_frames(engine, plan_id)
    page = plan_diff_map(impact, old, new, buildings, tiles=tiles)
    write_site({path.stem: page}, path.parent)


def _write_notice(engine: "Engine", impact: "PlanImpact", path: Path) -> None:
    from geogrid.services.notices import change_notice

    # The CSV starts with a BOM already (Excel on Chinese Windows reads UTF-8).
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(change_notice(engine, impact).csv(), encoding="utf-8")


@plan_app.command("check")
def plan_check_cmd(plan_id: PlanArg, fmt: FormatOpt = OutputFormat.text) -> None:
    """检查规划：全部检查规则，发布后会新增错误级问题时退出码为 1 / check a plan (exit 1 if it adds an error)."""
    try:
        with database(get_settings()) as engine:
            impact = _impact(engine, plan_id)
    except GeogridError as exc:
        fail(exc)
    if fmt is OutputFormat.json:
        keys = {"plan", "coverage", "band", "households", "findings"}
        typer.echo(impact.model_dump_json(include=keys))
    else:
        print_check(impact)
    if impact.coverage.introduced or impact.findings.adds_errors:
        raise typer.Exit(ExitCode.FINDINGS)


@plan_app.command("publish")
def plan_publish_cmd(plan_id: PlanArg, author: AuthorOpt = None) -> None:
    """发布规划为新版网格（旧版保留可查）/ publish the draft as the new generation."""
    from geogrid.services import planning

    try:
        with database(get_settings()) as engine:
            done = planning.publish(
                engine, plan_id, author=actor(author), **_check_options()
            )
    except GeogridError as exc:
        fail(exc)
    console.print(
        f"已发布 published: 规划 plan #{done.id}，生效 valid from {done.valid_from:%Y-%m-%d %H:%M:%S} (UTC)，"
        f"{done.moves} 栋楼栋改变网格 buildings moved"
    )
    _print_counts(done.counts)


@plan_app.command("discard")
def plan_discard_cmd(plan_id: PlanArg, author: AuthorOpt = None) -> None:
    """放弃规划草案 / give a draft up (it stays listed as discarded)."""
    from geogrid.services import planning

    try:
        with database(get_settings()) as engine:
            planning.discard(engine, plan_id, author=actor(author))
    except GeogridError as exc:
        fail(exc)
    console.print(f"已放弃 discarded: 规划 plan #{plan_id}")


@plan_app.command("rebase")
def plan_rebase_cmd(plan_id: PlanArg, author: AuthorOpt = None) -> None:
    """在现行网格上重放草案的编辑 / replay the draft's edits on the current grids."""
    from geogrid.services import planning

    try:
        with database(get_settings()) as engine:
            state = planning.rebase(engine, plan_id, author=actor(author))
    except GeogridError as exc:
        fail(exc)
    console.print(f"已 rebase rebased: 规划 plan #{plan_id}")
    print_state(state)


@plan_app.command("rollback")
def plan_rollback_cmd(
    to: Annotated[
        datetime,
        typer.Option(
            "--to",
            help="回到该时刻（UTC，同 plan show 的时间）的网格",
            formats=[*DATETIME_FORMATS, "%Y-%m-%dT%H:%M:%S.%f"],
        ),
    ],
    community: CommunityOpt = None,
    street: StreetOpt = None,
    author: AuthorOpt = None,
) -> None:
    """回滚：重新发布某一时刻的网格（管理员操作）/ publish again the grids as they stood at a time."""
    from geogrid.services import planning
    from geogrid.services.assignment import assign_options

    scope = _scope(community, street)
    settings = get_settings()
    try:
        with database(settings) as engine:
            done = planning.rollback(
                engine,
                scope,
                to=to,
                assign=assign_options(settings),
                author=actor(author),
            )
    except GeogridError as exc:
        fail(exc)
    console.print(f"已回滚 rolled back: {scope} → {done.to:%Y-%m-%d %H:%M:%S}")
    _print_counts(done.counts)


@plan_app.command("propose")
def plan_propose_cmd(
    community: Annotated[str, typer.Option("--community", help="社区编码")],
    households: Annotated[
        str | None,
        typer.Option("--households", help="每格户数区间，如 300-500（默认按配置）"),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="写出建议网格（.geojson、.gpkg、.shp）"),
    ] = None,
    as_plan: Annotated[
        bool, typer.Option("--plan", help="据此新建规划草案（一步 replace 编辑）")
    ] = False,
    seed: Annotated[int, typer.Option("--seed", help="随机种子；相同种子结果相同")] = 0,
    name: Annotated[str, typer.Option("--name", help="规划名称（配合 --plan）")] = "",
    author: AuthorOpt = None,
) -> None:
    """按户数区间建议网格划分 / propose grids for a community within a households band."""
    from geogrid.io.writers import write_features
    from geogrid.services.proposals import propose, propose_plan

    settings = get_settings()
    band = _band(
        households, (settings.grid_households_min, settings.grid_households_max)
    )
    try:
        with database(settings) as engine:
            proposal = propose(engine, community, band, seed=seed)
            if output is not None:
                write_features(proposal.grids, output, layer="grids")
            state = (
                propose_plan(
                    engine, community, proposal, name=name, author=actor(author)
                )
                if as_plan
                else None
            )
    except GeogridError as exc:
        fail(exc)
    low, high = band
    rows = [
        [g.code, str(g.name), str(g.households), str(g.n_buildings),
         "是" if low <= g.households <= high else "否",
         "保留" if g.kept else "新增"]
        for g in proposal.grids.itertuples()
    ]  # fmt: skip
    headers = ["网格 grid", "名称 name", "户数 households", "楼栋 buildings",
               f"在区间 in band {low}–{high}", "保留 kept"]  # fmt: skip
    console.print(table(headers, rows, codes=(0, 1), title=f"网格划分建议 {community}"))
    for problem in proposal.problems:
        console.print(f"问题 problem：{problem}")
    if output is not None:
        console.print(f"已写出 written: {output}")
    if state is not None:
        console.print(
            f"已新建规划 created plan: {state.id}（geogrid plan diff {state.id} 查看影响）"
        )


def _band(text: str | None, default: tuple[int, int]) -> tuple[int, int]:
    if text is None:
        return default
    found = re.fullmatch(r"\s*(\d+)\s*[-–~,]\s*(\d+)\s*", text)
    if found is None or int(found[1]) > int(found[2]):
        fail(
            InvalidInput(
                "value_invalid", field="--households", value=f"{text}（应为 300-500）"
            )
        )
    return int(found[1]), int(found[2])


# The edit commands (geogrid plan edit ID …) register themselves on ``plan_app``.
