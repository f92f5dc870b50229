"""Edit commands of a plan (编辑规划草案): ``geogrid plan edit ID split|merge|move|…``.

Each edit is one undoable step of the draft. Lines come as GeoJSON or WKT in
lon/lat, or from a file holding one; a replacement comes from a polygon file
read with the same checks as an import.
"""

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from geogrid.cli.options import (
    AuthorOpt,
    CodeFieldOpt,
    CrsOpt,
    EncodingOpt,
    LayerOpt,
    NameFieldOpt,
    OutputFormat,
    PlanArg,
    RepairOpt,
    actor,
    database,
    import_options,
)
from geogrid.cli.output import console, fail, print_import_report
from geogrid.cli.plan_report import print_state
from geogrid.config import get_settings
from geogrid.errors import GeogridError, ImportRejected, InvalidInput

edit_app = typer.Typer(
    help="编辑规划草案：geogrid plan edit ID 操作 … (edit a draft)",
    no_args_is_help=True,
)


def _run_edit(
    plan_id: int, op: str, params: dict[str, Any], author: str | None
) -> None:
    from geogrid.services import planning

    try:
        with database(get_settings()) as engine:
            state = planning.edit(engine, plan_id, op, params, author=actor(author))
    except GeogridError as exc:
        fail(exc)
    console.print(f"已应用 applied: {op}（第 {len(state.steps) - 1} 步 step）")
    print_state(state)


def _plan_id(ctx: typer.Context) -> int:
    assert ctx.parent is not None
    return int(ctx.parent.params["plan_id"])


@edit_app.callback()
def edit_cb(plan_id: PlanArg) -> None:
    """编辑规划草案，每次编辑为一步，可撤销 / edit a draft, one undoable step at a time."""


@edit_app.command("replace")
def edit_replace_cmd(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="网格面文件（GeoJSON、GPKG、SHP…）")],
    crs: CrsOpt = None,
    code_field: CodeFieldOpt = "code",
    name_field: NameFieldOpt = "name",
    layer: LayerOpt = None,
    encoding: EncodingOpt = None,
    repair: RepairOpt = False,
    free_codes: Annotated[
        bool, typer.Option("--free-codes", help="编码不按国家统计局区划代码检查")
    ] = False,
    author: AuthorOpt = None,
) -> None:
    """用文件中的网格替换草案的全部网格 / replace the draft's grids with a file's polygons."""
    from geogrid.services import planning

    options = import_options(
        crs=crs,
        repair=repair,
        layer=layer,
        encoding=encoding,
        code_field=code_field,
        name_field=name_field,
        is_free_codes=free_codes,
    )
    try:
        params = planning.replace_params(file, options)
    except ImportRejected as exc:
        print_import_report(exc.report, OutputFormat.text)
        raise typer.Exit(2) from exc
    except GeogridError as exc:
        fail(exc)
    _run_edit(_plan_id(ctx), "replace", params, author)


@edit_app.command("split")
def edit_split_cmd(
    ctx: typer.Context,
    grid: Annotated[str, typer.Option("--grid", help="要分割的网格编码")],
    line: Annotated[
        str,
        typer.Option(
            "--line", help="分割线：GeoJSON 或 WKT 文本，或含一条线的文件（经纬度）"
        ),
    ],
    new: Annotated[
        list[str],
        typer.Option("--new", help="编码:名称，给两次；先北（或西）半，后另一半"),
    ],
    author: AuthorOpt = None,
) -> None:
    """沿一条线把网格一分为二 / split a grid in two along a line."""
    if len(new) != 2:
        fail(
            InvalidInput(
                "value_invalid",
                field="--new",
                value=f"需要两个 two expected, got {len(new)}",
            )
        )
    params = {"grid": grid, "line": _line(line), "new": [_pair(n) for n in new]}
    _run_edit(_plan_id(ctx), "split", params, author)


