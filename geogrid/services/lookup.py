"""Who covers this point or address (谁负责): the chain 街道 → 社区 → 网格 → 楼栋 and its people.

Lookups answer from an in-memory snapshot of one generation (areas, buildings,
their stored links, the role-holders and the address index). The snapshot is
rebuilt only when the data changed, which every write marks with a new
import_batch row, so a lookup costs no database round trip.
"""

import ctypes
import gc
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from threading import Lock, Thread
from time import monotonic
from typing import Any

import pandas as pd
from sqlalchemy import Engine

import geopandas as gpd
import pyproj
import shapely
from shapely.geometry import shape as geojson_shape
from shapely.geometry.base import BaseGeometry

from geogrid.domain.access import Role, Viewer, contact_card, text_value
from geogrid.domain.address_index import MAX_QUERY, AddressIndex, AddressMatch
from geogrid.domain.address_index import Candidate as IndexCandidate
from geogrid.domain.addresses import normalize_address, parse_normalized
from geogrid.domain.answers import (
    AddressAnswer,
    AddressRef,
    BuildingCount,
    BuildingRef,
    Candidate,
    ChainLink,
    ContactCard,
    GridContacts,
    NearestBuilding,
    PointAnswer,
    PointQuery,
    WithinAnswer,
)
from geogrid.domain.roles import RoleScheme
from geogrid.errors import InvalidInput
from geogrid.messages import level_name
from geogrid.services.people import active_scheme
from geogrid.services.snapshot_cache import SnapshotCache
from geogrid.spatial.assign import BuildingRule, assign_buildings
from geogrid.spatial.crs import (
    STORAGE_CRS,
    CrsSpec,
    bd09_to_wgs84,
    gcj02_to_wgs84,
    in_china,
    local_crs,
    parse_crs,
    to_storage,
)
from geogrid.spatial.lookup import (
    LEVELS,
    LookupIndex,
    area_chain,
    build_lookup_index,
    lookup_point,
)
from geogrid.store import areas as area_store
from geogrid.store import links as link_store
from geogrid.store import people as people_store
from geogrid.store.batches import data_stamp, data_version
from geogrid.store.engine import Bind, session_scope

try:  # glibc only: elsewhere freed memory simply stays with the process
    _MALLOC_TRIM = getattr(ctypes.CDLL("libc.so.6"), "malloc_trim", None)
except OSError:
    _MALLOC_TRIM = None

MAX_WITHIN_M2 = 25_000_000.0
"""Largest shape ``within`` accepts (25 km²): a lockdown area, not a county."""

EQUAL_AREA_CRS = "EPSG:6933"
"""WGS 84 / NSIDC EASE-Grid 2.0 Global: areas of shapes too wide for a local CRS."""


@dataclass
class Snapshot:
    """One generation's areas, buildings and role-holders, ready to answer."""

    version: int
    as_of: datetime | None
    areas: dict[str, dict[str, Any]]
    buildings: pd.DataFrame
    holders: dict[tuple[str, str], list[dict[str, Any]]]
    scheme: RoleScheme
    index: LookupIndex
    building_rows: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    _addresses: AddressIndex | None = field(default=None, repr=False)
    stamp: str = ""
    """The data it was built from (:func:`~geogrid.store.batches.data_stamp`), when cached."""

    @property
    def has_addresses(self) -> bool:
        """Whether the address index was built (someone looked up an address)."""
        return self._addresses is not None

    def cards(self, level: str, code: str, caller: Role) -> list[ContactCard]:
        """The role-holders of one target as the caller may see them."""
        cards = []
        for row in self.holders.get((level, code), []):
            if row["role"] not in self.scheme.keys:
                continue
            role = self.scheme.role(row["role"])
            cards.append(
                contact_card(
                    row, role, phone_display=self.scheme.phone_display, caller=caller
                )
            )
        return cards


