"""The ``geogrid`` command (命令行): parse options, call one service, print the result.

Services are imported inside each command so that ``geogrid --help`` stays
fast and does not load GDAL or SQLAlchemy.
"""

import json
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from geogrid.config import Settings, get_settings
from geogrid.domain.findings import RULES
from geogrid.errors import GeogridError, ImportRejected, InvalidInput
from geogrid.messages import Lang, level_name, render

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sqlalchemy import Engine

    from geogrid.io.report import ImportReport
    from geogrid.services.coverage import CoverageResult
    from geogrid.services.imports import ImportOptions

app = typer.Typer(
    help="geogrid 网格化管理：边界、楼栋、地址、人员与覆盖检查 (community grid governance)",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="导入数据文件 (import files)", no_args_is_help=True)
app.add_typer(import_app, name="import")

# Markup off: names and addresses from the database may hold "[...]", which
# rich would otherwise read as style tags and silently drop.
console = Console(markup=False, highlight=False)
err_console = Console(stderr=True, markup=False, highlight=False)


class Level(StrEnum):
    """Area levels the CLI accepts."""

    district = "district"
    street = "street"
    community = "community"
    grid = "grid"
    estate = "estate"


class FeatureLayer(StrEnum):
    """Feature layers the CLI imports."""

    buildings = "buildings"
    lanes = "lanes"
    addresses = "addresses"
    centres = "centres"


class OutputFormat(StrEnum):
    """How a report is printed."""

    text = "text"
    json = "json"


def _lang() -> Lang:
    return get_settings().lang


@contextmanager
def _database(settings: Settings) -> "Iterator[Engine]":
    """The configured database, migrated to the newest schema, closed afterwards."""
    from geogrid.store.engine import init_db, make_engine

    engine = make_engine(
        settings.database_url, spatialite_path=settings.spatialite_path
    )
    try:
        init_db(engine)
        yield engine
    finally:
        engine.dispose()


def _fail(exc: GeogridError, *, code: int = 2) -> NoReturn:
    err_console.print(
        Text("错误 / error ", "red") + f"[{exc.code}] {exc.message(_lang())}"
    )
    raise typer.Exit(code)


def _print_report(report: "ImportReport", fmt: OutputFormat) -> None:
    lang = _lang()
    if fmt is OutputFormat.json:
        console.print_json(
            json.dumps(report.to_dict(lang), ensure_ascii=False, default=str)
        )
        return
    if report.problems:
        table = Table("记录 record", "级别 severity", "问题 code", "说明 message")
        for p in report.problems:
            table.add_row(p.record, p.severity, p.code, p.message(lang))
        console.print(table)
    if report.is_ok:
        console.print(
            render(
                "import_done",
                lang,
                n_written=report.n_written,
                kind=level_name(report.kind, lang),
                n_read=report.n_read,
                n_warnings=len(report.warnings),
            )
            + (
                "  " + json.dumps(report.counts, ensure_ascii=False)
                if report.counts
                else ""
            )
        )
    else:
        err_console.print(
            Text(render("import_rejected", lang, n_errors=len(report.errors)), "red")
        )


def _run_import(fmt: OutputFormat, action: "Callable[[Engine], ImportReport]") -> None:
    try:
        with _database(get_settings()) as engine:
            report = action(engine)
    except ImportRejected as exc:
        _print_report(exc.report, fmt)
        raise typer.Exit(1) from exc
    except GeogridError as exc:
        _fail(exc)
    _print_report(report, fmt)


CrsOpt = Annotated[
    str | None,
    typer.Option(
        "--crs", help="坐标参考系：EPSG 代码、gcj02 或 bd09（覆盖文件自带的）"
    ),
]
RepairOpt = Annotated[
    bool, typer.Option("--repair", help="用 make_valid 修复无效几何并报告改动")
]
LayerOpt = Annotated[str | None, typer.Option("--layer", help="多图层文件中的图层名")]
EncodingOpt = Annotated[str | None, typer.Option("--encoding", help="字符编码，如 gbk")]
CodeFieldOpt = Annotated[str, typer.Option("--code-field", help="编码字段")]
NameFieldOpt = Annotated[str, typer.Option("--name-field", help="名称字段")]
FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="输出格式")]
LonOpt = Annotated[str | None, typer.Option("--lon-field", help="CSV 经度列")]
LatOpt = Annotated[str | None, typer.Option("--lat-field", help="CSV 纬度列")]