@edit_app.command("merge")
def edit_merge_cmd(
    ctx: typer.Context,
    grids: Annotated[str, typer.Option("--grids", help="要合并的网格编码，逗号分隔")],
    code: Annotated[str, typer.Option("--code", help="合并后的网格编码")],
    name: Annotated[str, typer.Option("--name", help="合并后的网格名称")],
    author: AuthorOpt = None,
) -> None:
    """合并相邻网格 / merge neighbouring grids of one community."""
    params = {"grids": _codes(grids), "code": code, "name": name}
    _run_edit(_plan_id(ctx), "merge", params, author)


@edit_app.command("move")
def edit_move_cmd(
    ctx: typer.Context,
    buildings: Annotated[str, typer.Option("--buildings", help="楼栋编码，逗号分隔")],
    to: Annotated[str, typer.Option("--to", help="接收楼栋的相邻网格编码")],
    author: AuthorOpt = None,
) -> None:
    """把楼栋划入相邻网格，边界随之调整 / move buildings to a neighbouring grid."""
    params = {"buildings": _codes(buildings), "to": to}
    _run_edit(_plan_id(ctx), "move", params, author)


@edit_app.command("rename")
def edit_rename_cmd(
    ctx: typer.Context,
    grid: Annotated[str, typer.Option("--grid", help="网格编码")],
    name: Annotated[str, typer.Option("--name", help="新名称")],
    author: AuthorOpt = None,
) -> None:
    """重命名网格 / rename a grid."""
    _run_edit(_plan_id(ctx), "rename", {"grid": grid, "name": name}, author)


@edit_app.command("renumber")
def edit_renumber_cmd(
    ctx: typer.Context,
    grid: Annotated[str, typer.Option("--grid", help="网格编码")],
    to: Annotated[str, typer.Option("--to", help="新编码")],
    author: AuthorOpt = None,
) -> None:
    """更改网格编码 / give a grid a new code."""
    _run_edit(_plan_id(ctx), "renumber", {"grid": grid, "to": to}, author)


@edit_app.command("undo")
def edit_undo_cmd(ctx: typer.Context, author: AuthorOpt = None) -> None:
    """撤销最后一步编辑 / undo the last edit."""
    _undo(_plan_id(ctx), author)


def plan_undo_cmd(plan_id: PlanArg, author: AuthorOpt = None) -> None:
    """撤销最后一步编辑 / undo the last edit."""
    _undo(plan_id, author)


def _undo(plan_id: int, author: str | None) -> None:
    from geogrid.services import planning

    try:
        with database(get_settings()) as engine:
            state = planning.undo(engine, plan_id, author=actor(author))
    except GeogridError as exc:
        fail(exc)
    console.print(f"已撤销 undone: 剩 {len(state.steps) - 1} 步编辑 edits left")
    print_state(state)


def _codes(text: str) -> list[str]:
    return [c.strip() for c in text.replace("，", ",").split(",") if c.strip()]


def _pair(text: str) -> list[str]:
    code, sep, name = text.replace("：", ":").partition(":")
    if not sep or not code.strip() or not name.strip():
        fail(
            InvalidInput(
                "value_invalid",
                field="--new",
                value=f"{text}（应为 编码:名称 CODE:NAME）",
            )
        )
    return [code.strip(), name.strip()]


def _line(text: str) -> dict[str, Any]:
    """A GeoJSON LineString in lon/lat from GeoJSON or WKT text, or a file holding one."""
    import shapely
    from shapely.geometry import mapping, shape

    path = Path(text)
    if len(text) < 1024 and path.is_file():
        text = path.read_text(encoding="utf-8-sig")
    try:
        if text.lstrip().startswith("{"):
            data = json.loads(text)
            if data.get("type") == "FeatureCollection":
                data = data["features"][0] if len(data["features"]) == 1 else {}
            geom = shape(data.get("geometry", data))
        else:
            geom = shapely.from_wkt(text)
    except (
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        shapely.errors.ShapelyError,
    ):
        geom = None
    if geom is None or geom.geom_type != "LineString":
        fail(
            InvalidInput(
                "value_invalid",
                field="--line",
                value=f"{text[:60]}（应为一条 LineString）",
            )
        )
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        fail(
            InvalidInput(
                "value_invalid", field="--line", value="坐标应为经纬度 lon/lat expected"
            )
        )
    return dict(mapping(geom))
