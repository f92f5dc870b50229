"""What the commands accept (选项): shared option types, the database, the author.

Typer reads these ``Annotated`` types as each option's name and help text; one
definition each keeps every command's spelling the same.
"""

import getpass
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from geogrid.config import Settings
from geogrid.domain.layers import LAYERS

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Engine

    from geogrid.services.imports import ImportOptions


FeatureLayer = StrEnum("FeatureLayer", {key: key for key in LAYERS})  # type: ignore[misc]
"""Feature layers the CLI imports: those of :data:`geogrid.domain.layers.LAYERS`."""


class OutputFormat(StrEnum):
    """How a report is printed."""

    text = "text"
    json = "json"


FormatOpt = Annotated[OutputFormat, typer.Option("--format", help="输出格式")]
PlanArg = Annotated[int, typer.Argument(help="规划编号 plan id", min=1)]
AuthorOpt = Annotated[
    str | None, typer.Option("--author", help="记录的操作人（默认当前系统用户）")
]
CrsOpt = Annotated[
    str | None,
    typer.Option(
        "--crs", help="坐标参考系：EPSG 代码、gcj02 或 bd09（覆盖文件自带的）"
    ),
]
RepairOpt = Annotated[
    bool, typer.Option("--repair", help="用 make_valid 修复无效几何并报告改动")
]
LayerOpt = Annotated[
    str | None,
    typer.Option(
        "--layer", help="多图层文件中的图层名（KML 文件夹、DXF 图层），多个用逗号连接"
    ),
]
SkipInvalidOpt = Annotated[
    bool,
    typer.Option(
        "--skip-invalid", help="跳过有错误的记录，导入其余记录并列出跳过的原因"
    ),
]
SwapXyOpt = Annotated[
    bool, typer.Option("--swap-xy", help="文件坐标为 纬度,经度 顺序时交换 x 与 y")
]
EncodingOpt = Annotated[str | None, typer.Option("--encoding", help="字符编码，如 gbk")]
CodeFieldOpt = Annotated[str, typer.Option("--code-field", help="编码字段")]
NameFieldOpt = Annotated[str, typer.Option("--name-field", help="名称字段")]
LonOpt = Annotated[str | None, typer.Option("--lon-field", help="CSV 经度列")]
LatOpt = Annotated[str | None, typer.Option("--lat-field", help="CSV 纬度列")]


@contextmanager
def database(settings: Settings) -> "Iterator[Engine]":
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


def os_user() -> str:
    """Who runs the command, for the audit log when no --author/--by is given."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        return "cli"


def actor(given: str | None) -> str:
    """The audit's actor: ``--author``/``--by`` when given, else the OS user."""
    return given or os_user()


def import_options(**kwargs: object) -> "ImportOptions":
    """Import options from the command's flags, audited as the OS user's."""
    from geogrid.services.imports import ImportOptions

    # Every import from the command line is audited as its user's.
    return ImportOptions(author=os_user(), **kwargs)  # type: ignore[arg-type]
