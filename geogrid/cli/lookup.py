"""Commands that answer who covers what (归属与查询): assign, lookup, serve."""

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from geogrid.cli.options import FormatOpt, OutputFormat, database
from geogrid.cli.output import ExitCode, console, err_console, fail
from geogrid.config import get_settings
from geogrid.domain.answers import (
    AddressAnswer,
    ChainLink,
    ContactCard,
    PointAnswer,
    WithinAnswer,
)
from geogrid.errors import GeogridError, InvalidInput

LISTED = 20
"""Buildings named per kind after ``assign`` unless ``--full``: a city has thousands."""


def assign_cmd(
    full: Annotated[
        bool,
        typer.Option("--full", help="列出全部不在网格、跨网格的楼栋 / list them all"),
    ] = False,
) -> None:
    """计算楼栋、地址的网格归属 / link every building and address to its grid."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from geogrid.services.assignment import assign_all, assign_options

    settings = get_settings()
    steps = {
        "load": "读取",
        "buildings": "楼栋归属",
        "addresses": "地址归属",
        "store": "保存",
    }
    try:
        with (
            database(settings) as engine,
            Progress(
                SpinnerColumn(), TextColumn("{task.description}"), console=console
            ) as bar,
        ):
            task = bar.add_task("归属计算 assigning…", total=len(steps))
            summary = assign_all(
                engine,
                assign_options(settings),
                on_step=lambda step: bar.update(
                    task, advance=1, description=steps[step]
                ),
            )
    except GeogridError as exc:
        fail(exc)
    console.print(
        f"楼栋 {summary.buildings} 栋：{len(summary.buildings_in_no_grid)} 栋不在任何网格，"
        f"{len(summary.buildings_split)} 栋跨网格"
    )
    # A city's 6,000 split buildings were 6,000 lines (and 1.2 s of printing).
    stray, split = summary.buildings_in_no_grid, summary.buildings_split
    shown = len(stray) + len(split) if full else LISTED
    for code in stray[:shown]:
        console.print(f"  不在网格 no grid: {code}")
    for code, grid, other, share in split[:shown]:
        console.print(f"  跨网格 split: {code} {grid} / {other} {share:.0%}")
    hidden = max(len(stray) - shown, 0) + max(len(split) - shown, 0)
    if hidden:
        console.print(
            f"  …另有 {hidden} 栋未列出，加 --full 全部列出 "
            f"({hidden} more: --full lists them all)"
        )
    reasons = "，".join(
        f"{REASONS.get(k, k)} {v}" for k, v in sorted(summary.reasons.items())
    )
    console.print(f"地址 {summary.addresses} 条：{reasons}")


def _parse_point(text: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in text.replace("，", ",").split(","))
    except ValueError:
        raise InvalidInput("value_invalid", field="--point", value=text) from None
    return lon, lat


def _read_json(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput("file_not_found", path=str(path)) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput("geojson_invalid", reason=str(exc)) from None
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features") or [{}]
        data = features[0]
    return data if isinstance(data, dict) else {}


def _print_cards(cards: list[ContactCard], indent: str) -> None:
    for card in cards:
        extra = " ".join(v for v in (card.phone, card.organisation) if v)
        console.print(f"{indent}{card.title}：{card.name or ''} {extra}")


def _print_chain(chain: list[ChainLink]) -> None:
    """The chain as a staff member reads it: each level, then its people."""
    for level in chain:
        console.print(Text(level.level_name, "bold") + f" {level.name} ({level.code})")
        _print_cards(level.holders, "    ")


def _print_point(answer: PointAnswer) -> None:
    _print_chain(answer.chain)
    if (nearest := answer.nearest_building) is not None:
        console.print(
            f"最近楼栋 nearest building: {nearest.name} ({nearest.code}) {nearest.distance_m} 米"
        )
    if not answer.found:
        err_console.print(Text("该点不在任何区域内 / not found", "yellow"))


def _print_address(answer: AddressAnswer) -> None:
    _print_chain(answer.chain)
    if answer.candidates:
        console.print("候选 candidates:")
        for c in answer.candidates:
            console.print(
                f"  {c.score:.2f}  {c.text} ({c.code})  [{', '.join(c.matched)}]"
            )
    if not answer.found:
        err_console.print(Text("没有把握确定该地址 / not found", "yellow"))


def _print_within(answer: WithinAnswer) -> None:
    console.print(
        f"网格 {len(answer.grids)} 个，楼栋 {len(answer.buildings)} 栋，"
        f"地址 {answer.n_addresses} 条，{answer.households} 户"
    )
    for grid in answer.grids:
        console.print(f"  {grid.name} ({grid.code})")
        _print_cards(grid.holders, "    ")


REASONS = {
    "in_building": "在楼栋内",
    "near_building": "靠近楼栋",
    "in_grid": "仅在网格内",
    "outside": "不在任何网格",
    "ambiguous": "归属不明",
    "no_geometry": "无坐标",
}


def lookup_cmd(
    address: Annotated[
        str | None, typer.Argument(help="地址文本，如“东街社区天和人家3号楼2单元”")
    ] = None,
    point: Annotated[str | None, typer.Option("--point", help="LON,LAT")] = None,
    crs: Annotated[
        str, typer.Option("--crs", help="EPSG:4326、EPSG:4490、gcj02、bd09")
    ] = "EPSG:4326",
    within: Annotated[
        Path | None,
        typer.Option("--within", help="GeoJSON 面文件：列出范围内的网格、楼栋、地址"),
    ] = None,
    date: Annotated[
        datetime | None, typer.Option("--date", help="按该日有效的边界与任职回答")
    ] = None,
    role: Annotated[
        str, typer.Option("--role", help="staff（默认）或 public：预览公众能看到的内容")
    ] = "staff",
    fmt: FormatOpt = OutputFormat.text,
) -> None:
    """查询谁负责某地址或某点 / who covers an address or a point."""
    from geogrid.domain.access import Role
    from geogrid.services.lookup import LookupService
    from geogrid.services.snapshot_cache import snapshot_cache

    settings = get_settings()
    if role not in {r.value for r in Role}:
        fail(InvalidInput("value_invalid", field="--role", value=role))
    caller = Role(role)
    answer: PointAnswer | AddressAnswer | WithinAnswer
    try:
        with database(settings) as engine:
            service = LookupService(
                engine,
                near_m=settings.lookup_near_m,
                cache=snapshot_cache(settings.cache_dir, settings.database_url),
            )
            if within is not None:
                answer = service.within(_read_json(within), crs=crs, caller=caller)
            elif point is not None:
                lon, lat = _parse_point(point)
                answer = service.point(lon, lat, crs=crs, as_of=date, caller=caller)
            elif address:
                answer = service.address(address, as_of=date, caller=caller)
            else:
                raise InvalidInput("lookup_query_missing")
    except GeogridError as exc:
        fail(exc)
    if fmt is OutputFormat.json:
        console.print_json(answer.model_dump_json())
    elif isinstance(answer, PointAnswer):
        _print_point(answer)
    elif isinstance(answer, AddressAnswer):
        _print_address(answer)
    else:
        _print_within(answer)
    if not isinstance(answer, WithinAnswer) and not answer.found:
        # As grep: 1 is "nothing matched"; 3 stays reserved for internal errors.
        raise typer.Exit(ExitCode.FINDINGS)


def serve_cmd(
    host: Annotated[str | None, typer.Option("--host")] = None,
    port: Annotated[int | None, typer.Option("--port")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="进程数 worker processes")
    ] = None,
) -> None:
    """启动网络服务（OpenAPI 文档在 /docs）/ run the web service."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "geogrid.api.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        access_log=False,
    )
