"""Read input files (读取文件): GeoJSON, GeoPackage, Shapefile, KML/KMZ, DXF and CSV.

Readers return what the file holds, in the file's own CRS, and leave every
judgement about the records to :mod:`geogrid.io.validation`. Geometries GEOS
cannot even build (unclosed rings, too few points) do not fail the file: their
row indices are listed in ``frame.attrs`` so the validator can report them per
record.
"""

import codecs
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

import geopandas as gpd
import pyogrio
import pyogrio.errors
import pyogrio.raw
import shapely

from geogrid.errors import InvalidInput

#: ``frame.attrs`` key: positional rows whose rings were not closed in the file.
UNCLOSED_RINGS = "unclosed_rings"
#: ``frame.attrs`` key: positional rows whose geometry GEOS could not build at all.
MALFORMED_GEOMETRIES = "malformed_geometries"

OGR_SUFFIXES = frozenset(
    {".geojson", ".json", ".gpkg", ".shp", ".zip", ".kml", ".kmz", ".dxf"}
)
CSV_SUFFIX = ".csv"
LON_NAMES = ("lon", "lng", "longitude", "x", "经度")
LAT_NAMES = ("lat", "latitude", "y", "纬度")
WKT_NAMES = ("wkt", "geometry", "geom")

# Only shapefiles carry a declared encoding (.cpg); GeoJSON, GeoPackage and KML
# are UTF-8 by specification, so a user's --encoding must not re-decode them.
_ENCODED_SUFFIXES = frozenset({".shp", ".zip"})
_GDAL_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError)
#: ``frame.attrs`` key: the encoding guessed for a shapefile without ``.cpg``.
ENCODING_GUESSED = "encoding_guessed"
# GDAL's KML and LIBKML drivers add these styling and timing fields to every
# placemark. They are the drawing tool's, not the user's data (issue 12); only
# ``Name`` can carry a code or a name, so it is kept.
_KML_SUFFIXES = frozenset({".kml", ".kmz"})
KML_DRIVER_FIELDS = frozenset(
    {
        "description",
        "tessellate",
        "extrude",
        "visibility",
        "draworder",
        "icon",
        "altitudemode",
        "begin",
        "end",
        "timestamp",
        "snippet",
    }
)
# Without a .cpg, GDAL reads a shapefile's text as ISO-8859-1, which maps
# every byte to a character: the bytes survive, so they can be decoded again
# the way CSVs are (UTF-8 first, then GB18030, what Chinese Windows writes).
_SHAPE_DEFAULT_ENCODING = "ISO-8859-1"
_SHAPE_GUESSES = ("utf-8", "gb18030")


def read_features(
    path: Path,
    *,
    layer: str | None = None,
    encoding: str | None = None,
    lon_field: str | None = None,
    lat_field: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a vector file into a GeoDataFrame (读取矢量文件).

    Args:
        path: A ``.geojson``/``.json``, ``.gpkg``, ``.shp``, ``.zip`` (holding a
            shapefile), ``.kml``, ``.kmz``, ``.dxf`` or ``.csv`` file.
        layer: The layer to read (a KML folder); needed only when the file has
            several. Several names joined by commas are read as one layer.
        encoding: Text encoding of a shapefile's attributes (e.g. ``"gbk"``
            when the ``.cpg`` is missing) or of a CSV file; ignored for
            GeoJSON, GeoPackage and KML, which are always UTF-8. Without it a
            shapefile lacking ``.cpg`` is tried as UTF-8, then GB18030.
        lon_field: CSV column holding longitude (x); found by name if omitted.
        lat_field: CSV column holding latitude (y); found by name if omitted.

    Returns:
        The records with their geometry forced to 2D and the file's own CRS, or
        ``crs=None`` when the file declares none (always for CSV).
        ``frame.attrs["unclosed_rings"]`` and
        ``frame.attrs["malformed_geometries"]`` list positional row indices of
        geometries that had an unclosed ring (the frame holds them closed) or
        could not be built at all (the frame holds None). KML styling fields
        are dropped; a DXF gives its closed polylines as polygons with
        ``code``, ``name`` and ``label`` taken from the text inside each.

    Raises:
        InvalidInput: ``format_unsupported``, ``file_not_found``,
            ``file_unreadable``, ``layer_unknown``, ``layer_ambiguous``,
            ``csv_coordinates_missing``, ``field_missing`` or
            ``encoding_unknown``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in OGR_SUFFIXES and suffix != CSV_SUFFIX:
        raise InvalidInput("format_unsupported", suffix=suffix or path.name)
    if not path.exists():
        raise InvalidInput("file_not_found", path=str(path))
    if suffix == CSV_SUFFIX:
        return _csv_features(path, encoding, lon_field, lat_field)
    if suffix == ".dxf":
        from geogrid.io.dxf import read_dxf

        return read_dxf(path, layer=layer, encoding=encoding)
    frame = _read_ogr(path, layer, encoding if suffix in _ENCODED_SUFFIXES else None)
    if suffix in _KML_SUFFIXES:
        frame = _drop_kml_fields(frame)
    return frame