class LookupService:
    """Point, address and shape lookups over cached snapshots (查询服务).

    A change this process wrote (:meth:`data_changed`) is rebuilt before the
    next answer, so a writer reads its own write. A change written elsewhere
    (another worker, the CLI) is found by the periodic check and rebuilt in a
    background thread while the old snapshot keeps answering: on a city the
    rebuild takes tens of seconds, and no request should wait for it.
    """

    def __init__(
        self,
        bind: Bind,
        *,
        near_m: float = 100.0,
        recheck_s: float = 1.0,
        cache: SnapshotCache | None = None,
        index_on_miss: bool = False,
    ) -> None:
        self.bind = bind
        # A server: a snapshot answered without its address index starts
        # building one, so exact texts answered from the table meanwhile do
        # not keep a worker off the index for good.
        self.index_on_miss = index_on_miss
        self._indexing: Thread | None = None
        self.cache = cache
        self.near_m = near_m
        self.recheck_s = recheck_s
        self._checked: dict[datetime | None, float] = {}
        self._snapshots: dict[datetime | None, Snapshot] = {}
        self._lock = Lock()
        # Its own lock: a request waiting for the snapshot must not queue
        # behind the 15 s address index a warm-up builds right after it.
        self._index_lock = Lock()
        self._transformers: dict[str, pyproj.Transformer] = {}
        self._wrote = False
        self._rebuilding: Thread | None = None

    # ---------------------------------------------------------------- snapshots

    def data_changed(self) -> None:
        """Say this process just wrote: the next lookup checks the data at once."""
        self._wrote = True
        self._checked.clear()

    def snapshot(self, as_of: datetime | None = None) -> Snapshot:
        """The snapshot for ``as_of`` (None: now), rebuilt when the data changed.

        Whether the data changed is asked at most every ``recheck_s`` seconds:
        the question is a database round trip, which cost more than the whole
        lookup (0.3 ms on SpatiaLite, 0.5 ms on PostGIS, against 0.04 ms).
        """
        cached = self._snapshots.get(as_of)
        if (
            cached is not None
            and monotonic() - self._checked.get(as_of, 0.0) < self.recheck_s
        ):
            return cached
        with session_scope(self.bind) as session:
            version = data_version(session)
        self._checked[as_of] = monotonic()
        if cached is not None and cached.version == version:
            return cached
        # A test's connection inside one transaction cannot be shared with a
        # thread: it rebuilds in line.
        if cached is not None and not self._wrote and isinstance(self.bind, Engine):
            self._rebuild_in_background(as_of, had_addresses=cached.has_addresses)
            return cached
        self._wrote = False
        return self._rebuild(as_of)

    def warm_up(self) -> Thread:
        """Build the current snapshot and its address index in the background.

        A server calls this at start, so the first resident does not wait for
        what the first lookup would otherwise build.
        """
        thread = Thread(
            target=lambda: self.address_index(self.snapshot()),
            name="geogrid-warm-up",
            daemon=True,
        )
        thread.start()
        return thread

    def _rebuild(
        self, as_of: datetime | None, *, with_addresses: bool = False
    ) -> Snapshot:
        with self._lock:
            with session_scope(self.bind) as session:
                version = data_version(session)
                cached = self._snapshots.get(as_of)
                if cached is not None and cached.version == version:
                    return cached  # built by another thread while we waited
                gc.unfreeze()  # let the snapshot being replaced be collected
                snap = self._cached(session, as_of) or _build_snapshot(
                    session, version, as_of
                )
            if with_addresses and not snap.has_addresses:
                # Before it is published: an address lookup on the new
                # snapshot must not wait for what the old one already had.
                self._build_address_index(snap)
            if len(self._snapshots) > 8:
                self._snapshots.clear()
            self._snapshots[as_of] = snap
            _settle_memory()
        return snap

    def _rebuild_in_background(
        self, as_of: datetime | None, *, had_addresses: bool
    ) -> None:
        if self._rebuilding is not None and self._rebuilding.is_alive():
            return
        self._rebuilding = Thread(
            target=self._rebuild,
            args=(as_of,),
            kwargs={"with_addresses": had_addresses},
            name="geogrid-rebuild",
            daemon=True,
        )
        self._rebuilding.start()

    def _index_in_background(self, snap: Snapshot) -> None:
        if self._indexing is not None and self._indexing.is_alive():
            return
        self._indexing = Thread(
            target=self.address_index, args=(snap,), name="geogrid-index", daemon=True
        )
        self._indexing.start()

    def address_index(self, snap: Snapshot) -> AddressIndex:
        """The address index of a snapshot, built on first use (it is the costly part)."""
        if snap._addresses is None:
            with self._index_lock:
                if snap._addresses is None:  # another thread may have built it
                    self._build_address_index(snap)
                    _settle_memory()
        assert snap._addresses is not None
        return snap._addresses

    def _cached(self, session: Any, as_of: datetime | None) -> Snapshot | None:
        """Today's snapshot as another process saved it, if it matches the data."""
        if self.cache is None or as_of is not None:
            return None
        stamp = data_stamp(session)
        found = self.cache.load(stamp)
        return found if isinstance(found, Snapshot) and found.stamp == stamp else None

    def _build_address_index(self, snap: Snapshot) -> None:
        if self.cache is None or snap.as_of is not None:
            self._index_addresses(snap)
            return
        with self.cache.one_builder():
            # Another worker may have built this while we waited for the lock.
            with session_scope(self.bind) as session:
                stamp = data_stamp(session)
            saved = self.cache.load(stamp)
            if (
                isinstance(saved, Snapshot)
                and saved.version == snap.version
                and saved.has_addresses
            ):
                snap._addresses, snap.stamp = saved._addresses, stamp
                return
            self._index_addresses(snap)
            if stamp.startswith(f"{snap.version}@"):  # no write in between
                snap.stamp = stamp
                self.cache.save(stamp, snap)

    def _index_addresses(self, snap: Snapshot) -> None:
        with session_scope(self.bind) as session:
            # Texts and links only, a chunk at a time: reading a city's
            # address points to drop them was a third of the build, and its
            # million rows at once as Python strings half the peak memory.
            snap._addresses = AddressIndex.build(
                link_store.address_text_chunks(session),
                snap.buildings.reset_index(drop=True),
            )

    # ------------------------------------------------------------------- point

    def point(
        self,
        lon: float,
        lat: float,
        *,
        crs: str = "EPSG:4326",
        as_of: datetime | None = None,
        caller: Viewer = Role.PUBLIC,
    ) -> PointAnswer:
        """Who covers a point (点位查询), given in any supported CRS."""
        spec = _parse_crs(crs)
        x, y = self._to_storage(lon, lat, spec)
        snap = self.snapshot(as_of)
        hit = lookup_point(snap.index, x, y, near_m=self.near_m)
        nearest = None
        if hit.nearest_building is not None:
            code, distance = hit.nearest_building
            nearest = NearestBuilding(
                **_building(snap, code).model_dump(), distance_m=round(distance, 1)
            )
        return PointAnswer(
            query=PointQuery(
                lon=lon, lat=lat, crs=spec.label, lon_wgs84=x, lat_wgs84=y
            ),
            date=as_of.date() if as_of else None,
            found=bool(hit.areas),
            chain=_chain(snap, hit.areas, hit.building, caller),
            nearest_building=nearest,
        )

    def _to_storage(self, lon: float, lat: float, spec: CrsSpec) -> tuple[float, float]:
        if not all(map(_is_number, (lon, lat))):
            raise InvalidInput("coordinate_out_of_range", x=lon, y=lat)
        if spec.kind == "gcj02":
            xy: tuple[Any, Any] = gcj02_to_wgs84(lon, lat)
        elif spec.kind == "bd09":
            xy = bd09_to_wgs84(lon, lat)
        elif spec.label == STORAGE_CRS:
            xy = lon, lat
        else:
            if spec.label not in self._transformers:
                self._transformers[spec.label] = pyproj.Transformer.from_crs(
                    spec.crs, STORAGE_CRS, always_xy=True
                )
            xy = self._transformers[spec.label].transform(lon, lat)
        x, y = float(xy[0]), float(xy[1])
        if not in_china(x, y) and in_china(y, x):
            raise InvalidInput("latlon_swapped", x=lon, y=lat)
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            raise InvalidInput("coordinate_out_of_range", x=lon, y=lat)
        return x, y

    # ----------------------------------------------------------------- address

    def address(
        self,
        text: str,
        *,
        as_of: datetime | None = None,
        caller: Viewer = Role.PUBLIC,
        limit: int = 5,
    ) -> AddressAnswer:
        """Who covers an address typed as text (地址查询), with ranked candidates."""
        snap = self.snapshot(as_of)
        match = None
        if not snap.has_addresses and as_of is None:
            match = self._stored_match(text, limit)
            if match is not None and self.index_on_miss:
                self._index_in_background(snap)
        if match is None:
            match = self.address_index(snap).match(text, limit=limit)
        candidates = _visible_candidates(snap, match.candidates, caller)
        answer = AddressAnswer(
            query=text,
            date=as_of.date() if as_of else None,
            found=bool(match.is_confident and candidates),
            candidates=candidates,
            chain=[],
        )
        if answer.found:
            best = match.candidates[0]
            building = best.building
            areas = _areas_of_building(snap, building) if building else {}
            answer.chain = _chain(snap, areas, building, caller)
            if best.kind == "address" and not caller.view_of(best.code).is_public:
                answer.address = AddressRef(code=best.code, text=best.text)
        return answer

    def _stored_match(self, text: str, limit: int) -> AddressMatch | None:
        """The addresses stored with exactly this text, normalised; else None.

        While the address index is being built (a server's first quarter
        minute on a city, or a CLI lookup, which would build it for one
        question) an address typed as it was imported is found through the
        stored texts' own database index, in a millisecond, instead of
        waiting for the address index. The same text stored twice is a
        question back (not confident), with both as candidates, as the index
        answers it. Anything else waits for the index, as before.
        """
        norm = normalize_address(text[:MAX_QUERY])
        if not norm:
            return None
        with session_scope(self.bind) as session:
            rows = link_store.addresses_with_text(session, norm, limit=max(limit, 2))
        if not rows:
            return None
        found = tuple(
            IndexCandidate("address", code, stored, 1.0, ("text",), building)
            for code, stored, building in rows
        )
        # Two rows alike are never a confident answer: the index does not
        # tell them apart either, and never answers confidently wrong.
        return AddressMatch(text, parse_normalized(norm), found[:limit], len(rows) == 1)

    # ------------------------------------------------------------------ within

    def within(
        self,
        geometry: dict[str, Any],
        *,
        crs: str = "EPSG:4326",
        caller: Viewer = Role.PUBLIC,
    ) -> WithinAnswer:
        """What lies inside a shape (范围查询): grids, buildings, addresses and households."""
        shape = _parse_shape(geometry, parse_crs(crs))
        snap = self.snapshot()
        area_m2 = _area_m2(shape)
        if not area_m2 <= MAX_WITHIN_M2:  # NaN too
            raise InvalidInput(
                "shape_too_large",
                area_km2=round(area_m2 / 1e6, 1),
                limit_km2=MAX_WITHIN_M2 / 1e6,
            )
        hits = snap.index.area_tree.query(shape, predicate="intersects")
        grids = sorted(
            code
            for code in snap.index.area_code[hits]
            if snap.areas[code]["level"] == "grid"
        )
        with session_scope(self.bind) as session:
            buildings = link_store.buildings_frame(session, bbox=shape.bounds)
            addresses = link_store.addresses_frame(session, bbox=shape.bounds)
        buildings = buildings[buildings.intersects(shape)]
        addresses = addresses[addresses.geometry.notna() & addresses.within(shape)]
        return WithinAnswer(
            area_m2=round(area_m2, 1),
            # Whom to call for the area: each grid's posted role-holders.
            grids=[
                GridContacts(
                    code=c,
                    name=snap.areas[c]["name"],
                    holders=snap.cards("grid", c, caller.view_of(c)),
                )
                for c in grids
            ],
            buildings=[
                BuildingCount(
                    code=b.code, name=text_value(b.name), households=int(b.households)
                )
                for b in buildings.itertuples()
            ],
            n_addresses=len(addresses),
            households=int(buildings["households"].sum()),
            addresses=None
            if caller.is_public
            else [
                AddressRef(code=a.code, text=a.text)
                for a in addresses.itertuples()
                if not caller.view_of(a.code).is_public
            ],
        )


