"""The ``geogrid`` command (命令行): parse options, call one service, print the result.

Services are imported inside each command so that ``geogrid --help`` stays
fast and does not load GDAL or SQLAlchemy. Commands live in one module per
family and register themselves on ``app`` when imported below.
"""

from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from geogrid.config import Settings, get_settings
from geogrid.errors import GeogridError
from geogrid.messages import Lang

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Engine

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
