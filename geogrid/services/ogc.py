"""Feature collections (要素集合) for OGC API - Features: areas, buildings and coverage defects.

GIS clients (QGIS, GDAL's OAPIF driver) read a collection page by page:
``limit`` and ``offset`` over a stable order (by code, or by key for
defects), optionally cut by a ``bbox`` in CRS84 lon/lat. Only public
fields are served: areas and buildings carry no people, and coverage
defects pass through :func:`~geogrid.services.coverage.public_view` for
callers without a login, as ``/coverage`` does.

Parameters follow the standard strictly: a name it does not define is
refused (/req/core/query-param-unknown), as is a malformed value
(/req/core/query-param-invalid), both with :class:`~geogrid.errors.BadParameter`.
A ``limit`` above the maximum is lowered to it, which the standard asks for
instead of an error.
"""

import json
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from threading import Lock
from typing import Any, NoReturn

import pandas as pd

import geopandas as gpd
from shapely.geometry import box

from geogrid.domain.findings import RULES
from geogrid.domain.layers import LAYERS
from geogrid.errors import BadParameter, NotFound
from geogrid.services.coverage import current_report, public_view
from geogrid.services.coverage_rules import CheckOptions
from geogrid.spatial.geojson import frame_features, rfc3339
from geogrid.store import extents
from geogrid.store import resources as resource_store
from geogrid.store.batches import data_version
from geogrid.store.engine import Bind, session_scope
from geogrid.store.resources import Bbox, Filters

LIMIT_DEFAULT = 100
LIMIT_MAX = 10_000
FORMATS = ("json", "geojson")
"""Values of ``f``: both give GeoJSON for items and JSON for metadata."""

ITEMS_PARAMETERS = ("limit", "offset", "bbox", "bbox-crs", "datetime", "crs", "f")
DEFECTS = "coverage-defects"
AREA_FIELDS: tuple[str, ...] = ("code", "name", "level", "parent_code", "valid_from")
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"
CGCS2000 = "http://www.opengis.net/def/crs/EPSG/0/4490"
WGS84 = "http://www.opengis.net/def/crs/EPSG/0/4326"
#: The CRSs items can be asked in (OGC API - Features Part 2). CGCS2000, China's
#: datum, lies within centimetres of WGS84, so its coordinates are ours; EPSG
#: defines both with latitude first, so they are written lat, lon.
CRS_LIST = (CRS84, CGCS2000, WGS84)
LAT_FIRST = frozenset({CGCS2000, WGS84})


@dataclass(frozen=True)
class FeatureCollection:
    """One collection: what it holds and how it is titled (集合说明)."""

    id: str
    title: str
    description: str
    level: str | None = None
    """The area level (区域层级) for area collections."""


COLLECTIONS = {
    c.id: c
    for c in (
        FeatureCollection(
            "districts", "区县 Districts", "区县边界 / district boundaries", "district"
        ),
        FeatureCollection(
            "streets", "街道 Streets", "街道（乡镇）边界 / street boundaries", "street"
        ),
        FeatureCollection(
            "communities",
            "社区 Communities",
            "社区（村）边界 / community boundaries",
            "community",
        ),
        FeatureCollection("grids", "网格 Grids", "网格边界 / grid boundaries", "grid"),
        FeatureCollection(
            "estates", "小区 Estates", "小区边界 / residential estates", "estate"
        ),
        FeatureCollection(
            "buildings",
            "楼栋 Buildings",
            "楼栋轮廓、户数与所属网格（不含人员）/ building footprints, households and grid",
        ),
        FeatureCollection(
            DEFECTS,
            "覆盖检查问题 Coverage defects",
            "现行覆盖检查报告中的问题 / findings of the current coverage report",
        ),
    )
}


@dataclass(frozen=True)
class ItemsQuery:
    """What a client asked of a collection's items, already checked."""

    limit: int = LIMIT_DEFAULT
    offset: int = 0
    bbox: Bbox | None = None
    as_of: datetime | None = None
    during: "Period | None" = None
    """An interval instead of an instant: every generation valid within it."""
    crs: str = CRS84
    """The CRS the features are written in (``crs``, OGC API Part 2)."""


