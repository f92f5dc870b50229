"""What the commands print (输出): the consoles, exit codes and shared printers.

Markup is off on both consoles: names and addresses from the database may hold
"[...]", which rich would otherwise read as style tags and silently drop.
"""

import json
from enum import IntEnum
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from geogrid.cli.options import OutputFormat
from geogrid.config import get_settings
from geogrid.errors import GeogridError
from geogrid.messages import Lang, level_name, render

if TYPE_CHECKING:
    from geogrid.io.report import ImportReport

console = Console(markup=False, highlight=False)
err_console = Console(stderr=True, markup=False, highlight=False)


class ExitCode(IntEnum):
    """What scripts can trust (退出码)."""

    OK = 0
    FINDINGS = 1  # the check found error-level problems
    BAD_INPUT = 2  # bad usage, a bad file, a refused change
    INTERNAL = 3  # a bug: short message and the log's path, never a traceback


def lang() -> Lang:
    """The language of messages: ``--lang``, else ``GEOGRID_LANG``."""
    return get_settings().lang


def fail(exc: GeogridError, *, code: int = ExitCode.BAD_INPUT) -> NoReturn:
    """Print why a command was refused, in the user's language, and exit (2 by default)."""
    err_console.print(
        Text("错误 / error ", "red") + f"[{exc.code}] {exc.message(lang())}"
    )
    raise typer.Exit(code)


def measure_text(measure: dict[str, object]) -> str:
    """A finding's measure for reading: numbers to one decimal, nested maps flattened."""

    def shown(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.1f}"
        if isinstance(value, dict):
            return " ".join(f"{k}={shown(v)}" for k, v in value.items())
        return str(value)

    return "，".join(f"{k} {shown(v)}" for k, v in measure.items())


def print_import_report(report: "ImportReport", fmt: OutputFormat) -> None:
    """An import's report: each problem with its record, then the totals."""
    lang_ = lang()
    if fmt is OutputFormat.json:
        console.print_json(
            json.dumps(report.to_dict(lang_), ensure_ascii=False, default=str)
        )
        return
    if report.problems:
        table = Table(
            *(
                render(f"report_{column}", lang_)
                for column in ("record", "severity", "code", "message")
            )
        )
        for p in report.problems:
            table.add_row(p.record, p.severity, p.code, p.message(lang_))
        console.print(table)
    if report.is_ok:
        console.print(
            render(
                "import_done",
                lang_,
                n_written=report.n_written,
                kind=level_name(report.kind, lang_),
                n_read=report.n_read,
                n_warnings=len(report.warnings),
            )
            + (
                "  " + json.dumps(report.counts, ensure_ascii=False)
                if report.counts
                else ""
            )
        )
        if report.skipped:
            console.print(render("import_skipped", lang_, n=len(report.skipped)))
    else:
        err_console.print(
            Text(render("import_rejected", lang_, n_errors=len(report.errors)), "red")
        )
