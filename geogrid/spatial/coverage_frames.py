"""Findings frames and input checks (检查结果表) shared by the coverage engines.

A findings frame has exactly the columns of
:data:`geogrid.domain.findings.FINDING_COLUMNS`; the engines in
:mod:`geogrid.spatial.coverage` and :mod:`geogrid.spatial.coverage_checks`
build theirs here, from inputs checked here.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from geogrid.domain.findings import FINDING_COLUMNS, RULES

_POLYGON, _COLLECTION = 3, 7
_Array = np.ndarray


def findings_frame(
    rules: Sequence[str],
    codes: Sequence[tuple[Any, ...]],
    parent_codes: Sequence[str | None],
    measures: Sequence[dict[str, Any]],
    geometry: Sequence[BaseGeometry | None] | _Array,
    *,
    crs: Any = None,
) -> gpd.GeoDataFrame:
    """Build a findings frame (检查结果表) from parallel sequences.

    Args:
        rules: Rule codes of :data:`geogrid.domain.findings.RULES`.
        codes: Per finding, a tuple of the feature codes involved.
        parent_codes: Per finding, the parent it was checked under, or None.
        measures: Per finding, a dict of measures (``{"area_m2": 12.5}``).
        geometry: Per finding, where it is.
        crs: The CRS of ``geometry``.

    Returns:
        A GeoDataFrame with exactly :data:`FINDING_COLUMNS`, severity taken
        from the rule; object columns, so a missing parent is None, not NaN.

    Examples:
        >>> findings_frame(["gap"], [("G1", "G2")], ["C1"], [{"area_m2": 4.0}],
        ...                [shapely.box(0, 0, 2, 2)]).iloc[0, :5].tolist()
        ['gap', 'error', ('G1', 'G2'), 'C1', {'area_m2': 4.0}]
    """
    rule = np.array(list(rules), dtype=object)
    severity = np.array([RULES[r].severity.value for r in rule], dtype=object)
    columns = {
        "rule": rule,
        "severity": severity,
        "codes": object_array(codes),
        "parent_code": object_array(parent_codes),
        "measure": object_array(measures),
    }
    data = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})
    geoms = gpd.GeoSeries(object_array(geometry), crs=crs)
    return gpd.GeoDataFrame(data, geometry=geoms, crs=crs)[list(FINDING_COLUMNS)]


def empty_findings(crs: Any = None) -> gpd.GeoDataFrame:
    """An empty findings frame (空检查结果) with :data:`FINDING_COLUMNS`.

    Args:
        crs: The CRS the frame declares.

    Returns:
        A frame with no rows.

    Examples:
        >>> list(empty_findings().columns) == list(FINDING_COLUMNS)
        True
    """
    return findings_frame([], [], [], [], [], crs=crs)


def object_array(values: Sequence[Any] | _Array) -> _Array:
    """A 1-d object array, even of tuples (np.asarray would make them a 2-d array)."""
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def code_tuples(
    n: int, owner: _Array, values: _Array, rank: _Array
) -> list[tuple[Any, ...]]:
    """Per owner 0..n-1 the tuple of its values, ordered by rank; ``()`` for none."""
    order = np.lexsort((rank, owner))
    cuts = np.searchsorted(owner[order], np.arange(1, n))
    return [tuple(part) for part in np.split(values[order], cuts)] if n else []


def polygonal(geoms: _Array) -> _Array:
    """The polygonal part of each geometry: overlays may add lines and points."""
    out = geoms.copy()
    mixed = np.flatnonzero(shapely.get_type_id(geoms) == _COLLECTION)
    if len(mixed):
        parts, owner = shapely.get_parts(geoms[mixed], return_index=True)
        parts, sub = shapely.get_parts(parts, return_index=True)  # nested multis
        keep = shapely.get_type_id(parts) == _POLYGON
        polys = np.full(len(mixed), None, dtype=object)
        shapely.multipolygons(parts[keep], indices=owner[sub][keep], out=polys)
        polys[shapely.is_missing(polys)] = shapely.Polygon()
        single = shapely.get_num_geometries(polys) == 1
        polys[single] = shapely.get_geometry(polys[single], 0)
        out[mixed] = polys
    return out


def repair(geoms: _Array) -> _Array:
    """Valid polygonal geometries, as the importer repairs them."""
    made = shapely.make_valid(geoms, method="structure", keep_collapsed=False)
    return polygonal(made)
