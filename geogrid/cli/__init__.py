"""The ``geogrid`` command (命令行): parse options, call one service, print the result.

Services are imported inside each command so that ``geogrid --help`` stays
fast and does not load GDAL or SQLAlchemy. Commands live in one module per
family and register themselves on ``app`` when imported below.
"""

import getpass
import os
import sys
import tempfile
import traceback
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup
from typer.exceptions import TyperException

from geogrid.config import Settings, get_settings
from geogrid.errors import GeogridError
from geogrid.messages import Lang, render

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Engine


class ExitCode(IntEnum):
    """What scripts can trust (退出码)."""

    OK = 0
    FINDINGS = 1  # the check found error-level problems
    BAD_INPUT = 2  # bad usage, a bad file, a refused change
    INTERNAL = 3  # a bug: short message and the log's path, never a traceback


def measure_text(measure: dict[str, object]) -> str:
    """A finding's measure for reading: numbers to one decimal, nested maps flattened."""

    def shown(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.1f}"
        if isinstance(value, dict):
            return " ".join(f"{k}={shown(v)}" for k, v in value.items())
        return str(value)

    return "，".join(f"{k} {shown(v)}" for k, v in measure.items())


def os_user() -> str:
    """Who runs the command, for the audit log when no --author/--by is given."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "cli"


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
            _fail(exc)
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
        + render("cli_internal_error", _lang(), kind=type(exc).__name__, log=str(path))
    )
    raise typer.Exit(ExitCode.INTERNAL)


app = typer.Typer(
    help="geogrid 网格化管理：边界、楼栋、地址、人员与覆盖检查 (community grid governance)",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=_Commands,
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


def _fail(exc: GeogridError, *, code: int = ExitCode.BAD_INPUT) -> NoReturn:
    err_console.print(
        Text("错误 / error ", "red") + f"[{exc.code}] {exc.message(_lang())}"
    )
    raise typer.Exit(code)


FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="输出格式")]

check_app = typer.Typer(help="覆盖检查：全覆盖、无死角 (coverage checks)")
app.add_typer(check_app, name="check")


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


# Register the commands (each module adds its own to ``app``).
from geogrid.cli import check, data, lookup, maps, plans, users  # noqa: E402, F401  # isort: skip