def _settle_memory() -> None:
    """After a build: freeze what lives long, hand back to the system what it freed.

    The snapshot holds many small objects; moving them out of the
    collector's sight keeps full collections, and the pauses they cause
    under load, short. The build's transient strings leave glibc's heap
    fragmented: on a 1M-address city the worker kept 120 MB of freed memory
    until ``malloc_trim`` returned it.
    """
    gc.collect()
    gc.freeze()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _is_number(value: object) -> bool:
    return (
        isinstance(value, int | float) and value == value and abs(value) != float("inf")
    )


_GEOMETRY_TYPES = (
    "Polygon",
    "MultiPolygon",
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "GeometryCollection",
)


def _geometries(document: Any) -> list[dict[str, Any]]:
    """The geometries of a GeoJSON document: a geometry, a Feature or a FeatureCollection.

    Raises:
        InvalidInput: ``geojson_type_unsupported`` naming any other type (a
            TopoJSON ``Topology``, say), ``geometry_missing`` for no geometry.
    """
    kind = document.get("type") if isinstance(document, dict) else None
    if kind == "FeatureCollection":
        features = document.get("features")
        if not isinstance(features, list):
            raise InvalidInput("geometry_missing")
        return [g for f in features for g in _geometries(f)]
    if kind == "Feature":
        geometry = document.get("geometry")
        if not isinstance(geometry, dict):
            raise InvalidInput("geometry_missing")
        return _geometries(geometry)
    if kind not in _GEOMETRY_TYPES:
        raise InvalidInput(
            "geojson_type_unsupported",
            type=str(kind)[:40],
            allowed="Polygon, MultiPolygon, Feature, FeatureCollection",
        )
    return [document]


