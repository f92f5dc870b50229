"""Repository of point, line and footprint features (要素): buildings, lanes, addresses, centres.

These are replaced by code on import rather than versioned: their history
that matters (which grid a building was in) follows from the areas' history.
"""

from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

import geopandas as gpd

from geogrid.store.dialect import in_bbox, one_of
from geogrid.store.frames import (
    bookkeeping_paused,
    changed_rows,
    insert_rows,
    read_frame,
    wkb_of,
)
from geogrid.store.models import Address, Base, Building, Lane, Road, ServiceCentre

FEATURE_MODELS: dict[str, type[Base]] = {
    "buildings": Building,
    "lanes": Lane,
    "roads": Road,
    "addresses": Address,
    "centres": ServiceCentre,
}


def _model(layer: str) -> Any:
    return FEATURE_MODELS[layer]


def features_frame(
    session: Session, layer: str, *, bbox: tuple[float, ...] | None = None
) -> gpd.GeoDataFrame:
    """The features of ``layer`` (those touching ``bbox``, if given), ordered by code."""
    model = _model(layer)
    columns = [c for c in model.__table__.columns if c.name not in ("geom", "batch_id")]
    stmt = select(*columns, wkb_of(model.geom)).order_by(model.code)
    if bbox is not None:
        stmt = stmt.where(in_bbox(session, model, bbox))
    return read_frame(session, stmt)


def existing_codes(session: Session, layer: str, codes: Sequence[str]) -> set[str]:
    """Which of ``codes`` are stored in ``layer``."""
    model = _model(layer)
    found: set[str] = set()
    for start in range(0, len(codes), 10_000):
        chunk = list(codes[start : start + 10_000])
        found.update(session.scalars(select(model.code).where(model.code.in_(chunk))))
    return found


def replace_features(
    session: Session,
    layer: str,
    rows: pd.DataFrame,
    geoms: Sequence[Any],
) -> int:
    """Replace the features whose codes appear in ``rows``; returns how many were replaced."""
    model = _model(layer)
    codes = rows["code"].astype(str).tolist()
    table = model.__tablename__
    with bookkeeping_paused(session.connection(), table, len(codes), change="delete"):
        # One statement, the codes bound as one value: 100 deletes of 10,000
        # bound codes each spent 2 s compiling on a city's import.
        replaced = changed_rows(
            session, delete(model).where(one_of(session, model.code, codes))
        )
    insert_rows(session, model, rows, geoms)
    return replaced


def count_features(session: Session, layer: str) -> int:
    """How many features ``layer`` holds."""
    model = _model(layer)
    return int(session.scalar(select(func.count()).select_from(model)) or 0)
