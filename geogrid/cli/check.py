"""The coverage check commands (覆盖检查): check, accept, revoke."""

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from geogrid.config import get_settings
from geogrid.domain.findings import RULES
from geogrid.errors import GeogridError

if TYPE_CHECKING:
    from geogrid.services.coverage import CoverageResult

from geogrid.cli.options import database, os_user
from geogrid.cli.output import console, fail, lang, measure_text


def rule_title(code: str) -> str:
    """A rule's title in the reader's language (--lang)."""
    rule = RULES.get(code)
    if rule is None:
        return code
    return rule.title if lang() == "zh" else rule.title_en


class CheckFormat(StrEnum):
    """How a coverage report is written."""

    text = "text"
    json = "json"
    geojson = "geojson"
    csv = "csv"


check_app = typer.Typer(help="覆盖检查：全覆盖、无死角 (coverage checks)")


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
    limit: Annotated[
        int,
        typer.Option(
            "--limit",
            min=0,
            help="屏幕上最多列出的明细条数（0 为全部；写入文件时全部）",
        ),
    ] = 50,
) -> None:
    """运行覆盖检查；有错误级别的问题时退出码为 1 / run the coverage check (exit 1 on errors)."""
    if ctx.invoked_subcommand is not None:
        return
    from geogrid.services.coverage import check_options, run_check

    settings = get_settings()
    try:
        with database(settings) as engine:
            result = run_check(
                engine, check_options(settings), community=community, store=store
            )
    except GeogridError as exc:
        fail(exc)
    text = _render_check(result, fmt, limit=0 if output is not None else limit)
    if output is not None:
        output.write_text(
            text, encoding="utf-8-sig" if fmt is CheckFormat.csv else "utf-8"
        )
        console.print(f"检查报告已写入 report written: {output}")
        _print_check_summary(result)
    elif fmt is CheckFormat.text:
        _print_check_summary(result)
        # Plain echo: rich re-wraps one long text in time that grows with its
        # square (a city's 217,000 lines took 15 minutes), and the details
        # carry brackets that are not markup.
        typer.echo(text)
    else:
        typer.echo(text)
    if result.has_errors:
        raise typer.Exit(1)


def _render_check(result: "CoverageResult", fmt: CheckFormat, *, limit: int = 0) -> str:
    """The report in ``fmt``; a text report lists at most ``limit`` findings (0: all)."""
    from geogrid.services.coverage import (
        findings_geojson,
        findings_table,
        report_document,
    )

    if fmt is CheckFormat.geojson:
        return json.dumps(findings_geojson(result), ensure_ascii=False)
    if fmt is CheckFormat.csv:
        return str(findings_table(result).to_csv(index=False))
    if fmt is CheckFormat.json:
        body = report_document(result) | {"compared": result.compared}
        return json.dumps(body, ensure_ascii=False, default=str)
    # Open errors first, then warnings, accepted ones last: what to fix leads.
    findings = result.findings.sort_values(["is_accepted", "severity", "rule", "key"])
    shown = findings if not limit else findings.head(limit)
    lines = ["明细 details:"]
    for f in shown.itertuples():
        mark = "已接受 accepted" if f.is_accepted else f.severity
        measure = measure_text(f.measure)
        lines.append(
            f"  [{mark}] {rule_title(f.rule)}  {' '.join(f.codes[:6])}{' …' if len(f.codes) > 6 else ''}  {measure}  key={f.key}"
        )
    if len(shown) < len(findings):
        rest = len(findings) - len(shown)
        lines.append(
            f"  …… 另有 {rest} 条未列出；全部明细：--limit 0，或 --format csv -o 文件"
            f" / {rest} more not listed: --limit 0, or --format csv -o FILE"
        )
    return "\n".join(lines)


def _print_check_summary(result: "CoverageResult") -> None:
    s = result.summary
    console.print(
        f"覆盖检查 coverage check {result.created_at:%Y-%m-%d %H:%M} 范围 scope {result.scope}："
        f"错误 {s.n_errors}，警告 {s.n_warnings}，已接受 {s.n_accepted}"
        + (f"（报告 #{result.report_id}）" if result.report_id else "")
    )
    table = Table("规则 rule", "数量 count")
    for rule, n in sorted(s.by_rule.items()):
        table.add_row(f"{rule_title(rule)} ({rule})", str(n))
    console.print(table)
    if s.by_community:
        per = Table("社区 community", "问题 findings")
        for code, rules in sorted(s.by_community.items()):
            per.add_row(
                code,
                "，".join(f"{rule_title(r)} {n}" for r, n in sorted(rules.items())),
            )
        console.print(per)
    if s.service:
        cover = Table(
            "社区 community", "服务设施 kind", "覆盖户数比例 households covered"
        )
        for row in s.service:
            share = row.share_covered
            cover.add_row(
                str(row.community_code),
                row.kind,
                "-" if share is None else f"{share:.1%}",
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
    by: Annotated[
        str | None, typer.Option("--by", help="接受人（默认当前系统用户）")
    ] = None,
) -> None:
    """接受一条检查发现为例外 / accept a finding as a known exception."""
    from geogrid.services.coverage import accept_finding

    settings = get_settings()
    try:
        with database(settings) as engine:
            done = accept_finding(
                engine, key, reason=reason, accepted_by=by or os_user()
            )
    except GeogridError as exc:
        fail(exc)
    console.print(
        f"已接受 accepted: {rule_title(done['rule'])} {done['codes']}（{reason}）"
    )


@check_app.command("revoke")
def check_revoke_cmd(
    key: Annotated[str, typer.Argument(help="检查发现的 key")],
    by: Annotated[
        str | None, typer.Option("--by", help="撤销人（默认当前系统用户）")
    ] = None,
) -> None:
    """撤销例外 / withdraw an accepted exception."""
    from geogrid.services.coverage import revoke_finding

    settings = get_settings()
    try:
        with database(settings) as engine:
            revoke_finding(engine, key, actor=by or os_user())
    except GeogridError as exc:
        fail(exc)
    console.print(f"已撤销 revoked: {key}")
