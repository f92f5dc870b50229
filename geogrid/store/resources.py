"""Paged reads of the geographic resources (资源分页查询) for the web API's lists.

Areas and the four feature layers, filtered by bbox, parent, text, code and
code prefix, counted and paged in SQL, so a page of buildings costs the same
on a county of 3,000 buildings as on a city of 300,000. Only the columns in
columns :data:`geogrid.domain.layers.LAYERS` names are selected: ``attrs`` (an
import's free columns) can hold anything and never reaches a page.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Select, func, null, or_, select
from sqlalchemy.orm import Session

import geopandas as gpd

from geogrid.domain.layers import LAYERS
from geogrid.store.areas import valid_at, valid_during
from geogrid.store.dialect import envelope, in_bbox, intersects
from geogrid.store.frames import read_frame, rows_frame, wkb_of
from geogrid.store.layers import FEATURE_MODELS
from geogrid.store.models import Area

Bbox = tuple[float, float, float, float]

AREA_COLUMNS = ("code", "name", "level", "parent_code", "valid_from", "valid_to")
AREA_SEARCHED = ("code", "name")


@dataclass(frozen=True)
class Filters:
    """What a list asks for (筛选条件); a field left None filters nothing.

    ``parent`` is an area code: for areas, their direct parent; for buildings
    and addresses, any current area above the grid (or estate) they are
    linked to; for lanes and centres, the current area whose outline they
    meet. ``code_prefix`` keeps only codes starting with it (a staff scope).
    """

    bbox: Bbox | None = None
    parent: str | None = None
    q: str | None = None
    code: str | None = None
    code_prefix: str | None = None
    limit: int = 100
    offset: int = 0
    has_geometry: bool = True


def areas_page(
    session: Session,
    filters: Filters,
    *,
    level: str | None = None,
    as_of: datetime | None = None,
    during: tuple[datetime | None, datetime | None] | None = None,
) -> tuple[gpd.GeoDataFrame, int]:
    """One page of the areas valid at ``as_of`` (default: now), and how many match.

    ``during`` (start, end; None for an open end) instead gives every
    generation valid at some moment of that interval.
    """
    valid = valid_at(Area, as_of) if during is None else valid_during(Area, *during)
    where = [valid, *_common(session, Area, "areas", filters)]
    if level is not None:
        where.append(Area.level == level)
    if filters.parent is not None:
        where.append(Area.parent_code == filters.parent)
    columns = [getattr(Area, c) for c in AREA_COLUMNS]
    return _page(session, Area, columns, where, filters, (Area.code, Area.valid_from))


def features_page(
    session: Session, layer: str, filters: Filters
) -> tuple[gpd.GeoDataFrame, int]:
    """One page of ``layer`` (buildings, lanes, centres, addresses), and how many match."""
    model: Any = FEATURE_MODELS[layer]
    where = _common(session, model, layer, filters)
    if filters.parent is not None:
        where.append(_under(session, model, layer, filters.parent))
    columns = [getattr(model, name) for name, _ in LAYERS[layer].columns]
    return _page(session, model, columns, where, filters, (model.code,))


def area_heads(
    session: Session,
    *,
    as_of: datetime | None = None,
    codes: Sequence[str] | None = None,
    parents: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Code, name, level and parent of the areas valid at ``as_of``, without geometry."""
    stmt = (
        select(Area.code, Area.name, Area.level, Area.parent_code)
        .where(valid_at(Area, as_of))
        .order_by(Area.code)
    )
    if codes is not None:
        stmt = stmt.where(Area.code.in_(list(codes)))
    if parents is not None:
        stmt = stmt.where(Area.parent_code.in_(list(parents)))
    result = session.execute(stmt)
    return rows_frame(result.all(), list(result.keys()))


def _common(session: Session, model: Any, layer: str, filters: Filters) -> list[Any]:
    where: list[Any] = []
    if filters.code is not None:
        where.append(model.code == filters.code)
    if filters.code_prefix:
        where.append(model.code.startswith(filters.code_prefix, autoescape=True))
    if filters.q:
        where.append(
            or_(
                *(
                    getattr(model, c).icontains(filters.q, autoescape=True)
                    for c in (
                        AREA_SEARCHED if layer == "areas" else LAYERS[layer].searched
                    )
                )
            )
        )
    if filters.bbox is not None:
        # The index finds candidates by their boxes; the exact test decides.
        where.append(in_bbox(session, model, filters.bbox))
        where.append(intersects(session, model.geom, envelope(session, filters.bbox)))
    return where


def _under(session: Session, model: Any, layer: str, parent: str) -> Any:
    """Features under area ``parent``: by their stored links, else by location."""
    if layer in ("buildings", "addresses"):
        codes = select(_subtree(parent).c.code)
        cond = model.grid_code.in_(codes)
        if layer == "buildings":
            cond = or_(cond, model.estate_code.in_(codes))
        return cond
    outline = (
        select(Area.geom)
        .where(Area.code == parent, Area.valid_to.is_(None))
        .limit(1)
        .scalar_subquery()
    )
    return intersects(session, model.geom, outline)


def _subtree(code: str) -> Any:
    """Current area ``code`` and every current area below it (a recursive CTE)."""
    top = (
        select(Area.code)
        .where(Area.code == code, Area.valid_to.is_(None))
        .cte("subtree", recursive=True)
    )
    # UNION, not UNION ALL: it stops even on a (corrupt) cycle of parents.
    return top.union(
        select(Area.code).where(Area.parent_code == top.c.code, Area.valid_to.is_(None))
    )


def _page(
    session: Session,
    model: Any,
    columns: list[Any],
    where: list[Any],
    filters: Filters,
    order: tuple[Any, ...],
) -> tuple[gpd.GeoDataFrame, int]:
    count = select(func.count()).select_from(model).where(*where)
    total = int(session.scalar(count) or 0)
    geom = wkb_of(model.geom) if filters.has_geometry else null().label("geom")
    stmt: Select[Any] = (
        select(*columns, geom)
        .where(*where)
        .order_by(*order)
        .limit(filters.limit)
        .offset(filters.offset)
    )
    return read_frame(session, stmt), total
