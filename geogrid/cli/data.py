"""Commands that move data (数据导入导出): import, export, init, status, demo."""

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from geogrid.config import get_settings
from geogrid.domain.codes import AreaLevel
from geogrid.errors import GeogridError, ImportRejected
from geogrid.messages import level_name, render

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine

    from geogrid.io.report import ImportReport

from geogrid.cli.options import (
    CodeFieldOpt,
    CrsOpt,
    EncodingOpt,
    FeatureLayer,
    FormatOpt,
    LatOpt,
    LayerOpt,
    LonOpt,
    NameFieldOpt,
    OutputFormat,
    RepairOpt,
    SkipInvalidOpt,
    SwapXyOpt,
    database,
    import_options,
    os_user,
)
from geogrid.cli.output import (
    ExitCode,
    console,
    fail,
    lang,
    print_import_report,
)


def _run_import(fmt: OutputFormat, action: "Callable[[Engine], ImportReport]") -> None:
    try:
        with database(get_settings()) as engine:
            report = action(engine)
    except ImportRejected as exc:
        # Bad records are bad input (exit 2); nothing was written.
        print_import_report(exc.report, fmt)
        raise typer.Exit(ExitCode.BAD_INPUT) from exc
    except GeogridError as exc:
        fail(exc)
    print_import_report(report, fmt)


import_app = typer.Typer(help="导入数据文件 (import files)", no_args_is_help=True)


@import_app.command("boundaries")
def import_boundaries_cmd(
    file: Path,
    level: Annotated[AreaLevel, typer.Option("--level", help="层级")],
    crs: CrsOpt = None,
    parent_field: Annotated[
        str | None,
        typer.Option("--parent-field", help="上级编码字段（默认按编码或位置推断）"),
    ] = None,
    code_field: CodeFieldOpt = "code",
    name_field: NameFieldOpt = "name",
    repair: RepairOpt = False,
    free_codes: Annotated[
        bool,
        typer.Option(
            "--free-codes", help="编码不按国家统计局区划代码长度检查（境外或自编数据）"
        ),
    ] = False,
    valid_from: Annotated[
        datetime | None, typer.Option("--valid-from", help="新版本生效时间（默认现在）")
    ] = None,
    layer: LayerOpt = None,
    encoding: EncodingOpt = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="允许结束文件中未出现的现行区域（文件是完整的新版本时）",
        ),
    ] = False,
    keep: Annotated[
        bool,
        typer.Option(
            "--keep", help="只新增或更新文件中的区域，文件中未出现的现行区域保持不变"
        ),
    ] = False,
    skip_invalid: SkipInvalidOpt = False,
    swap_xy: SwapXyOpt = False,
    fmt: FormatOpt = OutputFormat.text,
) -> None:
    """导入区域边界（街道、社区、网格、小区）/ import area boundaries as a new generation."""
    from geogrid.services.assignment import assign_options
    from geogrid.services.boundaries import import_boundaries

    settings = get_settings()
    options = import_options(
        crs=crs,
        repair=repair,
        layer=layer,
        encoding=encoding,
        code_field=code_field,
        name_field=name_field,
        parent_field=parent_field,
        is_free_codes=free_codes,
        valid_from=valid_from,
        is_replace=replace,
        is_keep=keep,
        is_skip_invalid=skip_invalid,
        is_swap_xy=swap_xy,
    )
    _run_import(
        fmt,
        lambda engine: import_boundaries(
            engine,
            file,
            level=level,
            options=options,
            tolerance_m=settings.containment_tolerance_m,
            assign=assign_options(settings),
        ),
    )


def _feature_command(layer: FeatureLayer) -> None:
    def command(
        file: Path,
        crs: CrsOpt = None,
        code_field: CodeFieldOpt = "code",
        name_field: NameFieldOpt = "name",
        text_field: Annotated[
            str, typer.Option("--text-field", help="地址文本字段，多个用逗号连接")
        ] = "text",
        lon_field: LonOpt = None,
        lat_field: LatOpt = None,
        repair: RepairOpt = False,
        layer_name: LayerOpt = None,
        encoding: EncodingOpt = None,
        skip_invalid: SkipInvalidOpt = False,
        swap_xy: SwapXyOpt = False,
        fmt: FormatOpt = OutputFormat.text,
    ) -> None:
        from geogrid.services.imports import import_features

        options = import_options(
            crs=crs,
            repair=repair,
            layer=layer_name,
            encoding=encoding,
            code_field=code_field,
            name_field=name_field,
            text_field=text_field,
            lon_field=lon_field,
            lat_field=lat_field,
            is_skip_invalid=skip_invalid,
            is_swap_xy=swap_xy,
        )
        _run_import(
            fmt,
            lambda engine: import_features(
                engine, file, layer=layer.value, options=options
            ),
        )

    command.__doc__ = f"导入{level_name(layer.value)} / import {layer.value}."
    import_app.command(layer.value)(command)