Period = tuple[datetime | None, datetime | None]
"""An interval of time, None for an open end (``..`` in OGC API datetime)."""


@dataclass
class Page:
    """One page of GeoJSON features and how many features match in all."""

    features: list[dict[str, Any]]
    number_matched: int


def collection(collection_id: str) -> FeatureCollection:
    """The collection called ``collection_id``.

    Raises:
        NotFound: no such collection (``collection_not_found``).
    """
    if collection_id not in COLLECTIONS:
        raise NotFound(
            "collection_not_found",
            collection=collection_id,
            available=", ".join(COLLECTIONS),
        )
    return COLLECTIONS[collection_id]


def check_parameters(params: Mapping[str, str], allowed: Collection[str]) -> None:
    """Refuse a parameter outside ``allowed`` and an ``f`` that is not JSON.

    Raises:
        BadParameter: an unknown name (``parameter_unknown``) or format.
    """
    for name in params:
        if name not in allowed:
            raise BadParameter(
                "parameter_unknown", parameter=name, allowed=", ".join(allowed)
            )
    if "f" in params and params["f"].lower() not in FORMATS:
        _refuse("f", params["f"], " | ".join(FORMATS))


def items_query(collection_id: str, params: Mapping[str, str]) -> ItemsQuery:
    """Check the parameters of an items request and read them.

    Raises:
        NotFound: no such collection.
        BadParameter: an unknown parameter or a malformed value, naming it.
    """
    found = collection(collection_id)
    check_parameters(params, ITEMS_PARAMETERS)
    as_of, during = None, None
    if "datetime" in params:
        if found.level is None:
            raise BadParameter(
                "datetime_unsupported", parameter="datetime", collection=found.id
            )
        text = params["datetime"]
        if "/" in text:
            during = _interval(text)
        else:
            as_of = _instant(text)
    bbox_crs = output_crs(params, "bbox-crs")
    bbox = (
        _bbox(params["bbox"], lat_first=bbox_crs in LAT_FIRST)
        if "bbox" in params
        else None
    )
    return ItemsQuery(
        limit=min(_integer("limit", params, LIMIT_DEFAULT, minimum=1), LIMIT_MAX),
        offset=min(_integer("offset", params, 0, minimum=0), OFFSET_MAX),
        bbox=bbox,
        as_of=as_of,
        during=during,
        crs=output_crs(params, "crs"),
    )


def output_crs(params: Mapping[str, str], name: str = "crs") -> str:
    """The CRS URI a ``crs`` or ``bbox-crs`` parameter names (CRS84 when absent).

    Raises:
        BadParameter: a CRS not in :data:`CRS_LIST`.
    """
    value = params.get(name, CRS84).strip().strip("[]")
    if value not in CRS_LIST:
        _refuse(name, value, " | ".join(CRS_LIST))
    return value


def in_crs(features: list[dict[str, Any]], crs: str) -> list[dict[str, Any]]:
    """GeoJSON features written in ``crs``: latitude first for the EPSG CRSs."""
    if crs not in LAT_FIRST:
        return features

    def swapped(coords: Any) -> Any:
        if coords and isinstance(coords[0], int | float):
            return [coords[1], coords[0], *coords[2:]]
        return [swapped(c) for c in coords]

    out = []
    for feature in features:
        geometry = feature.get("geometry")
        if geometry and "coordinates" in geometry:
            geometry = geometry | {"coordinates": swapped(geometry["coordinates"])}
        out.append(feature | {"geometry": geometry})
    return out


