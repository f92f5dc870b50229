"""Assignment (归属计算): every building to its grid and estate, every address to its building and grid.

Links are derived, never typed in, and stored so that lookups of known
addresses need no geometry work. After a redraw only what the changed grids
can reach is recomputed; a test holds that equal to a full recomputation.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

import geopandas as gpd
import shapely

from geogrid.config import Settings
from geogrid.spatial.assign import (
    AddressReason,
    BuildingRule,
    assign_addresses,
    assign_buildings,
)
from geogrid.spatial.crs import STORAGE_CRS, degrees_over, local_crs, projected_points
from geogrid.store import areas as area_store
from geogrid.store import links as link_store
from geogrid.store.batches import record_batch
from geogrid.store.engine import Bind, session_scope
from geogrid.store.models import Address, Building


@dataclass(frozen=True)
class AssignOptions:
    """The rules of assignment (归属规则), from settings."""

    rule: BuildingRule = BuildingRule.POINT_ON_SURFACE
    split_share: float = 0.10
    tolerance_m: float = 3.0


@dataclass
class AssignSummary:
    """What an assignment run found (归属结果)."""

    buildings: int = 0
    buildings_in_no_grid: list[str] = field(default_factory=list)
    buildings_split: list[tuple[str, str, str, float]] = field(default_factory=list)
    addresses: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


Progress = Callable[[str], None]


def assign_options(settings: Settings) -> AssignOptions:
    """The assignment rules a deployment configured."""
    return AssignOptions(
        rule=BuildingRule(settings.building_rule),
        split_share=settings.split_share,
        tolerance_m=settings.address_tolerance_m,
    )


def assign_all(
    bind: Bind, options: AssignOptions, *, on_step: Progress = lambda _step: None
) -> AssignSummary:
    """Recompute and store every link (全量归属)."""
    with session_scope(bind) as session:
        on_step("load")
        buildings = link_store.buildings_frame(session)
        addresses = link_store.address_points(session, links=True)
        summary = _assign(session, buildings, addresses, options, on_step=on_step)
        record_batch(session, "assign", "geogrid assign", n=summary.addresses)
    return summary


Box = tuple[float, float, float, float]

MOST_BOXES = 64
"""How many boxes one re-link reads through: each is one spatial-index probe."""


def reassign_region(
    session: Session, boxes: Sequence[Sequence[float]], options: AssignOptions
) -> AssignSummary:
    """Recompute the links that the changes inside ``boxes`` can reach (增量归属).

    ``boxes`` are the bounds of the changed rows (imported buildings or
    addresses, redrawn grids), in EPSG:4326. Buildings touching them are
    recomputed, and so are the addresses near them or linked to those
    buildings; everything else keeps its stored link, which is what a full run
    would give it again. Rows are read box by box, not through the batch's
    bounding box: ten addresses scattered over a city re-link ten
    neighbourhoods, not the city.
    """
    if not len(boxes):
        return AssignSummary()
    bounds = np.asarray(boxes, dtype=float)
    buildings = link_store.buildings_frame(session, boxes=cluster_boxes(bounds))
    if not buildings.empty:
        bounds = np.vstack([bounds, buildings.geometry.bounds.to_numpy()])
    pad = degrees_over(options.tolerance_m, float(bounds[:, 1].min()))
    addresses = link_store.address_points(
        session,
        boxes=cluster_boxes(_grown(bounds, pad)),
        building_codes=list(buildings["code"]),
        links=True,
    )
    # An address may lean on a building outside the boxes: give the engine
    # every building those addresses could reach, but store only the boxed ones.
    located = addresses.loc[addresses["x"].notna(), ["x", "y"]].to_numpy()
    near = (
        link_store.buildings_frame(
            session, boxes=cluster_boxes(_grown(np.hstack([located, located]), pad))
        )
        if len(located)
        else buildings
    )
    context = pd.concat([buildings, near[~near["code"].isin(buildings["code"])]])
    return _assign(
        session, context, addresses, options, store_buildings=set(buildings["code"])
    )


def cluster_boxes(bounds: np.ndarray, most: int = MOST_BOXES) -> list[Box]:
    """Rows' bounds (n × 4) merged into at most ``most`` boxes that cover them.

    Rows are grouped by coarse square cells, doubled in size until few enough
    cells are occupied; each group becomes the box around its rows. Scattered
    rows stay small separate boxes, a batch that fills a city becomes a few
    dozen tiles of it.
    """
    if not len(bounds):
        return []
    centres = (bounds[:, :2] + bounds[:, 2:]) / 2
    cell = max(float((bounds[:, 2:] - bounds[:, :2]).max()), 1e-6)
    while True:
        keys = np.floor(centres / cell).astype(np.int64)
        _, group = np.unique(keys, axis=0, return_inverse=True)
        group = group.ravel()
        n = int(group.max()) + 1
        if n <= most:
            break
        cell *= 2
    lo = np.full((n, 2), np.inf)
    hi = np.full((n, 2), -np.inf)
    np.minimum.at(lo, group, bounds[:, :2])
    np.maximum.at(hi, group, bounds[:, 2:])
    return [
        (float(a), float(b), float(c), float(d)) for a, b, c, d in np.hstack([lo, hi])
    ]


def _assign(
    session: Session,
    buildings: gpd.GeoDataFrame,
    addresses: gpd.GeoDataFrame,
    options: AssignOptions,
    *,
    on_step: Progress = lambda _step: None,
    store_buildings: set[str] | None = None,
) -> AssignSummary:
    grids = area_store.areas_frame(session, level="grid")
    estates = area_store.areas_frame(session, level="estate")
    # The addresses' extent, not a million points: the CRS follows the bounds.
    x, y = addresses["x"].dropna(), addresses["y"].dropna()
    extent = [shapely.box(x.min(), y.min(), x.max(), y.max())] if len(x) else []
    everything = pd.concat(
        [grids.geometry, buildings.geometry, gpd.GeoSeries(extent, crs=STORAGE_CRS)]
    )
    if everything.empty:
        return AssignSummary()
    metric = local_crs(gpd.GeoSeries(everything.to_numpy(), crs=STORAGE_CRS))
    buildings_m = buildings[["code", "geometry"]].to_crs(metric)
    grids_m = grids[["code", "geometry"]].to_crs(metric)
    on_step("buildings")
    links = assign_buildings(
        buildings_m, grids_m, rule=options.rule, split_share=options.split_share
    )
    estate_links = assign_buildings(
        buildings_m, estates[["code", "geometry"]].to_crs(metric), rule=options.rule
    )
    links["estate_code"] = estate_links["grid_code"].to_numpy()
    on_step("addresses")
    address_links = assign_addresses(
        gpd.GeoDataFrame(
            {"code": addresses["code"].to_numpy()},
            geometry=projected_points(addresses["x"], addresses["y"], metric),
            crs=metric,
        ),
        buildings_m.assign(grid_code=links["grid_code"].to_numpy()),
        grids_m,
        tolerance_m=options.tolerance_m,
    )
    address_links = address_links.rename(
        columns={"reason": "assign_reason", "distance_m": "building_distance_m"}
    )
    on_step("store")
    stored = (
        links if store_buildings is None else links[links["code"].isin(store_buildings)]
    )
    link_store.write_links(session, Building, stored, current=buildings)
    link_store.write_links(session, Address, address_links, current=addresses)
    return AssignSummary(
        buildings=len(stored),
        buildings_in_no_grid=sorted(stored.loc[stored["grid_code"].isna(), "code"]),
        buildings_split=[
            (r.code, r.grid_code, r.split_grid_code, round(float(r.split_share), 3))
            for r in stored[stored["split_grid_code"].notna()].itertuples()
        ],
        addresses=len(address_links),
        reasons={
            str(k): int(v)
            for k, v in address_links["assign_reason"].value_counts().items()
        },
    )


def _grown(bounds: np.ndarray, pad: float) -> np.ndarray:
    """Bounds (n × 4) grown by ``pad`` on every side."""
    return bounds + np.array([-pad, -pad, pad, pad])


def has_links(session: Session) -> bool:
    """True once an assignment has run, so redraws keep the links up to date."""
    return link_store.has_address_links(session)


__all__ = [
    "AddressReason",
    "AssignOptions",
    "AssignSummary",
    "assign_all",
    "reassign_region",
]
