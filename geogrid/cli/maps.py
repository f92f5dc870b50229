"""Map commands (地图): write the published community maps as a static site."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from geogrid.cli.options import database
from geogrid.cli.output import console, fail
from geogrid.config import Settings, get_settings
from geogrid.errors import GeogridError, InvalidInput

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import folium
    from sqlalchemy import Engine

map_app = typer.Typer(help="生成地图 (maps)", no_args_is_help=True)

CommunityOpt = Annotated[str, typer.Option("--community", help="社区编码")]
OutputOpt = Annotated[Path, typer.Option("-o", "--output", help="输出目录")]


def _write_pages(
    output: Path, build: "Callable[[Engine, Settings], Mapping[str, folium.Map]]"
) -> None:
    """Open the database, build the pages, write them with their assets, say where."""
    from geogrid.maps.base import write_site

    settings = get_settings()
    try:
        with database(settings) as engine:
            written = write_site(build(engine, settings), output)
    except GeogridError as exc:
        fail(exc)
    for path in written:
        console.print(f"已生成 written: {path}")


@map_app.command("public")
def map_public_cmd(
    output: OutputOpt,
    community: Annotated[
        str | None, typer.Option("--community", help="社区编码")
    ] = None,
    all_communities: Annotated[
        bool, typer.Option("--all", help="全部社区，外加索引页")
    ] = False,
) -> None:
    """生成社区管辖范围图（离线可用的静态网页）/ write the public community maps."""
    from geogrid.maps.public import index_page, public_map
    from geogrid.maps.tiles import tiles_of
    from geogrid.services.publishing import communities, public_map_data, site_index

    if not all_communities and community is None:
        fail(InvalidInput("value_invalid", field="--community", value=""))

    def build(engine: "Engine", settings: Settings) -> "Mapping[str, folium.Map]":
        tiles = tiles_of(settings)
        codes = [c for c, _ in communities(engine)] if all_communities else [community]
        pages = {
            code: public_map(public_map_data(engine, code), tiles=tiles)
            for code in codes
            if code
        }
        if all_communities:
            output.mkdir(parents=True, exist_ok=True)
            (output / "index.html").write_text(
                index_page(site_index(engine)), encoding="utf-8"
            )
        return pages

    _write_pages(output, build)


@map_app.command("coverage")
def map_coverage_cmd(
    area: Annotated[
        str,
        typer.Option(
            "--area", "--community", help="区域编码：社区，或街道、区县（画其下级区域）"
        ),
    ],
    output: OutputOpt,
) -> None:
    """生成覆盖检查图（工作人员用）/ draw the coverage report of an area (staff)."""
    from geogrid.domain.access import Role
    from geogrid.maps.coverage import coverage_map
    from geogrid.maps.tiles import tiles_of
    from geogrid.services.coverage import area_report, check_options
    from geogrid.services.publishing import public_map_data

    def build(engine: "Engine", settings: Settings) -> "Mapping[str, folium.Map]":
        tiles = tiles_of(settings)
        data = public_map_data(engine, area, caller=Role.STAFF)
        result = area_report(engine, check_options(settings), area)
        return {f"{area}-coverage": coverage_map(result, data, tiles=tiles)}

    _write_pages(output, build)


@map_app.command("staff")
def map_staff_cmd(community: CommunityOpt, output: OutputOpt) -> None:
    """生成工作人员地图（含非公开联系方式和网格户数）/ write a community's staff map."""
    from geogrid.domain.access import Role
    from geogrid.maps.staff import staff_map
    from geogrid.maps.tiles import tiles_of
    from geogrid.services.publishing import public_map_data

    def build(engine: "Engine", settings: Settings) -> "Mapping[str, folium.Map]":
        band = (settings.grid_households_min, settings.grid_households_max)
        tiles = tiles_of(settings)
        data = public_map_data(engine, community, caller=Role.STAFF)
        return {f"{community}-staff": staff_map(data, band=band, tiles=tiles)}

    _write_pages(output, build)


def _write_html(output: Path, pages: dict[str, str]) -> list[Path]:
    """Write ready HTML pages (file name -> text) into ``output``."""
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in pages.items():
        path = output / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


@map_app.command("cards")
def map_cards_cmd(
    community: CommunityOpt,
    output: OutputOpt,
    *,
    no_qr: Annotated[
        bool, typer.Option("--no-qr", help="不印二维码（未设置公网地址时）")
    ] = False,
) -> None:
    """生成网格便民联系卡（A4 打印，含二维码）/ write each grid's printable contact card."""
    from geogrid.maps.cards import community_cards
    from geogrid.services.publishing import public_map_data

    settings = get_settings()
    # A QR code must hold an address a phone can open: a relative link on a
    # printed 公示牌 would send every resident who scans it nowhere.
    if not settings.public_base_url and not no_qr:
        fail(InvalidInput("public_base_url_missing"))
    try:
        with database(settings) as engine:
            pages = community_cards(
                public_map_data(engine, community),
                base_url=None if no_qr else settings.public_base_url,
            )
    except GeogridError as exc:
        fail(exc)
    for path in _write_html(output, pages):
        console.print(f"已生成 written: {path}")
