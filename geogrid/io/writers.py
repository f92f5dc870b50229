"""Write output files (写出文件): GeoPackage, GeoJSON, Shapefile and CSV."""

from pathlib import Path

import pandas as pd

import geopandas as gpd
import pyogrio
import pyogrio.errors
import shapely

from geogrid.errors import InvalidInput

WGS84 = "EPSG:4326"
#: Decimals of a degree written to GeoJSON: 1e-8° is about 1 mm, ten times
#: finer than the 1e-7° an import-export-import round trip must keep.
GEOJSON_DECIMALS = 8
#: Column that holds geometry as WKT in a CSV export; the CSV reader reads it.
WKT_COLUMN = "wkt"

_GDAL_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError)


def write_features(
    frame: gpd.GeoDataFrame | pd.DataFrame, path: Path, *, layer: str
) -> None:
    """Write records to a file chosen by its suffix (写出文件).

    - ``.gpkg``: the layer ``layer`` replaces a layer of that name and leaves
      the file's other layers alone; a frame without geometry becomes an
      attribute-only table.
    - ``.geojson``/``.json``: RFC 7946 - reprojected to EPSG:4326, exterior
      rings counter-clockwise, 8 decimals; the file is replaced.
    - ``.shp``: UTF-8 attributes with a ``.cpg``; needs geometry.
    - ``.csv``: UTF-8 with BOM so Excel shows Chinese; geometry, if any, as
      full-precision WKT in the ``wkt`` column.

    Args:
        frame: The records; a GeoDataFrame must have a CRS for GeoJSON.
        path: The file to write.
        layer: Layer name inside a GeoPackage or GeoJSON; shapefiles and CSV
            files are named by ``path``.

    Raises:
        InvalidInput: ``format_unsupported``, ``format_needs_geometry`` or
            ``file_unwritable``.
        ValueError: A GeoDataFrame without CRS written to GeoJSON.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    spatial = isinstance(frame, gpd.GeoDataFrame)
    try:
        if suffix == ".csv":
            _write_csv(frame, path)
        elif suffix == ".gpkg":
            pyogrio.write_dataframe(frame, path, driver="GPKG", layer=layer)
        elif suffix in {".geojson", ".json"}:
            _write_geojson(frame, path, layer)
        elif suffix == ".shp":
            if not spatial:
                # GDAL would write a lone .dbf, which no GIS opens as a .shp.
                raise InvalidInput("format_needs_geometry", suffix=suffix)
            pyogrio.write_dataframe(
                frame, path, driver="ESRI Shapefile", encoding="UTF-8"
            )
        else:
            raise InvalidInput("format_unsupported", suffix=suffix or path.name)
    except (*_GDAL_ERRORS, OSError) as exc:
        raise InvalidInput("file_unwritable", path=str(path), reason=str(exc)) from exc


def _write_geojson(
    frame: gpd.GeoDataFrame | pd.DataFrame, path: Path, layer: str
) -> None:
    if isinstance(frame, gpd.GeoDataFrame):
        if frame.crs is None:
            raise ValueError("a GeoDataFrame needs a CRS to be written as GeoJSON")
        # Reproject here rather than leave it to GDAL, so the transformation is
        # the same pyproj one the rest of geogrid uses.
        frame = frame.to_crs(WGS84)
    # RFC7946 rewinds rings (same vertices, new order) and drops the non-standard
    # "crs" member; measured coordinate change is only the rounding, < 5e-9°.
    pyogrio.write_dataframe(
        frame,
        path,
        driver="GeoJSON",
        layer=layer,
        layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": GEOJSON_DECIMALS},
    )


def _write_csv(frame: gpd.GeoDataFrame | pd.DataFrame, path: Path) -> None:
    if isinstance(frame, gpd.GeoDataFrame):
        geometry = frame.geometry
        table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
        # shapely rounds WKT to 6 decimals by default; -1 keeps every digit.
        table[WKT_COLUMN] = shapely.to_wkt(geometry.to_numpy(), rounding_precision=-1)
    else:
        table = frame
    table.to_csv(path, index=False, encoding="utf-8-sig")
