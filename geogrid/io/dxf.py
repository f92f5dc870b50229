"""Read CAD drawings (读取 DXF): closed polylines as areas, their labels as codes.

A 规划院 drawing holds each area as a closed polyline and its number and name
as a separate TEXT/MTEXT entity placed inside it, and it records no CRS. GDAL
reads both as plain entities; this module turns each closed polyline into a
polygon and joins the texts it contains to it, so the usual checks can judge
the result like any other boundary file.
"""

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import geopandas as gpd
import pyogrio
import pyogrio.errors
import shapely

from geogrid.errors import InvalidInput
from geogrid.io.readers import ENCODING_GUESSED, redecode_latin1

#: ``frame.attrs`` key: how many texts lay inside no polygon.
LABELS_UNPLACED = "labels_unplaced"

_CODE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.\-]*$")
# GDAL's DXF reader adds these to every entity; they describe the drawing.
_CAD_FIELDS = ("PaperSpace", "SubClasses", "Linetype", "EntityHandle", "Text")
# MTEXT formatting codes (\P paragraph, \f font, {…} groups) left in the text.
_MTEXT_CODES = re.compile(r"\\[A-Za-z][^;\\]*;|\\P|[{}]")


def read_dxf(
    path: Path, *, layer: str | None = None, encoding: str | None = None
) -> gpd.GeoDataFrame:
    """Read a DXF drawing's closed polylines as polygons labelled by the text inside.

    Args:
        path: The ``.dxf`` file.
        layer: Keep only entities on these CAD layers (comma-separated); the
            texts are taken from every layer.
        encoding: The drawing's text encoding (e.g. ``gbk``); without it the
            text is tried as UTF-8, then GB18030.

    Returns:
        One row per closed polyline (or hatch), with ``code`` and ``name``
        from the texts inside it, ``label`` (every such text, joined) and the
        CAD ``Layer``. The CRS is always None: a DXF records none.

    Raises:
        InvalidInput: ``file_unreadable`` or ``layer_unknown``.
    """
    # A drawing without $DWGCODEPAGE is read as Windows-1252 by GDAL, and many
    # Chinese ones lie about it: read the bytes as Latin-1 and decode them as
    # shapefiles are (UTF-8, then GB18030), unless the user names the encoding.
    previous = pyogrio.get_gdal_config_option("DXF_ENCODING")
    pyogrio.set_gdal_config_options({"DXF_ENCODING": encoding or "ISO-8859-1"})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            raw = pyogrio.read_dataframe(path, force_2d=True)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InvalidInput("file_unreadable", path=str(path), reason=str(exc)) from exc
    finally:
        pyogrio.set_gdal_config_options({"DXF_ENCODING": previous})
    if encoding is None:
        raw = redecode_latin1(raw, path)
    geoms = raw.geometry.to_numpy()
    texts = raw["Text"] if "Text" in raw.columns else pd.Series([None] * len(raw))
    has_text = texts.notna().to_numpy() & (texts.astype(str).str.strip() != "")
    shapes = _as_polygons(geoms)
    keep = ~shapely.is_missing(shapes) & ~has_text
    if layer is not None and "Layer" in raw.columns:
        wanted = [w.strip() for w in layer.split(",") if w.strip()]
        known = sorted(set(raw["Layer"].dropna().astype(str)))
        for name in wanted:
            if name not in known:
                raise InvalidInput(
                    "layer_unknown", layer=name, allowed=", ".join(known)
                )
        keep &= raw["Layer"].isin(wanted).to_numpy()
    rows = np.flatnonzero(keep)
    frame = raw.iloc[rows].drop(columns=[c for c in _CAD_FIELDS if c in raw.columns])
    frame = gpd.GeoDataFrame(
        frame.reset_index(drop=True), geometry=list(shapes[rows]), crs=None
    )
    labels, unplaced = _labels(
        frame.geometry.to_numpy(), geoms[has_text], texts[has_text]
    )
    codes, names = (
        zip(*(_split(parts) for parts in labels), strict=True) if labels else ((), ())
    )
    frame.insert(0, "code", list(codes))
    frame.insert(1, "name", list(names))
    frame.insert(2, "label", [" ".join(parts) for parts in labels])
    frame.attrs = {
        "unclosed_rings": [],
        "malformed_geometries": [],
        LABELS_UNPLACED: unplaced,
        **{k: v for k, v in raw.attrs.items() if k == ENCODING_GUESSED},
    }
    return frame


def _as_polygons(geoms: np.ndarray) -> np.ndarray:
    """Closed rings as polygons, polygons as they are, everything else None."""
    out = np.full(len(geoms), None, dtype=object)
    type_id = shapely.get_type_id(geoms)
    polygons = (type_id == shapely.GeometryType.POLYGON) | (
        type_id == shapely.GeometryType.MULTIPOLYGON
    )
    out[polygons] = geoms[polygons]
    lines = np.flatnonzero(type_id == shapely.GeometryType.LINESTRING)
    # An open polyline is a road or a hatch line, not an area: it is left out.
    ring_like = shapely.is_closed(geoms[lines]) & (
        shapely.get_num_coordinates(geoms[lines]) >= 4
    )
    closed = lines[ring_like]
    coords, index = shapely.get_coordinates(geoms[closed], return_index=True)
    out[closed] = shapely.polygons(shapely.linearrings(coords, indices=index))
    return out


def _labels(
    shapes: np.ndarray, points: np.ndarray, texts: pd.Series
) -> tuple[list[list[str]], int]:
    """The texts inside each shape (the smallest shape holding it wins)."""
    labels: list[list[str]] = [[] for _ in range(len(shapes))]
    if len(shapes) == 0 or len(points) == 0:
        return labels, len(points)
    anchors = shapely.point_on_surface(points)
    tree = shapely.STRtree(shapes)
    src, dst = tree.query(anchors, predicate="within")
    area = shapely.area(shapes)
    best: dict[int, int] = {}
    for s, d in zip(src, dst, strict=True):
        if s not in best or area[d] < area[best[s]]:
            best[int(s)] = int(d)
    values = [_clean(str(t)) for t in texts]
    for s in sorted(best):
        labels[best[s]].append(values[s])
    return labels, len(points) - len(best)


def _clean(text: str) -> str:
    return " ".join(_MTEXT_CODES.sub(" ", text).split())


def _split(parts: list[str]) -> tuple[str, str]:
    """Code and name from a polygon's texts: the code-like token is the code.

    ``["620899001001001 东街第1网格"]`` and ``["620899001001001", "东街第1网格"]``
    both give that code and name; a label with no code-like token is a name.
    """
    tokens = " ".join(parts).split()
    code = next((t for t in tokens if _CODE.match(t)), "")
    name = " ".join(t for t in tokens if t != code) if code else " ".join(tokens)
    return code, name