def _options(**kwargs: object) -> "ImportOptions":
    from geogrid.services.imports import ImportOptions

    return ImportOptions(**kwargs)  # type: ignore[arg-type]


@import_app.command("boundaries")
def import_boundaries_cmd(
    file: Path,
    level: Annotated[Level, typer.Option("--level", help="层级")],
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
    fmt: FormatOpt = OutputFormat.text,
) -> None:
    """导入区域边界（街道、社区、网格、小区）/ import area boundaries as a new generation."""
    from geogrid.domain.codes import AreaLevel
    from geogrid.services.assignment import assign_options
    from geogrid.services.boundaries import import_boundaries

    settings = get_settings()
    options = _options(
        crs=crs,
        repair=repair,
        layer=layer,
        encoding=encoding,
        code_field=code_field,
        name_field=name_field,
        parent_field=parent_field,
        is_free_codes=free_codes,
        valid_from=valid_from,
    )
    _run_import(
        fmt,
        lambda engine: import_boundaries(
            engine,
            file,
            level=AreaLevel(level.value),
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
        fmt: FormatOpt = OutputFormat.text,
    ) -> None:
        from geogrid.services.imports import import_features

        options = _options(
            crs=crs,
            repair=repair,
            layer=layer_name,
            encoding=encoding,
            code_field=code_field,
            name_field=name_field,
            text_field=text_field,
            lon_field=lon_field,
            lat_field=lat_field,
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
        with _database(settings) as engine:
            save_scheme(engine, scheme, activate=activate)
    except GeogridError as exc:
        _fail(exc)
    roles = "、".join(f"{r.title}({r.key})" for r in scheme.roles)
    console.print(
        f"角色方案“{scheme.name}”已保存{'并启用' if activate else ''}：{roles}"
    )


@app.command("export")
def export_cmd(
    layer: Annotated[
        str,
        typer.Argument(
            help="district|street|community|grid|estate|buildings|lanes|addresses|centres|people"
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
        with _database(settings) as engine:
            n = export_layer(engine, layer, output, as_of=date)
    except GeogridError as exc:
        _fail(exc)
    console.print(
        render(
            "export_done", _lang(), n=n, layer=level_name(layer, _lang()), path=output
        )
    )


@app.command("init")
def init_cmd() -> None:
    """建库或升级数据库结构 / create or upgrade the database schema."""
    settings = get_settings()
    try:
        with _database(settings):
            pass
    except GeogridError as exc:
        _fail(exc)
    from geogrid.store.engine import display_url

    console.print(
        f"数据库已就绪 / database ready: {display_url(settings.database_url)}"
    )


def _print_summary(engine: "Engine") -> None:
    from geogrid.services.summary import database_summary

    lang = _lang()
    table = Table("图层 layer", "数量 count")
    for layer, n in database_summary(engine).items():
        table.add_row(level_name(layer, lang), str(n))
    console.print(table)


@app.command("status")
def status_cmd() -> None:
    """数据概况 / what the database holds."""
    settings = get_settings()
    try:
        with _database(settings) as engine:
            _print_summary(engine)
    except GeogridError as exc:
        _fail(exc)


@app.command("demo")
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
            _database(settings) as engine,
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
                _print_report(report, OutputFormat.text)
            _print_summary(engine)
    except ImportRejected as exc:
        _print_report(exc.report, OutputFormat.text)
        raise typer.Exit(1) from exc
    except GeogridError as exc:
        _fail(exc)


@app.command("assign")
def assign_cmd() -> None:
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
            _database(settings) as engine,
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
        _fail(exc)
    console.print(
        f"楼栋 {summary.buildings} 栋：{len(summary.buildings_in_no_grid)} 栋不在任何网格，"
        f"{len(summary.buildings_split)} 栋跨网格"
    )
    for code in summary.buildings_in_no_grid:
        console.print(f"  不在网格 no grid: {code}")
    for code, grid, other, share in summary.buildings_split:
        console.print(f"  跨网格 split: {code} {grid} / {other} {share:.0%}")
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


def _print_lookup(result: dict[str, object]) -> None:
    """A lookup as a staff member reads it: the chain, then each level's people."""
    for level in result.get("chain", []):  # type: ignore[union-attr]
        console.print(
            Text(level["level_name"], "bold") + f" {level['name']} ({level['code']})"
        )
        for card in level["holders"]:
            extra = " ".join(
                str(card[k]) for k in ("phone", "organisation") if card.get(k)
            )
            console.print(f"    {card['title']}：{card.get('name', '')} {extra}")
    nearest = result.get("nearest_building")
    if nearest:
        console.print(
            f"最近楼栋 nearest building: {nearest['name']} ({nearest['code']}) {nearest['distance_m']} 米"
        )
    if result.get("candidates"):
        console.print("候选 candidates:")
        for c in result["candidates"]:  # type: ignore[union-attr]
            console.print(
                f"  {c['score']:.2f}  {c['text']} ({c['code']})  [{', '.join(c['matched'])}]"
            )
    if "grids" in result:
        console.print(
            f"网格 {len(result['grids'])} 个，楼栋 {len(result['buildings'])} 栋，"  # type: ignore[arg-type]
            f"地址 {result['n_addresses']} 条，{result['households']} 户"
        )
        for grid in result["grids"]:  # type: ignore[union-attr]
            console.print(f"  {grid['name']} ({grid['code']})")
    if result.get("found") is False:
        message = (
            "没有把握确定该地址" if "candidates" in result else "该点不在任何区域内"
        )
        err_console.print(Text(f"{message} / not found", "yellow"))


RULE_TITLES = {code: rule.title for code, rule in RULES.items()}

REASONS = {
    "in_building": "在楼栋内",
    "near_building": "靠近楼栋",
    "in_grid": "仅在网格内",
    "outside": "不在任何网格",
    "ambiguous": "归属不明",
    "no_geometry": "无坐标",
}


@app.command("lookup")
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

    settings = get_settings()
    if role not in {r.value for r in Role}:
        _fail(InvalidInput("value_invalid", field="--role", value=role))
    caller = Role(role)
    try:
        with _database(settings) as engine:
            service = LookupService(engine, near_m=settings.lookup_near_m)
            if within is not None:
                result = service.within(_read_json(within), crs=crs, caller=caller)
            elif point is not None:
                lon, lat = _parse_point(point)
                result = service.point(lon, lat, crs=crs, as_of=date, caller=caller)
            elif address:
                result = service.address(address, as_of=date, caller=caller)
            else:
                raise InvalidInput("lookup_query_missing")
    except GeogridError as exc:
        _fail(exc)
    if fmt is OutputFormat.json:
        console.print_json(json.dumps(result, ensure_ascii=False, default=str))
    else:
        _print_lookup(result)
    if "found" in result and not result["found"]:
        raise typer.Exit(3)


check_app = typer.Typer(help="覆盖检查：全覆盖、无死角 (coverage checks)")
app.add_typer(check_app, name="check")


class CheckFormat(StrEnum):
    """How a coverage report is written."""

    text = "text"
    json = "json"
    geojson = "geojson"
    csv = "csv"


@check_app.callback(invoke_without_command=True)
def check_cmd(
    ctx: typer.Context,
    community: Annotated[
        str | None, typer.Option("--community", help="只检查一个社区（编码）")
    ] = None,
    fmt: Annotated[
        CheckFormat, typer.Option("--format", help="text、json、geojson 或 csv")
    ] = CheckFormat.text,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="写入文件而不是屏幕")
    ] = None,
    store: Annotated[
        bool, typer.Option("--store/--no-store", help="保存为报告，便于下次比较")
    ] = True,
) -> None:
    """运行覆盖检查；有错误级别的问题时退出码为 1 / run the coverage check (exit 1 on errors)."""
    if ctx.invoked_subcommand is not None:
        return
    from geogrid.services.coverage import check_options, run_check

    settings = get_settings()
    try:
        with _database(settings) as engine:
            result = run_check(
                engine, check_options(settings), community=community, store=store
            )
    except GeogridError as exc:
        _fail(exc)
    text = _render_check(result, fmt)
    if output is not None:
        output.write_text(
            text, encoding="utf-8-sig" if fmt is CheckFormat.csv else "utf-8"
        )
        console.print(f"检查报告已写入 report written: {output}")
        _print_check_summary(result)
    elif fmt is CheckFormat.text:
        _print_check_summary(result)
        console.print(text)
    else:
        typer.echo(text)
    if result.has_errors:
        raise typer.Exit(1)


def _render_check(result: "CoverageResult", fmt: CheckFormat) -> str:
    from geogrid.services.coverage import findings_geojson, findings_table

    if fmt is CheckFormat.geojson:
        return json.dumps(findings_geojson(result), ensure_ascii=False)
    if fmt is CheckFormat.csv:
        return str(findings_table(result).to_csv(index=False))
    if fmt is CheckFormat.json:
        body = {
            "report_id": result.report_id,
            "created_at": result.created_at.isoformat(),
            "scope": result.scope,
            "summary": result.summary,
            "compared": result.compared,
            "findings": findings_geojson(result)["features"],
        }
        return json.dumps(body, ensure_ascii=False, default=str)
    lines = ["明细 details:"]
    for f in result.findings.sort_values(["severity", "rule"]).itertuples():
        mark = "已接受 accepted" if f.is_accepted else f.severity
        measure = "，".join(f"{k} {v}" for k, v in f.measure.items())
        lines.append(
            f"  [{mark}] {RULE_TITLES.get(f.rule, f.rule)}  {' '.join(f.codes[:6])}{' …' if len(f.codes) > 6 else ''}  {measure}  key={f.key}"
        )
    return "\n".join(lines)


def _print_check_summary(result: "CoverageResult") -> None:
    s = result.summary
    console.print(
        f"覆盖检查 coverage check {result.created_at:%Y-%m-%d %H:%M} 范围 scope {result.scope}："
        f"错误 {s['n_errors']}，警告 {s['n_warnings']}，已接受 {s['n_accepted']}"
        + (f"（报告 #{result.report_id}）" if result.report_id else "")
    )
    table = Table("规则 rule", "数量 count")
    for rule, n in sorted(s["by_rule"].items()):
        table.add_row(f"{RULE_TITLES.get(rule, rule)} ({rule})", str(n))
    console.print(table)
    if s["by_community"]:
        per = Table("社区 community", "问题 findings")
        for code, rules in sorted(s["by_community"].items()):
            per.add_row(
                code,
                "，".join(
                    f"{RULE_TITLES.get(r, r)} {n}" for r, n in sorted(rules.items())
                ),
            )
        console.print(per)
    if s["service"]:
        cover = Table(
            "社区 community", "服务设施 kind", "覆盖户数比例 households covered"
        )
        for row in s["service"]:
            cover.add_row(
                str(row["community_code"]),
                str(row["kind"]),
                f"{row['share_covered']:.1%}",
            )
        console.print(cover)
    if result.compared is not None:
        console.print(
            f"与上次报告相比 since report #{result.compared['previous_report'][0]}："
            f"已修复 fixed {len(result.compared['fixed'])}，新增 new {len(result.compared['new'])}"
        )


@check_app.command("accept")
def check_accept_cmd(
    key: Annotated[
        str, typer.Argument(help="检查发现的 key（见 geogrid check 的明细）")
    ],
    reason: Annotated[
        str, typer.Option("--reason", help="接受的理由，如“飞地，不属于本社区”")
    ],
    by: Annotated[str, typer.Option("--by", help="接受人")] = "planner",
) -> None:
    """接受一条检查发现为例外 / accept a finding as a known exception."""
    from geogrid.services.coverage import accept_finding

    settings = get_settings()
    try:
        with _database(settings) as engine:
            done = accept_finding(engine, key, reason=reason, accepted_by=by)
    except GeogridError as exc:
        _fail(exc)
    console.print(
        f"已接受 accepted: {RULE_TITLES.get(done['rule'], done['rule'])} {done['codes']}（{reason}）"
    )


@check_app.command("revoke")
def check_revoke_cmd(
    key: Annotated[str, typer.Argument(help="检查发现的 key")],
) -> None:
    """撤销例外 / withdraw an accepted exception."""
    from geogrid.services.coverage import revoke_finding

    settings = get_settings()
    try:
        with _database(settings) as engine:
            revoke_finding(engine, key)
    except GeogridError as exc:
        _fail(exc)
    console.print(f"已撤销 revoked: {key}")


@app.command("serve")
def serve_cmd(
    host: Annotated[str | None, typer.Option("--host")] = None,
    port: Annotated[int | None, typer.Option("--port")] = None,
) -> None:
    """启动网络服务（OpenAPI 文档在 /docs）/ run the web service."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "geogrid.api.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
    )


@app.callback()
def main(
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="zh（默认）或 en", envvar="GEOGRID_LANG"),
    ] = None,
) -> None:
    """Geogrid 网格化管理 / community grid governance."""
    if lang in ("zh", "en"):
        get_settings().lang = lang  # type: ignore[assignment]
