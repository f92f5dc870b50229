"""What a published map may show (公示数据): areas, buildings, lanes, centres and posted contacts.

The maps get their data from here already filtered for the caller (公众 sees
the posted fields only), and apply their own whitelist again before anything
is embedded in a page. Household addresses (户) never leave this module: a
building carries only its door addresses (门牌, e.g. 东大街1号), which are
posted on the building itself.
"""

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from geogrid.domain.access import Role, contact_card
from geogrid.domain.addresses import parse_address
from geogrid.domain.answers import ContactCard
from geogrid.domain.roles import RoleScheme
from geogrid.errors import NotFound
from geogrid.services.people import active_scheme
from geogrid.spatial.crs import grown_bounds
from geogrid.store import areas as area_store
from geogrid.store import layers as layer_store
from geogrid.store import links as link_store
from geogrid.store import people as people_store
from geogrid.store.engine import Bind, session_scope


@dataclass
class PublishedArea:
    """One mapped feature with the contacts posted for it (公示区域/楼栋/弄巷)."""

    code: str
    name: str
    level: str
    geometry: BaseGeometry
    cards: list[ContactCard] = field(default_factory=list)
    households: int | None = None
    """Households of the area's buildings (staff maps only)."""
    estate: str = ""
    """The 小区 a building belongs to."""
    doors: list[str] = field(default_factory=list)
    """A building's door addresses (门牌), for the search box."""
    grid: str = ""
    """The grid a building is assigned to."""


@dataclass
class RoadLine:
    """A road of the offline base (道路): drawn under the map, nobody posted for it."""

    name: str
    kind: str
    geometry: BaseGeometry


ROAD_MARGIN_M = 150.0
"""How far past a community's bounds its page draws roads: the streets around it."""


@dataclass
class PublicMapData:
    """Everything a community's map shows (社区管辖范围图)."""

    community: PublishedArea
    grids: list[PublishedArea]
    centres: list[dict[str, Any]]
    supervision_phone: str = ""
    estates: list[PublishedArea] = field(default_factory=list)
    buildings: list[PublishedArea] = field(default_factory=list)
    lanes: list[PublishedArea] = field(default_factory=list)
    roads: list[RoadLine] = field(default_factory=list)


SITE_INDEX_BUILDINGS_MAX = 20_000
"""Above this many buildings the site's index searches 小区, grids and lanes only."""


@dataclass
class SiteIndex:
    """What the site's index page searches (公示图索引): every community's named places."""

    communities: list[tuple[str, str]]
    """(code, name) of each current community."""
    entries: dict[str, list[tuple[str, str, str]]]
    """Per community code: (name, kind, code of what to show), as its own page has them."""


def building_label(name: str, estate: str) -> str:
    """A building as residents name it: with its 小区 in front (瑞丰嘉园3号楼)."""
    return name if not estate or estate in name else estate + name


def site_index(bind: Bind) -> SiteIndex:
    """The named places of every community, without reading a community's page data.

    Each community's entries are those its own page searches, doors left out
    (a city has a million: they are searched on the community's page). A
    city's 100,000 buildings would make a page of megabytes for a phone, so
    above :data:`SITE_INDEX_BUILDINGS_MAX` its 小区, grids and lanes lead to the
    right community page instead, and the buildings are not even read.
    """
    with session_scope(bind) as session:
        areas = area_store.areas_frame(session)
        many = (
            layer_store.count_features(session, "buildings") > SITE_INDEX_BUILDINGS_MAX
        )
        buildings = None if many else link_store.buildings_frame(session)
        lanes = layer_store.features_frame(session, "lanes")
    found = areas[areas["level"] == "community"]
    codes = found["code"].tolist()
    entries: dict[str, list[tuple[str, str, str]]] = {code: [] for code in codes}
    grids = areas[(areas["level"] == "grid") & areas["parent_code"].isin(codes)]
    community_of_grid = dict(zip(grids["code"], grids["parent_code"], strict=True))
    for g in grids.itertuples():
        entries[g.parent_code].append((g.name, "网格", g.code))
    estates = areas[
        (areas["level"] == "estate") & areas["parent_code"].isin(community_of_grid)
    ]
    for e in estates.itertuples():
        entries[community_of_grid[e.parent_code]].append((e.name, "小区", e.code))
    outlines = found.geometry.to_numpy()
    if buildings is not None and len(buildings) and len(found):
        # Where each community page finds them: by a point on their surface.
        points = shapely.point_on_surface(buildings.geometry.to_numpy())
        inside, where = shapely.STRtree(points).query(outlines, predicate="intersects")
        names = buildings["name"].tolist()
        estates_of = buildings["estate"].tolist()
        building_codes = buildings["code"].tolist()
        for i, j in sorted(zip(inside.tolist(), where.tolist(), strict=True)):
            label = building_label(names[j] or building_codes[j], estates_of[j] or "")
            entries[codes[i]].append((label, "楼栋", building_codes[j]))
    if len(lanes) and len(found):
        inside, where = shapely.STRtree(lanes.geometry.to_numpy()).query(
            outlines, predicate="intersects"
        )
        for i, j in sorted(zip(inside.tolist(), where.tolist(), strict=True)):
            lane = lanes.iloc[j]
            entries[codes[i]].append((lane["name"], "弄巷", lane["code"]))
    return SiteIndex(
        list(zip(codes, found["name"], strict=True)),
        {code: [e for e in rows if e[0]] for code, rows in entries.items()},
    )


def communities(bind: Bind) -> list[tuple[str, str]]:
    """Current communities as (code, name), for an index page."""
    with session_scope(bind) as session:
        frame = area_store.areas_frame(session, level="community")
    return list(zip(frame["code"], frame["name"], strict=True))


def community_of(bind: Bind, code: str) -> str:
    """The community holding area ``code`` (itself when it is one).

    Raises:
        NotFound: no current area has this code, or it lies above any community.
    """
    with session_scope(bind) as session:
        while True:
            found = area_store.areas_frame(session, codes=[code])
            if found.empty:
                raise NotFound("area_not_found", code=code)
            if found["level"].iloc[0] == "community":
                return code
            parent = found["parent_code"].iloc[0]
            if not parent or found["level"].iloc[0] in ("district", "street"):
                raise NotFound("area_not_found", code=code)
            code = parent


def public_map_data(
    bind: Bind, community: str, *, caller: Role = Role.PUBLIC
) -> PublicMapData:
    """The map data of one community as ``caller`` may see it.

    Staff also get households per grid and per building. An area above a
    community gets its outline and its child areas (in ``grids``).

    Raises:
        NotFound: no current community has this code.
    """
    with session_scope(bind) as session:
        found = area_store.areas_frame(session, codes=[community])
        if found.empty:
            raise NotFound("area_not_found", code=community)
        if found["level"].iloc[0] != "community":
            return _overview(session, found, caller)
        grids = area_store.areas_frame(session, level="grid", parent_codes=[community])
        estates = area_store.areas_frame(
            session, level="estate", parent_codes=list(grids["code"])
        )
        outline = found.geometry.iloc[0]
        bbox = tuple(outline.bounds)
        buildings = link_store.buildings_frame(session, bbox=bbox)
        addresses = link_store.addresses_frame(session, bbox=bbox)
        lanes = layer_store.features_frame(session, "lanes")
        centres = layer_store.features_frame(session, "centres")
        around = grown_bounds(bbox, ROAD_MARGIN_M)
        roads = layer_store.features_frame(session, "roads", bbox=around)
        people = people_store.people_table(session)
        scheme = active_scheme(session, default="三长三员一民警")
        households = (
            {}
            if caller.is_public
            else link_store.households_by_grid(session, list(grids["code"]))
        )
    buildings = _inside(buildings, outline)
    lanes = lanes[lanes.intersects(outline)]
    cards = CardBook(people, scheme, caller)
    doors = _door_addresses(addresses, set(buildings["code"]))

    def area(row: Any, level: str) -> PublishedArea:
        return PublishedArea(
            row.code, row.name, level, row.geometry, cards(level, row.code)
        )

    return PublicMapData(
        community=PublishedArea(
            community,
            found["name"].iloc[0],
            "community",
            outline,
            cards("community", community),
        ),
        grids=[
            PublishedArea(
                g.code,
                g.name,
                "grid",
                g.geometry,
                cards("grid", g.code),
                households.get(g.code),
            )
            for g in grids.itertuples()
        ],
        centres=[
            {
                "name": c.name,
                "kind": c.kind,
                "radius_m": float(c.radius_m),
                "lon": c.geometry.x,
                "lat": c.geometry.y,
            }
            for c in centres[centres.intersects(outline)].itertuples()
        ],
        supervision_phone=scheme.supervision_phone,
        estates=[area(e, "estate") for e in estates.itertuples()],
        buildings=[
            PublishedArea(
                b.code,
                b.name or b.code,
                "building",
                b.geometry,
                cards("building", b.code),
                None if caller.is_public else int(b.households),
                estate=b.estate or "",
                doors=doors.get(b.code, []),
                grid=b.grid_code or "",
            )
            for b in buildings.itertuples()
        ],
        lanes=[area(lane, "lane") for lane in lanes.itertuples()],
        roads=_clipped_roads(roads, around),
    )