for _layer in FeatureLayer:
    _feature_command(_layer)


@import_app.command("people")
def import_people_cmd(
    file: Path,
    scheme: Annotated[
        str | None, typer.Option("--scheme", help="角色方案名（默认当前启用的方案）")
    ] = None,
    encoding: EncodingOpt = None,
    fmt: FormatOpt = OutputFormat.text,
) -> None:
    """导入人员与任职（CSV，每行一条任职）/ import people and their assignments."""
    from geogrid.services.people import import_people

    settings = get_settings()
    _run_import(
        fmt,
        lambda engine: import_people(
            engine,
            file,
            scheme_name=scheme,
            default_scheme=settings.role_scheme,
            encoding=encoding,
            author=os_user(),
        ),
    )


@import_app.command("scheme")
def import_scheme_cmd(
    source: Annotated[
        str,
        typer.Argument(
            help="YAML/JSON 文件，或预置方案名（三长三员一民警、三长、五级网格）"
        ),
    ],
    activate: Annotated[
        bool, typer.Option("--activate/--no-activate", help="设为当前方案")
    ] = True,
) -> None:
    """导入角色方案 / add a role scheme from a file or a preset."""
    from geogrid.domain.roles import load_preset
    from geogrid.services.people import read_scheme_file, save_scheme

    settings = get_settings()
    try:
        path = Path(source)
        scheme = read_scheme_file(path) if path.suffix else load_preset(source)
        with database(settings) as engine:
            save_scheme(engine, scheme, activate=activate)
    except GeogridError as exc:
        fail(exc)
    roles = "、".join(f"{r.title}({r.key})" for r in scheme.roles)
    console.print(
        f"角色方案“{scheme.name}”已保存{'并启用' if activate else ''}：{roles}"
    )


def export_cmd(
    layer: Annotated[
        str,
        typer.Argument(
            help="district|street|community|grid|estate|buildings|lanes|roads|addresses|centres|people"
        ),
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help=".gpkg、.geojson、.shp 或 .csv")
    ],
    date: Annotated[
        datetime | None, typer.Option("--date", help="导出该日期有效的边界版本")
    ] = None,
) -> None:
    """导出图层 / write a layer out with its codes and attributes."""
    from geogrid.services.exports import export_layer

    settings = get_settings()
    try:
        with database(settings) as engine:
            n = export_layer(engine, layer, output, as_of=date)
    except GeogridError as exc:
        fail(exc)
    console.print(
        render("export_done", lang(), n=n, layer=level_name(layer, lang()), path=output)
    )


def init_cmd() -> None:
    """建库或升级数据库结构 / create or upgrade the database schema."""
    settings = get_settings()
    try:
        with database(settings):
            pass
    except GeogridError as exc:
        fail(exc)
    from geogrid.store.engine import display_url

    console.print(
        f"数据库已就绪 / database ready: {display_url(settings.database_url)}"
    )


def _print_summary(engine: "Engine") -> None:
    from geogrid.services.summary import database_summary

    shown_in = lang()
    table = Table("图层 layer", "数量 count")
    for layer, n in database_summary(engine).items():
        table.add_row(level_name(layer, shown_in), str(n))
    console.print(table)


def status_cmd() -> None:
    """数据概况 / what the database holds."""
    settings = get_settings()
    try:
        with database(settings) as engine:
            _print_summary(engine)
    except GeogridError as exc:
        fail(exc)


def demo_cmd(
    data: Annotated[Path | None, typer.Option("--data", help="示例数据目录")] = None,
) -> None:
    """构建示例县数据库并打印概况 / build the sample county and print a summary."""
    from geogrid.services.demo import SAMPLE_DIR, build_sample

    settings = get_settings()
    from geogrid.store.engine import display_url

    console.print(f"示例县数据 → {display_url(settings.database_url)}")
    try:
        with (
            database(settings) as engine,
            console.status("导入中 importing…") as status,
        ):
            reports = build_sample(
                engine,
                data or SAMPLE_DIR,
                tolerance_m=settings.containment_tolerance_m,
                on_step=lambda step: status.update(
                    f"导入{level_name(step)} importing {step}…"
                ),
            )
            for report in reports:
                print_import_report(report, OutputFormat.text)
            _print_summary(engine)
    except ImportRejected as exc:
        print_import_report(exc.report, OutputFormat.text)
        raise typer.Exit(ExitCode.BAD_INPUT) from exc
    except GeogridError as exc:
        fail(exc)
