"""The ``geogrid`` command (命令行): parse options, call one service, print the result.

Services are imported inside each command so that ``geogrid --help`` stays
fast and does not load GDAL or SQLAlchemy. Commands live in one module per
family; this module builds the command tree from them, explicitly, below.
Shared option types are in :mod:`geogrid.cli.options`, printing and exit
codes in :mod:`geogrid.cli.output`.
"""

import os
import sys
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.text import Text
from typer.core import TyperGroup
from typer.exceptions import TyperException

from geogrid.cli import check, data, lookup, maps, plan_edits, plans, users
from geogrid.cli.output import ExitCode, err_console, fail, lang
from geogrid.config import get_settings
from geogrid.errors import GeogridError
from geogrid.messages import render


def crash_log_path() -> Path:
    """Where an internal error's traceback is written (``$XDG_STATE_HOME``-style)."""
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "geogrid" / "error.log"


class _Commands(TyperGroup):
    """The command group, turning anything unexpected into exit code 3."""

    def invoke(self, ctx: typer.Context) -> object:  # type: ignore[override]  # typer passes its Context
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise  # exits, usage errors and Ctrl-C keep their own codes
        except GeogridError as exc:  # a command that forgot to catch it
            fail(exc)
        except Exception as exc:  # noqa: BLE001 - the one place that must catch all
            _crash(exc, " ".join(sys.argv[1:]))


def _crash(exc: Exception, command: str) -> NoReturn:
    path = crash_log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {datetime.now(UTC).isoformat()} geogrid {command}\n")
            log.write("".join(traceback.format_exception(exc)))
    except OSError:
        path = Path(tempfile.gettempdir()) / "geogrid-error.log"
        path.write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    err_console.print(
        Text("内部错误 / internal error ", "red")
        + render("cli_internal_error", lang(), kind=type(exc).__name__, log=str(path))
    )
    raise typer.Exit(ExitCode.INTERNAL)


app = typer.Typer(
    help="geogrid 网格化管理：边界、楼栋、地址、人员与覆盖检查 (community grid governance)",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=_Commands,
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


# The command tree, in the order --help lists it.
app.add_typer(data.import_app, name="import")
app.add_typer(check.check_app, name="check")
app.command("export")(data.export_cmd)
app.command("init")(data.init_cmd)
app.command("status")(data.status_cmd)
app.command("demo")(data.demo_cmd)
app.command("assign")(lookup.assign_cmd)
app.command("lookup")(lookup.lookup_cmd)
app.command("serve")(lookup.serve_cmd)
app.add_typer(maps.map_app, name="map")
plans.plan_app.add_typer(plan_edits.edit_app, name="edit")
plans.plan_app.command("undo")(plan_edits.plan_undo_cmd)
app.add_typer(plans.plan_app, name="plan")
app.add_typer(users.users_app, name="users")