def _parse_shape(geometry: dict[str, Any], spec: CrsSpec) -> BaseGeometry:
    """The polygons of a GeoJSON geometry, Feature or FeatureCollection, unioned, in storage CRS."""
    parts = _geometries(geometry)
    if not parts:
        raise InvalidInput("geometry_missing")
    try:
        shapes = [geojson_shape(g) for g in parts]
    except (
        AttributeError,
        KeyError,
        IndexError,
        TypeError,
        ValueError,
        shapely.errors.ShapelyError,
    ) as exc:
        raise InvalidInput(
            "geojson_invalid", reason=str(exc) or type(exc).__name__
        ) from exc
    for part, shape in zip(parts, shapes, strict=True):
        if shape.geom_type in ("Polygon", "MultiPolygon") and _has_open_ring(
            part["coordinates"], shape.geom_type
        ):
            raise InvalidInput("ring_not_closed")
    polygons = [
        p
        for shape in shapes
        for p in shapely.get_parts(shapely.get_parts(shape))
        if p.geom_type in ("Polygon", "MultiPolygon")
    ]
    if not polygons:
        raise InvalidInput(
            "geometry_type_wrong",
            expected="Polygon",
            actual="、".join(sorted({s.geom_type for s in shapes})),
        )
    invalid = [p for p in polygons if not p.is_valid]
    if invalid:
        raise InvalidInput(
            "geometry_invalid", reason=shapely.is_valid_reason(invalid[0])
        )
    shape = polygons[0] if len(polygons) == 1 else shapely.union_all(polygons)
    if shape.geom_type not in ("Polygon", "MultiPolygon"):
        raise InvalidInput(
            "geometry_type_wrong", expected="Polygon", actual=shape.geom_type
        )
    if shape.is_empty:
        raise InvalidInput("geometry_empty")
    stored = to_storage(gpd.GeoSeries([shape], crs=STORAGE_CRS), spec).iloc[0]
    _check_extent(stored)
    return stored


