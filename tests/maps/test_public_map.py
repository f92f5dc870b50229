"""The residents' map as HTML: offline, complete, and nothing private or executable in it."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from shapely.geometry import box

from geogrid.domain.answers import ContactCard
from geogrid.maps.base import write_site
from geogrid.maps.colors import distinct_colors
from geogrid.maps.layers import PUBLIC_FIELDS, map_payload, script_json
from geogrid.maps.public import public_map
from geogrid.services.publishing import PublicMapData, PublishedArea, public_map_data
from geogrid.store.engine import Bind

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "boundaries"
COMMUNITY = "620899001001"
COMMUNITIES = [f"62089900100{i}" for i in range(1, 9)]


def _page(sample_db: Bind, tmp_path: Path, community: str = COMMUNITY) -> str:
    write_site({community: public_map(public_map_data(sample_db, community))}, tmp_path)
    return (tmp_path / f"{community}.html").read_text(encoding="utf-8")


def _payload(page: str) -> dict:
    found = re.search(r"geogrid\.draw\(\w+, (\{.*?\}), \{", page, re.S)
    assert found, "the page hands no layers to geogrid.draw"
    return json.loads(found.group(1))


def test_public_map_loads_nothing_from_the_internet(
    sample_db: Bind, tmp_path: Path
) -> None:
    page = _page(sample_db, tmp_path)

    assert not re.findall(r"(?:src|href)=[\"']?(?:https?:)?//", page)
    assert "static/leaflet/leaflet.js" in page
    assert "static/geogrid/geogrid.js" in page
    assert (tmp_path / "static" / "leaflet" / "leaflet.js").stat().st_size > 100_000
    assert (tmp_path / "static" / "geogrid" / "geogrid.js").is_file()


def test_public_map_holds_every_grid_building_lane_and_centre(
    sample_db: Bind, tmp_path: Path
) -> None:
    data = public_map_data(sample_db, COMMUNITY)
    layers = _payload(_page(sample_db, tmp_path))

    assert [g["properties"]["code"] for g in layers["grids"]] == [
        g.code for g in data.grids
    ]
    assert len(layers["buildings"]) == len(data.buildings) > 100
    assert len(layers["lanes"]) == len(data.lanes) > 0
    assert len(layers["centres"]) == len(data.centres) > 0
    grid = layers["grids"][0]["properties"]
    assert grid["cards"][0][:3] == ["网格长", "何婷", "13800009756"]  # phone public
    assert layers["supervision"] == "12345"  # the preset's 政务服务便民热线


def test_buildings_carry_their_heads_and_door_addresses(sample_db: Bind) -> None:
    data = public_map_data(sample_db, COMMUNITY)
    building = next(b for b in data.buildings if b.code == "620899001001-B0003")

    assert [c.title for c in building.cards] == ["楼栋长", "楼长"]
    assert building.cards[0].name == "夏超兴"
    assert building.cards[0].phone == "138****4785"  # kept private: masked
    assert building.doors
    assert all(d.endswith("号") for d in building.doors)
    assert building.grid.startswith(COMMUNITY)


def test_public_map_holds_no_private_phone_and_no_household_address(
    sample_db: Bind, tmp_path: Path
) -> None:
    from geogrid.domain.addresses import normalizer_rules
    from geogrid.maps.layers import script_json

    rules = script_json(normalizer_rules())  # the search's rules speak of 单元/室
    pages = "".join(_page(sample_db, tmp_path, code) for code in COMMUNITIES)
    assert rules in pages
    pages = pages.replace(rules, "")
    people = pd.read_csv(SAMPLE / "people.csv", dtype=str)
    addresses = pd.read_csv(SAMPLE / "addresses.csv", dtype=str)

    private = set(people.loc[people["phone_public"] == "false", "phone"])
    public = set(people.loc[people["phone_public"] == "true", "phone"])
    shown = set(re.findall(r"(?<![\w.])1\d{10}(?!\w)", pages))
    assert len(private) > 1000
    assert shown
    assert shown <= public - private
    assert not any(text in pages for text in addresses["text"])
    assert "单元" not in pages
    assert not re.search(r"\d+室", pages)


def test_tile_source_shifts_geometries_for_gcj02_tiles(
    sample_db: Bind, tmp_path: Path
) -> None:
    from geogrid.maps.tiles import base_map
    from geogrid.spatial.crs import wgs84_to_gcj02

    data = public_map_data(sample_db, COMMUNITY)
    centre = data.centres[0]
    expected = {
        "none": (centre["lon"], centre["lat"]),
        "osm": (centre["lon"], centre["lat"]),
        "tianditu": (centre["lon"], centre["lat"]),
        "amap": tuple(float(v) for v in wgs84_to_gcj02(centre["lon"], centre["lat"])),
    }
    for name, (lon, lat) in expected.items():
        tiles = base_map(name, key="TESTKEY")
        write_site({name: public_map(data, tiles=tiles)}, tmp_path)
        page = (tmp_path / f"{name}.html").read_text(encoding="utf-8")
        drawn = _payload(page)["centres"][0]["geometry"]["coordinates"]
        assert drawn == pytest.approx([lon, lat], abs=2e-6), name
        for url in tiles.urls():
            assert url.replace("&", "\\u0026") in page
    assert (
        expected["amap"][0] - centre["lon"] > 0.003
    )  # GCJ-02 is hundreds of metres off


def test_tianditu_needs_a_key() -> None:
    from geogrid.errors import InvalidInput
    from geogrid.maps.tiles import base_map

    with pytest.raises(InvalidInput) as caught:
        base_map("tianditu")
    assert caught.value.code == "tianditu_key_missing"
    assert "tk=KEY123" in base_map("tianditu", key="KEY123").urls()[0]


def _area(name: str, cards: list[ContactCard]) -> PublishedArea:
    return PublishedArea("G1", name, "grid", box(0, 0, 1, 1), cards)


def _data(area: PublishedArea) -> PublicMapData:
    return PublicMapData(
        community=PublishedArea("C1", "社区", "community", box(0, 0, 2, 2)),
        grids=[area],
        centres=[],
    )


@pytest.mark.parametrize(
    "name",
    [
        "<img src=x onerror=alert(1)>",
        "`${alert(1)}`",
        "</script><script>alert(1)</script>",
    ],
    ids=["img", "template-literal", "script"],
)
def test_names_never_end_the_script_they_sit_in(name: str) -> None:
    card = ContactCard(role="grid_head", title="网格长", name=name, phone="138****0001")
    area = _area(name, [card])

    text = script_json(
        map_payload(_data(area), fields=PUBLIC_FIELDS, grid_colors=["#000"])
    )

    for dangerous in ("<img", "<script", "</script", "<!--"):
        assert dangerous not in text
    assert json.loads(text)["grids"][0]["properties"]["name"] == name


def test_cards_keep_only_whitelisted_fields() -> None:
    area = _area(
        "一网格",
        [
            ContactCard(
                role="grid_worker",
                title="网格员",
                name="张伟",
                phone="13800000001",
                organisation="秘密单位",
                is_party_member=True,
            )
        ],
    )

    text = script_json(
        map_payload(_data(area), fields=PUBLIC_FIELDS, grid_colors=["#000"])
    )

    assert "张伟" in text
    assert "秘密单位" not in text


def test_neighbouring_grids_never_share_a_colour(sample_db: Bind) -> None:
    grids = public_map_data(sample_db, COMMUNITY).grids
    colors = distinct_colors([g.geometry for g in grids])

    for i, a in enumerate(grids):
        for j, b in enumerate(grids):
            if i < j and a.geometry.buffer(1e-6).intersects(b.geometry):
                assert colors[i] != colors[j], (a.code, b.code)


@pytest.mark.parametrize("community", COMMUNITIES)
def test_every_grid_of_a_community_has_its_own_colour(
    sample_db: Bind, community: str
) -> None:
    # A resident matches the colour on the 公示牌 to the map (issue 17).
    grids = public_map_data(sample_db, community).grids
    colors = distinct_colors([g.geometry for g in grids])
    assert len(set(colors)) == len(grids)


def test_more_grids_than_colours_still_keep_neighbours_apart() -> None:
    cells = [box(i, j, i + 1, j + 1) for i in range(6) for j in range(5)]
    colors = distinct_colors(cells)
    for i, a in enumerate(cells):
        for j, b in enumerate(cells):
            if i < j and a.buffer(1e-6).intersects(b):
                assert colors[i] != colors[j]


def test_simplified_grids_keep_their_shared_edges(sample_db: Bind) -> None:
    import shapely
    from shapely.geometry import shape

    data = public_map_data(sample_db, COMMUNITY)
    layers = map_payload(
        data, fields=PUBLIC_FIELDS, grid_colors=["#000"] * len(data.grids)
    )
    drawn = [shape(g["geometry"]) for g in layers["grids"]]

    for i, a in enumerate(drawn):
        for b in drawn[i + 1 :]:
            # Neighbours still meet along a line, with no slit and no overlap.
            assert shapely.intersection(a, b).area < 1e-12
    exact = shapely.union_all([g.geometry for g in data.grids]).area
    assert shapely.union_all(drawn).area == pytest.approx(exact, rel=1e-3)


def test_roads_around_a_community_are_drawn_cut_at_its_surroundings(
    sample_copy: Bind, tmp_path: Path
) -> None:
    """The offline base: the streets in and around the community, not the city's."""
    import shapely
    from shapely.geometry import LineString

    from geogrid.services.imports import ImportOptions, import_features
    from tests.factories import write_geojson

    outline = public_map_data(sample_copy, COMMUNITY).community.geometry
    minx, miny, maxx, maxy = outline.bounds
    y = (miny + maxy) / 2
    roads = write_geojson(
        tmp_path / "roads.geojson",
        [
            # A ring road crossing the whole county, and one far out of town.
            (
                {"code": "R1", "name": "东大街", "kind": "主干道"},
                LineString([(minx - 1, y), (maxx + 1, y)]),
            ),
            (
                {"code": "R2", "name": "远郊路", "kind": "支路"},
                LineString([(maxx + 1, y), (maxx + 1.1, y)]),
            ),
        ],
    )
    import_features(sample_copy, roads, layer="roads", options=ImportOptions())

    layers = _payload(_page(sample_copy, tmp_path))

    assert [r["properties"] for r in layers["roads"]] == [
        {"name": "东大街", "kind": "主干道"}
    ]
    drawn = shapely.geometry.shape(layers["roads"][0]["geometry"])
    # Past the community's bounds by the margin (~150 m), not 1° (~90 km) out.
    assert minx - 0.01 < drawn.bounds[0] < minx - 0.001
    assert maxx + 0.001 < drawn.bounds[2] < maxx + 0.01


def test_the_index_searches_what_each_community_page_searches(
    sample_db: Bind,
) -> None:
    """The index reads names only, yet finds each community's places as its page does."""
    from geogrid.maps.layers import search_entries
    from geogrid.services.publishing import communities, site_index

    site = site_index(sample_db)

    assert site.communities == communities(sample_db)
    for code, _ in site.communities:
        page = search_entries(public_map_data(sample_db, code))
        # Doors are searched on the community's own page only.
        assert site.entries[code] == [e for e in page if e[1] != "地址"]
    assert {k for e in site.entries.values() for _, k, _ in e} == {
        "网格",
        "小区",
        "楼栋",
        "弄巷",
    }


def test_the_index_of_a_city_leaves_buildings_to_the_community_pages(
    sample_db: Bind, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A city's index would list 100,000 buildings and a million doors to a phone."""
    from geogrid.maps import public
    from geogrid.services import publishing

    def kinds(page: str) -> set[str]:
        rows = json.loads(re.search(r"searchSite\((.*)\);</script>", page)[1])["search"]
        return {row[1] for row in rows}

    county = kinds(public.index_page(publishing.site_index(sample_db)))
    n_buildings = len(publishing.public_map_data(sample_db, COMMUNITY).buildings)
    monkeypatch.setattr(publishing, "SITE_INDEX_BUILDINGS_MAX", n_buildings - 1)
    city = kinds(public.index_page(publishing.site_index(sample_db)))

    assert county == {"网格", "小区", "楼栋", "弄巷"}  # doors: on each community's page
    assert city == {"网格", "小区", "弄巷"}
