"""Grid proposals for a community (网格划分建议), and a plan made from one.

Loads what :func:`geogrid.spatial.proposals.propose_grids` needs - the
community's outline, its buildings, the lanes and the current grids - and
gives the proposed grids codes and names a community can publish: kept grids
keep theirs, new ones take the next free ``<community code>NNN`` and the name
``<community>第N网格``, as the grids of an NBS-coded community are numbered.
"""

import json
from dataclasses import replace
from typing import Any

import geopandas as gpd
import shapely

from geogrid.errors import GeogridError, NotFound
from geogrid.services import planning
from geogrid.spatial.crs import STORAGE_CRS
from geogrid.spatial.proposals import Proposal, propose_grids
from geogrid.store import areas as area_store
from geogrid.store import layers as layer_store
from geogrid.store import links as link_store
from geogrid.store.engine import Bind, session_scope


def propose(
    bind: Bind, community: str, band: tuple[int, int], *, seed: int = 0
) -> Proposal:
    """Propose grids for one community within a households band (网格划分建议).

    The grids come back with publishable codes and a ``name`` column; the
    assignment maps buildings to those codes.

    Raises:
        NotFound: no current community has this code.
        InvalidInput: the band is not two whole numbers with 0 <= low <= high.
    """
    with session_scope(bind) as session:
        found = area_store.areas_frame(session, codes=[community])
        if found.empty or found["level"].iloc[0] != "community":
            raise NotFound("area_not_found", code=community)
        outline = found.geometry.iloc[0]
        buildings = link_store.buildings_frame(session, bbox=outline.bounds)
        lanes = layer_store.features_frame(session, "lanes")
        grids = area_store.areas_frame(session, level="grid", parent_codes=[community])
    inner = shapely.point_on_surface(buildings.geometry.to_numpy())
    buildings = buildings[shapely.covers(outline, inner)]
    lanes = lanes[lanes.intersects(outline)]
    proposal = propose_grids(
        outline,
        buildings[["code", "households", "geometry"]].reset_index(drop=True),
        band=band,
        lanes=lanes.geometry if not lanes.empty else None,
        existing=grids[["code", "name", "geometry"]],
        seed=seed,
    )
    return _named(proposal, community, str(found["name"].iloc[0]), grids)


def propose_plan(
    bind: Bind, community: str, proposal: Proposal, *, name: str = "", author: str
) -> planning.PlanState:
    """A draft of the community whose one edit replaces its grids with the proposal.

    Raises:
        InvalidInput: the proposed grids cannot replace the current ones (the
            draft is then discarded).
    """
    state = planning.new_plan(bind, community, name=name, author=author)
    grids = proposal.grids
    features = json.loads(
        gpd.GeoDataFrame(
            grids[["code", "name"]], geometry=grids.geometry, crs=STORAGE_CRS
        ).to_json(drop_id=True)
    )
    params: dict[str, Any] = {"features": features, "source": "proposal"}
    try:
        return planning.edit(bind, state.id, "replace", params, author=author)
    except GeogridError:
        planning.discard(bind, state.id, author=author)  # no empty draft left behind
        raise


def _named(
    proposal: Proposal,
    community: str,
    community_name: str,
    existing: gpd.GeoDataFrame,
) -> Proposal:
    """Give new grids the next free codes and ``…第N网格`` names; kept grids keep theirs."""
    names = dict(zip(existing["code"], existing["name"], strict=True))
    taken = set(existing["code"])
    numbers = (n for n in range(1, 1000) if f"{community}{n:03d}" not in taken)
    codes: dict[str, str] = {}
    titles = []
    for code, kept in zip(proposal.grids["code"], proposal.grids["kept"], strict=True):
        if kept:
            codes[code] = code
            titles.append(names.get(code, code))
        else:
            number = next(numbers)
            codes[code] = f"{community}{number:03d}"
            titles.append(f"{community_name}第{number}网格")
    grids = proposal.grids.assign(code=[codes[c] for c in proposal.grids["code"]])
    grids.insert(1, "name", titles)
    assignment = {b: codes.get(g, g) for b, g in proposal.assignment.items()}
    return replace(proposal, grids=grids, assignment=assignment)