def _has_open_ring(coordinates: Any, geom_type: str) -> bool:
    # shapely closes an open ring silently; RFC 7946 §3.1.6 says the first
    # and last positions are the same, and a ring that is not may be a
    # truncated or mis-ordered one, so it is refused rather than guessed.
    polygons = [coordinates] if geom_type == "Polygon" else coordinates
    return any(
        len(ring) > 0 and list(ring[0]) != list(ring[-1])
        for polygon in polygons
        for ring in polygon
    )


def _check_extent(shape: BaseGeometry) -> None:
    """Refuse a shape off the lon/lat grid, naming a lat/lon swap when it looks like one."""
    minx, miny, maxx, maxy = shape.bounds
    x, y = (minx + maxx) / 2, (miny + maxy) / 2
    if not in_china(x, y) and in_china(y, x):
        raise InvalidInput("latlon_swapped", x=round(x, 6), y=round(y, 6))
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):  # NaN too
        raise InvalidInput(
            "coordinate_out_of_range", x=f"{minx:g}…{maxx:g}", y=f"{miny:g}…{maxy:g}"
        )


def _area_m2(shape: BaseGeometry) -> float:
    series = gpd.GeoSeries([shape], crs=STORAGE_CRS)
    minx, miny, maxx, maxy = shape.bounds
    # A local transverse Mercator is exact over a town but folds up over a
    # continent (a whole-world box came out as 0 m² and passed the size
    # check); past a degree or so, the global equal-area projection is used.
    wide = max(maxx - minx, maxy - miny) > 1.0
    metric = EQUAL_AREA_CRS if wide else local_crs(series)
    return float(series.to_crs(metric).area.iloc[0])


@lru_cache(maxsize=64)
def _parse_crs(value: str) -> CrsSpec:
    return parse_crs(value)


def _building(snap: Snapshot, code: str) -> BuildingRef:
    row = snap.building_rows[code]
    return BuildingRef(
        code=code,
        name=text_value(row["name"]),
        number=text_value(row["number"]),
        estate=text_value(row["estate"]),
    )


def _areas_of_building(snap: Snapshot, code: str) -> dict[str, str]:
    """The chain of a building's assigned grid, with its estate, from the top down."""
    row = snap.building_rows.get(code, {})
    grid, estate = row.get("grid_code"), row.get("estate_code")
    if not isinstance(grid, str):
        return {}
    chain = area_chain(snap.index, grid)
    if isinstance(estate, str) and estate in snap.areas:
        chain["estate"] = estate
    return {lvl: chain[lvl] for lvl in LEVELS if lvl in chain}


def _chain(
    snap: Snapshot, areas: dict[str, str], building: str | None, caller: Viewer
) -> list[ChainLink]:
    chain = [
        ChainLink(
            level=level,
            level_name=level_name(level),
            code=code,
            name=snap.areas[code]["name"],
            holders=snap.cards(level, code, caller.view_of(code)),
        )
        for level, code in areas.items()
    ]
    if building is not None and building in snap.buildings.index:
        ref = _building(snap, building)
        chain.append(
            ChainLink(
                level="building",
                level_name=level_name("building"),
                code=ref.code,
                name=ref.name,
                number=ref.number,
                estate=ref.estate,
                holders=snap.cards("building", building, caller.view_of(building)),
            )
        )
    return chain


def _visible_candidates(
    snap: Snapshot, found: Sequence[IndexCandidate], caller: Viewer
) -> list[Candidate]:
    """Residents' addresses stay on the staff side of their street: others get the building."""
    seen: set[str] = set()
    visible = []
    for c in found:
        answer = Candidate(
            kind=c.kind,
            code=c.code,
            text=c.text,
            score=round(c.score, 3),
            matched=list(c.matched),
        )
        if not caller.view_of(c.code).is_public:
            visible.append(answer)
            continue
        building = c.building
        if building is None or building in seen or building not in snap.building_rows:
            continue
        seen.add(building)
        # The plain dict, not buildings.loc: a pandas row costs 60 µs, a third
        # of a public address lookup's time under load.
        name = snap.building_rows[building]["name"]
        visible.append(
            answer.model_copy(
                update={"kind": "building", "code": building, "text": name}
            )
        )
    return visible


def _build_snapshot(session: Any, version: int, as_of: datetime | None) -> Snapshot:
    areas = area_store.areas_frame(session, as_of=as_of)
    buildings = link_store.buildings_frame(session)
    if as_of is not None:
        buildings = _relink(buildings, areas)
    holders: dict[tuple[str, str], list[dict[str, Any]]] = {}
    table = people_store.people_table(session, as_of=as_of)
    for row in _records(table[table["role"].notna()]):
        holders.setdefault((row["target_level"], row["target_code"]), []).append(row)
    return Snapshot(
        version=version,
        as_of=as_of,
        areas={
            r["code"]: {
                "name": r["name"],
                "level": r["level"],
                "parent_code": r["parent_code"],
            }
            for r in _records(areas.drop(columns="geometry"))
        },
        buildings=buildings.drop(columns="geometry").set_index("code", drop=False),
        building_rows={
            r["code"]: r for r in _records(buildings.drop(columns="geometry"))
        },
        holders=holders,
        scheme=active_scheme(session, default="三长三员一民警"),
        index=build_lookup_index(areas, buildings),
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``frame.to_dict("records")``, the same values, from its columns as lists.

    pandas boxes each value on its own: 0.95 s of the 2.4 s snapshot of a
    city's 100,000 buildings.
    """
    names = [str(c) for c in frame.columns]
    columns = [frame[c].tolist() for c in frame.columns]
    return [
        dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)
    ]


def _relink(buildings: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Buildings linked to the grids and estates of an older generation."""
    if buildings.empty:
        return buildings
    metric = local_crs(buildings)
    frame_m = buildings[["code", "geometry"]].to_crs(metric)
    out = buildings.copy()
    for level, column in (("grid", "grid_code"), ("estate", "estate_code")):
        level_areas = areas[areas["level"] == level][["code", "geometry"]].to_crs(
            metric
        )
        links = assign_buildings(
            frame_m, level_areas, rule=BuildingRule.POINT_ON_SURFACE
        )
        out[column] = links["grid_code"].to_numpy()
    return out