class FeatureCollections:
    """The collections of one database, with the current defects kept between requests.

    Running the coverage check takes seconds on a county and GIS clients ask
    for the collection list and every page separately, so the served
    findings are kept until the data changes (a new import batch), the same
    test :func:`~geogrid.services.coverage.current_report` uses.
    """

    def __init__(self, bind: Bind, check: CheckOptions) -> None:
        self.bind = bind
        self.check = check
        self._lock = Lock()
        self._defects: dict[bool, tuple[int, gpd.GeoDataFrame]] = {}

    def describe(self, collection_id: str, *, is_public: bool) -> dict[str, Any]:
        """A collection's id, title, description and extent computed from its data.

        Raises:
            NotFound: no such collection.
        """
        found = collection(collection_id)
        bounds, first = self._extent(found, is_public=is_public)
        extent: dict[str, Any] = {}
        if bounds is not None:
            extent["spatial"] = {"bbox": [list(bounds)], "crs": CRS84}
        if first is not None:
            extent["temporal"] = {
                "interval": [[rfc3339(first), None]],
                "trs": GREGORIAN,
            }
        return {
            "id": found.id,
            "title": found.title,
            "description": found.description,
            "itemType": "feature",
            "crs": list(CRS_LIST),
            "storageCrs": CRS84,
            **({"extent": extent} if extent else {}),
        }

    def items(self, collection_id: str, query: ItemsQuery, *, is_public: bool) -> Page:
        """One page of a collection's features, in code order (by key for defects).

        Raises:
            NotFound: no such collection.
        """
        found = collection(collection_id)
        if found.id == DEFECTS:
            defects = self.defects(is_public=is_public)
            if query.bbox is not None:
                defects = defects[defects.intersects(box(*query.bbox)).to_numpy()]
            window = defects.iloc[query.offset : query.offset + query.limit]
            return Page(_defect_features(window), len(defects))
        filters = Filters(bbox=query.bbox, limit=query.limit, offset=query.offset)
        frame, n = self._page(found, filters, as_of=query.as_of, during=query.during)
        return Page(frame_features(frame), n)

    def item(
        self, collection_id: str, feature_id: str, *, is_public: bool
    ) -> dict[str, Any]:
        """One feature by its id: an area's or building's code, or a defect's key.

        Raises:
            NotFound: no such collection (``collection_not_found``) or feature
                (``feature_not_found``).
        """
        found = collection(collection_id)
        if found.id == DEFECTS:
            defects = self.defects(is_public=is_public)
            features = _defect_features(defects[defects["key"] == feature_id])
        else:
            frame, _ = self._page(found, Filters(code=feature_id, limit=1))
            features = frame_features(frame)
        if not features:
            raise NotFound("feature_not_found", collection=found.id, feature=feature_id)
        return features[0]

    def defects(self, *, is_public: bool) -> gpd.GeoDataFrame:
        """The current report's findings as the caller may see them, by key."""
        with session_scope(self.bind) as session:
            version = data_version(session)
        with self._lock:
            kept = self._defects.get(is_public)
        if kept is not None and kept[0] == version:
            return kept[1]
        result = current_report(self.bind, self.check)
        if is_public:
            result = public_view(result)
        defects = result.findings.sort_values("key").reset_index(drop=True)
        with self._lock:
            self._defects[is_public] = (version, defects)
        return defects

    def _page(
        self,
        found: FeatureCollection,
        filters: Filters,
        *,
        as_of: datetime | None = None,
        during: Period | None = None,
    ) -> tuple[gpd.GeoDataFrame, int]:
        """Areas of the collection's level, or buildings, with only the public fields."""
        with session_scope(self.bind) as session:
            if found.level is not None:
                frame, n = resource_store.areas_page(
                    session, filters, level=found.level, as_of=as_of, during=during
                )
                fields = AREA_FIELDS
            else:
                frame, n = resource_store.features_page(session, "buildings", filters)
                fields = LAYERS["buildings"].public_fields
        return frame[[*fields, "geometry"]], n

    def _extent(
        self, found: FeatureCollection, *, is_public: bool
    ) -> tuple[Bbox | None, datetime | None]:
        """Where a collection's features lie and, for areas, when its history begins."""
        if found.id == DEFECTS:
            defects = self.defects(is_public=is_public)
            located = defects.geometry[~(defects.is_empty | defects.geometry.isna())]
            if not len(located):
                return None, None
            minx, miny, maxx, maxy = (float(v) for v in located.total_bounds)
            return (minx, miny, maxx, maxy), None
        with session_scope(self.bind) as session:
            if found.level is not None:
                return extents.areas_extent(session, level=found.level)
            return extents.buildings_extent(session), None