def _clipped_roads(roads: gpd.GeoDataFrame, box: tuple[float, ...]) -> list[RoadLine]:
    """The roads cut at ``box``: a city's ring road would otherwise be sent whole."""
    clipped = shapely.clip_by_rect(roads.geometry.to_numpy(), *box)
    return [
        RoadLine(name or "", kind or "", geom)
        for name, kind, geom in zip(
            roads["name"].tolist(), roads["kind"].tolist(), clipped, strict=True
        )
        if not geom.is_empty
    ]


def _overview(session: Any, found: gpd.GeoDataFrame, caller: Role) -> PublicMapData:
    """An area above a community (街道, 区县) drawn with its child areas only.

    Its buildings would be tens of thousands: a street's map is the outline
    of each community, as 蓬莱's 街道 maps show them.
    """
    code, level = found["code"].iloc[0], found["level"].iloc[0]
    children = area_store.areas_frame(session, parent_codes=[code])
    people = people_store.people_table(session)
    scheme = active_scheme(session, default="三长三员一民警")
    cards = CardBook(people, scheme, caller)
    return PublicMapData(
        community=PublishedArea(
            code,
            found["name"].iloc[0],
            level,
            found.geometry.iloc[0],
            cards(level, code),
        ),
        grids=[
            PublishedArea(c.code, c.name, c.level, c.geometry, cards(c.level, c.code))
            for c in children.itertuples()
        ],
        centres=[],
        supervision_phone=scheme.supervision_phone,
    )


class CardBook:
    """Contact cards by target, as the caller may see them (also posted on change notices)."""

    def __init__(self, people: pd.DataFrame, scheme: RoleScheme, caller: Role):
        holders = people[people["role"].notna() & people["role"].isin(scheme.keys)]
        order = {key: i for i, key in enumerate(scheme.keys)}
        holders = holders.assign(order=holders["role"].map(order)).sort_values(
            ["order", "person_code"]
        )
        # Posted in scheme order, as on a 公示牌: 网格长 first.
        self._by_target: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for row in holders.to_dict("records"):
            key = (row["target_level"], row["target_code"])
            self._by_target.setdefault(key, []).append(row)
        self._scheme = scheme
        self._caller = caller

    def __call__(self, level: str, code: str) -> list[ContactCard]:
        """The cards posted for one target (``level``, ``code``), in scheme order."""
        return [
            contact_card(
                r,
                self._scheme.role(r["role"]),
                phone_display=self._scheme.phone_display,
                caller=self._caller,
            )
            for r in self._by_target.get((level, code), [])
        ]


def _inside(buildings: gpd.GeoDataFrame, outline: BaseGeometry) -> gpd.GeoDataFrame:
    """Buildings whose point-on-surface lies in the community (as assignment decides)."""
    points = shapely.point_on_surface(buildings.geometry.values)
    return buildings[shapely.intersects(outline, points)]


def _door_addresses(
    addresses: gpd.GeoDataFrame, buildings: set[str]
) -> dict[str, list[str]]:
    """Each building's door addresses (路名+门牌号), never a unit or room."""
    doors: dict[str, set[str]] = {}
    for code, text in zip(addresses["building_code"], addresses["text"], strict=True):
        if code not in buildings:
            continue
        parts = parse_address(text)
        door = (
            f"{parts.road}{parts.number}号"
            if parts.road and parts.number
            else f"{parts.estate}{parts.building}号楼"
            if parts.estate and parts.building
            else ""
        )
        if door:
            doors.setdefault(code, set()).add(door)
    return {code: sorted(found) for code, found in doors.items()}