def _drop_kml_fields(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop the KML drivers' own fields; keep ``Name`` and the user's data."""
    drop = [c for c in frame.columns if str(c).lower() in KML_DRIVER_FIELDS]
    # LIBKML adds the placemark's XML id; a file that sets none has no use for it.
    if "id" in frame.columns and frame["id"].isna().all():
        drop.append("id")
    out = frame.drop(columns=drop)
    out.attrs = dict(frame.attrs)
    return out


def read_table(path: Path, *, encoding: str | None = None) -> pd.DataFrame:
    """Read a CSV table without geometry (读取表格), e.g. a people list.

    Every column is text, so codes and phone numbers keep their leading zeros
    and blank cells are ``""``. Without ``encoding`` the file is tried as UTF-8
    (with or without BOM), then as GB18030 (Excel's "CSV" on Chinese Windows).

    Raises:
        InvalidInput: ``format_unsupported``, ``file_not_found`` or
            ``file_unreadable``.
    """
    path = Path(path)
    if path.suffix.lower() != CSV_SUFFIX:
        raise InvalidInput("format_unsupported", suffix=path.suffix or path.name)
    if not path.exists():
        raise InvalidInput("file_not_found", path=str(path))
    return _read_csv(path, encoding)


def _read_csv(path: Path, encoding: str | None) -> pd.DataFrame:
    if encoding is None:
        candidates = ["utf-8-sig", "gb18030"]
    else:
        try:
            name = codecs.lookup(encoding).name
        except LookupError as exc:
            raise InvalidInput(
                "file_unreadable", path=str(path), reason=str(exc)
            ) from exc
        # A UTF-8 file saved by Excel starts with a BOM that would stick to the
        # first column's name.
        candidates = ["utf-8-sig" if name == "utf-8" else encoding]
    reason = ""
    for candidate in candidates:
        try:
            table = pd.read_csv(
                path, dtype=str, keep_default_na=False, encoding=candidate
            )
        except UnicodeDecodeError as exc:
            reason = str(exc)
            continue
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise InvalidInput(
                "file_unreadable", path=str(path), reason=str(exc)
            ) from exc
        table.columns = [str(c).strip() for c in table.columns]
        return table
    raise InvalidInput("file_unreadable", path=str(path), reason=reason)


def _csv_features(
    path: Path, encoding: str | None, lon_field: str | None, lat_field: str | None
) -> gpd.GeoDataFrame:
    table = _read_csv(path, encoding)
    lon = _find_column(table, lon_field, LON_NAMES)
    lat = _find_column(table, lat_field, LAT_NAMES)
    n = len(table)
    malformed: list[int] = []
    if lon is not None and lat is not None:
        x = _to_float(table[lon])
        y = _to_float(table[lat])
        ok = np.isfinite(x) & np.isfinite(y)
        geoms = np.full(n, None, dtype=object)
        geoms[ok] = shapely.points(x[ok], y[ok])
        # Blank coordinates mean "no location yet"; text that is not a number
        # is a broken record and must be reported, not silently dropped.
        given = (table[lon].str.strip() != "") | (table[lat].str.strip() != "")
        malformed = np.flatnonzero(given.to_numpy() & ~ok).tolist()
        # The columns became the geometry; keeping them would store them twice.
        table = table.drop(columns=[lon, lat])
    elif (
        lon_field is None
        and lat_field is None
        and (wkt := _find_column(table, None, WKT_NAMES))
    ):
        # Our own CSV export writes geometry as WKT; reading it back must work.
        text = table[wkt].str.strip().to_numpy(dtype=object)
        text[text == ""] = None
        geoms = shapely.from_wkt(text, on_invalid="ignore")
        malformed = np.flatnonzero(pd.notna(text) & pd.isna(geoms)).tolist()
        table = table.drop(columns=wkt)
    else:
        raise InvalidInput("csv_coordinates_missing")
    frame = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, index=table.index))
    frame.attrs[UNCLOSED_RINGS] = []
    frame.attrs[MALFORMED_GEOMETRIES] = malformed
    return frame


def _find_column(
    table: pd.DataFrame, named: str | None, aliases: tuple[str, ...]
) -> str | None:
    by_lower = {str(c).lower(): str(c) for c in table.columns}
    if named is not None:
        if named in table.columns:
            return named
        if named.lower() in by_lower:
            return by_lower[named.lower()]
        raise InvalidInput(
            "field_missing", field=named, available=", ".join(map(str, table.columns))
        )
    return next((by_lower[a] for a in aliases if a in by_lower), None)


def _to_float(column: pd.Series) -> np.ndarray:
    numbers = pd.to_numeric(column.str.strip(), errors="coerce")
    return numbers.to_numpy(dtype=float, na_value=np.nan)


def _read_ogr(path: Path, layer: str | None, encoding: str | None) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        # GDAL warns once per unclosed ring; we report them per record instead.
        warnings.filterwarnings(
            "ignore", message="Non closed ring detected", category=RuntimeWarning
        )
        # A GeoJSON property of mixed types comes back as text; the importer
        # parses and reports the values itself.
        warnings.filterwarnings(
            "ignore", message="Could not parse column .* as JSON", category=UserWarning
        )
        try:
            names = _pick_layers(path, layer)
            parts = [_read_layer(path, name, encoding) for name in names]
        except _GDAL_ERRORS as exc:
            raise InvalidInput(
                "file_unreadable", path=str(path), reason=str(exc)
            ) from exc
    if len(parts) == 1:
        return parts[0]
    return _concat(parts)


def _read_layer(path: Path, layer: str, encoding: str | None) -> gpd.GeoDataFrame:
    kwargs: dict[str, object] = {
        "encoding": encoding,
        "force_2d": True,
        "layer": layer,
    }
    guess = encoding is None and _needs_encoding_guess(path, layer)
    if guess:
        kwargs["encoding"] = "latin1"
    try:
        frame = pyogrio.read_dataframe(path, **kwargs)
        unclosed: list[int] = []
        malformed: list[int] = []
    except shapely.errors.GEOSException:
        frame, unclosed, malformed = _read_ogr_tolerant(path, kwargs)
    if guess:
        frame = redecode_latin1(frame, path)
    frame.attrs[UNCLOSED_RINGS] = unclosed
    frame.attrs[MALFORMED_GEOMETRIES] = malformed
    return frame


def _concat(parts: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Several layers as one frame, row lists shifted to the joined positions."""
    frame = gpd.GeoDataFrame(
        pd.concat(parts, ignore_index=True), geometry="geometry", crs=parts[0].crs
    )
    offset = 0
    attrs: dict[str, object] = {UNCLOSED_RINGS: [], MALFORMED_GEOMETRIES: []}
    for part in parts:
        for key in (UNCLOSED_RINGS, MALFORMED_GEOMETRIES):
            attrs[key] += [offset + i for i in part.attrs.get(key, [])]  # type: ignore[operator]
        if ENCODING_GUESSED in part.attrs:
            attrs[ENCODING_GUESSED] = part.attrs[ENCODING_GUESSED]
        offset += len(part)
    frame.attrs = attrs
    return frame


def _needs_encoding_guess(path: Path, layer: str) -> bool:
    """A shapefile whose encoding nothing declares (no .cpg, no DBF code page)."""
    suffix = path.suffix.lower()
    if suffix == ".shp":
        if any(path.with_suffix(ext).exists() for ext in (".cpg", ".CPG")):
            return False
    elif suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            if any(n.lower().endswith(".cpg") for n in archive.namelist()):
                return False
    else:
        return False
    info = pyogrio.read_info(path, layer=layer)
    return str(info.get("encoding") or "").upper() == _SHAPE_DEFAULT_ENCODING


def redecode_latin1(frame: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    """Decode text read as Latin-1 bytes as UTF-8, else GB18030, else refuse.

    Sets ``frame.attrs["encoding_guessed"]`` when any text was not ASCII.
    """
    text_cols = [
        c
        for c in frame.columns
        if c != frame.geometry.name
        and (frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c]))
    ]
    values = {
        c: [v.encode("latin1") if isinstance(v, str) else v for v in frame[c]]
        for c in text_cols
    }
    if not any(
        isinstance(v, bytes) and not v.isascii() for col in values.values() for v in col
    ):
        return frame
    for candidate in _SHAPE_GUESSES:
        try:
            decoded = {
                c: [v.decode(candidate) if isinstance(v, bytes) else v for v in col]
                for c, col in values.items()
            }
        except UnicodeDecodeError:
            continue
        out = frame.copy()
        for c, col in decoded.items():
            out[c] = pd.Series(col, index=frame.index, dtype=object)
        out.attrs = dict(frame.attrs)
        out.attrs[ENCODING_GUESSED] = candidate
        return out
    raise InvalidInput("encoding_unknown", path=str(path))


def _read_ogr_tolerant(
    path: Path, kwargs: dict[str, object]
) -> tuple[gpd.GeoDataFrame, list[int], list[int]]:
    """Read a file holding geometries GEOS rejects, noting which rows they are.

    GDAL passes an unclosed ring through as WKB that GEOS refuses to build, and
    the refusal would otherwise fail the whole file. Shapely's ``fix`` mode
    closes such rings; comparing it with a strict decoding of the same WKB
    names the rows.
    """
    frame = pyogrio.read_dataframe(path, on_invalid="fix", **kwargs)
    _, _, wkb, _ = pyogrio.raw.read(path, columns=[], read_geometry=True, **kwargs)
    strict = shapely.from_wkb(wkb, on_invalid="ignore")
    rejected = pd.notna(wkb) & pd.isna(strict)
    fixed = ~shapely.is_missing(frame.geometry.to_numpy())
    unclosed = np.flatnonzero(rejected & fixed).tolist()
    malformed = np.flatnonzero(rejected & ~fixed).tolist()
    return frame, unclosed, malformed


def _pick_layers(path: Path, layer: str | None) -> list[str]:
    """The layers to read: the one named, several joined by commas, or the only one."""
    names = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    if layer is not None:
        wanted = [w.strip() for w in layer.split(",") if w.strip()] or [layer]
        for name in wanted:
            if name not in names:
                raise InvalidInput(
                    "layer_unknown", layer=name, allowed=", ".join(names)
                )
        return wanted
    if len(names) > 1:
        raise InvalidInput(
            "layer_ambiguous", path=str(path), available=", ".join(names)
        )
    if not names:
        raise InvalidInput("layer_empty", path=str(path))
    return names


def text_column(frame: pd.DataFrame, field: str) -> pd.Series:
    """A column as stripped text, blanks for missing values.

    A numeric id column with gaps is read as floats (OSM ids, say): its
    whole numbers are written without the ``.0`` (6427674485, not 6427674485.0).
    """
    col = frame[field]
    if pd.api.types.is_float_dtype(col):
        whole = col.notna() & (col == col.round())
        text = col.astype(object).where(~whole, col.where(whole, 0).astype("int64"))
        return text.where(col.notna(), "").astype(str).str.strip()
    return col.where(col.notna(), "").astype(str).str.strip()