def _defect_features(defects: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Findings as flat features: codes space-separated, the measure as JSON text.

    Flat values keep every finding's attributes in one table for GDAL and
    QGIS, whatever its rule measured.
    """
    table = pd.DataFrame(
        {
            "key": defects["key"],
            "rule": defects["rule"],
            "title": [RULES[r].title for r in defects["rule"]],
            "severity": defects["severity"],
            "codes": [" ".join(c) for c in defects["codes"]],
            "community_code": defects["community_code"],
            "measure": [
                json.dumps(m, ensure_ascii=False, sort_keys=True, default=_measure)
                for m in defects["measure"]
            ],
            "is_accepted": defects["is_accepted"].astype(bool),
        },
        index=defects.index,
    )
    return frame_features(
        gpd.GeoDataFrame(table, geometry=defects.geometry), id_field="key"
    )


def _measure(value: Any) -> Any:
    """What json cannot write by itself in a finding's measure: numpy scalars."""
    return value.item() if hasattr(value, "item") else str(value)


def _refuse(parameter: str, value: str, expected: str) -> NoReturn:
    raise BadParameter(
        "parameter_value_invalid", parameter=parameter, value=value, expected=expected
    )


OFFSET_MAX = 2**31 - 1
"""Beyond what either database takes as an OFFSET, and beyond any layer of ours."""


def _integer(
    name: str, params: Mapping[str, str], default: int, *, minimum: int
) -> int:
    if name not in params:
        return default
    text = params[name].strip()
    if not text.isascii() or not text.isdigit() or int(text) < minimum:
        _refuse(name, params[name], f"≥ {minimum} 的整数 / an integer ≥ {minimum}")
    return int(text)


def _bbox(text: str, *, lat_first: bool = False) -> Bbox:
    """``minx,miny,maxx,maxy`` (or six numbers with heights) as CRS84 lon/lat.

    With ``lat_first`` (``bbox-crs`` EPSG:4490 or 4326) the numbers are
    ``minlat,minlon,maxlat,maxlon``.
    """
    expected = (
        "minlat,minlon,maxlat,maxlon (EPSG 纬度在前)"
        if lat_first
        else "minlon,minlat,maxlon,maxlat (CRS84 经纬度)"
    )
    try:
        numbers = [float(part) for part in text.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        _refuse("bbox", text, expected)
    if lat_first:
        numbers = [numbers[1], numbers[0], numbers[3], numbers[2]]
    minx, miny, maxx, maxy = numbers
    # No area of ours crosses the antimeridian, so min > max is a mistake.
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        _refuse("bbox", text, expected)
    return (minx, miny, maxx, maxy)


_DATETIME_EXPECTED = (
    "时刻或时段 an instant or interval: 2026-06-01 | 2026-06-01T08:00:00Z"
    " | 2020-01-01T00:00:00Z/2026-06-01T00:00:00Z | ../2020-01-01T00:00:00Z"
    " | 2020-01-01T00:00:00Z/.."
)


def _interval(text: str) -> Period:
    """An OGC API datetime interval ``start/end``, either end ``..`` (or empty) for open.

    ``../..`` is every generation ever valid.
    """
    parts = text.split("/")
    if len(parts) != 2:
        _refuse("datetime", text, _DATETIME_EXPECTED)
    start, end = (
        None if p in ("", "..") else _instant(p, start=i == 0)
        for i, p in enumerate(parts)
    )
    if start is not None and end is not None and start > end:
        _refuse("datetime", text, _DATETIME_EXPECTED)
    return start, end


def _instant(text: str, *, start: bool = False) -> datetime:
    """An RFC 3339 instant as naive UTC.

    A bare date means the end of that day, or its start at the start of an
    interval.
    """
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time.min if start else time.max)
        moment = datetime.fromisoformat(text)
    except ValueError:
        _refuse("datetime", text, _DATETIME_EXPECTED)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment
