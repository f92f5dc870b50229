"""What a published map may show (公示数据): areas, centres and posted contacts only.

The maps get their data from here already filtered for the public, and apply
their own whitelist again before anything is embedded in a page.
"""

from dataclasses import dataclass, field
from typing import Any

import shapely

from geogrid.domain.access import Role, contact_card
from geogrid.errors import NotFound
from geogrid.services.people import active_scheme
from geogrid.store import areas as area_store
from geogrid.store import features as feature_store
from geogrid.store import links as link_store
from geogrid.store import people as people_store
from geogrid.store.engine import Bind, session_scope


@dataclass
class PublishedArea:
    """One area with the contacts posted for it (公示区域)."""

    code: str
    name: str
    level: str
    geometry: shapely.Geometry
    cards: list[dict[str, Any]] = field(default_factory=list)
    households: int | None = None
    """Households of the buildings linked to the area (staff maps only)."""


@dataclass
class PublicMapData:
    """Everything a community's public map shows (社区管辖范围图)."""

    community: PublishedArea
    grids: list[PublishedArea]
    centres: list[dict[str, Any]]
    supervision_phone: str = ""


def communities(bind: Bind) -> list[tuple[str, str]]:
    """Current communities as (code, name), for an index page."""
    with session_scope(bind) as session:
        frame = area_store.areas_frame(session, level="community")
    return list(zip(frame["code"], frame["name"], strict=True))


def public_map_data(
    bind: Bind, community: str, *, caller: Role = Role.PUBLIC
) -> PublicMapData:
    """The map data of one community: outline, grids, centres and contacts as ``caller`` may see them.

    Staff also get each grid's households, from the stored building links.

    Raises:
        NotFound: no current community has this code.
    """
    with session_scope(bind) as session:
        found = area_store.areas_frame(session, level="community", codes=[community])
        if found.empty:
            raise NotFound("area_not_found", code=community)
        grids = area_store.areas_frame(session, level="grid", parent_codes=[community])
        centres = feature_store.features_frame(session, "centres")
        people = people_store.people_table(session)
        scheme = active_scheme(session, default="三长三员一民警")
        households = (
            {}
            if caller.is_public
            else link_store.households_by_grid(session, list(grids["code"]))
        )
    outline = found.geometry.iloc[0]
    holders = people[people["role"].notna()]

    def cards(level: str, code: str) -> list[dict[str, Any]]:
        rows = holders[
            (holders["target_level"] == level) & (holders["target_code"] == code)
        ]
        return [
            contact_card(
                r,
                scheme.role(r["role"]),
                phone_display=scheme.phone_display,
                caller=Role.PUBLIC,
            )
            for r in rows.to_dict("records")
            if r["role"] in scheme.keys
        ]

    inside = centres[centres.intersects(outline)]
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
            for c in inside.itertuples()
        ],
        supervision_phone=scheme.supervision_phone,
    )
