"""Export use cases (导出): any stored layer back to a file QGIS can open."""

from datetime import datetime
from pathlib import Path

import pandas as pd

import geopandas as gpd

from geogrid.domain.codes import AreaLevel
from geogrid.domain.layers import LAYERS
from geogrid.errors import InvalidInput
from geogrid.io.writers import write_features
from geogrid.services.people import people_export_table
from geogrid.store import areas as area_store
from geogrid.store import layers as layer_store
from geogrid.store.engine import Bind, session_scope

AREA_LAYERS = tuple(level.value for level in AreaLevel)
FEATURE_LAYERS = tuple(LAYERS)
EXPORTED = (*AREA_LAYERS, *FEATURE_LAYERS, "people")


def _flatten_attrs(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Spread the ``attrs`` JSON back into columns, as they were in the imported file."""
    attrs = pd.DataFrame(list(frame.pop("attrs")), index=frame.index)
    attrs = attrs[[c for c in attrs.columns if c not in frame.columns]]
    return gpd.GeoDataFrame(
        pd.concat([frame, attrs], axis=1), geometry="geometry", crs=frame.crs
    )


def layer_frame(
    bind: Bind, layer: str, *, as_of: datetime | None = None
) -> pd.DataFrame:
    """One layer as a frame with codes and attributes (areas as valid at ``as_of``)."""
    if layer not in EXPORTED:
        raise InvalidInput("layer_unknown", layer=layer, allowed="|".join(EXPORTED))
    if layer == "people":
        return people_export_table(bind)
    with session_scope(bind) as session:
        if layer in AREA_LAYERS:
            frame = area_store.areas_frame(session, level=layer, as_of=as_of)
            frame = frame.drop(columns=["id", "level"])
            for col in ("valid_from", "valid_to"):
                frame[col] = frame[col].map(
                    lambda v: v.isoformat() if isinstance(v, datetime) else None
                )
        else:
            frame = layer_store.features_frame(session, layer).drop(columns=["id"])
            # A count with gaps (floors unknown) comes out of the store as
            # floats; GIS files should say Integer, not Real.
            for name in LAYERS[layer].integers:
                frame[name] = frame[name].astype("Int64")
    return _flatten_attrs(frame)


def export_layer(
    bind: Bind, layer: str, path: Path, *, as_of: datetime | None = None
) -> int:
    """Write ``layer`` to ``path`` (.gpkg, .geojson, .shp, .csv); returns the feature count."""
    frame = layer_frame(bind, layer, as_of=as_of)
    write_features(frame, path, layer=layer)
    return len(frame)
