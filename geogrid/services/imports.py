"""Import use cases (导入): read a file, check every record, write all or nothing.

Every import follows the same order: read → CRS → coordinate sanity →
geometry validation → attribute and tree checks → one transaction. Checks
collect every problem before anything is written, so the report lists all
bad records and a rejected import leaves the database as it was.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from geogrid.domain.codes import AreaLevel, code_problem, parent_code_of
from geogrid.errors import ImportRejected, InvalidInput
from geogrid.io.readers import MALFORMED_GEOMETRIES, UNCLOSED_RINGS, read_features
from geogrid.io.report import ImportReport
from geogrid.io.validation import GeometryKind, validate_geometries
from geogrid.messages import level_name
from geogrid.spatial.crs import (
    crs_spec_of,
    local_crs,
    out_of_range,
    parse_crs,
    swapped_latlon,
    to_storage,
)
from geogrid.store import areas as area_store
from geogrid.store import features as feature_store
from geogrid.store.engine import Bind, session_scope
from geogrid.store.models import ImportBatch


@dataclass(frozen=True)
class ImportOptions:
    """How to read one file (导入选项); the CLI's options map one to one."""

    crs: str | None = None
    repair: bool = False
    layer: str | None = None
    encoding: str | None = None
    code_field: str = "code"
    name_field: str = "name"
    parent_field: str | None = None
    text_field: str = "text"
    lon_field: str | None = None
    lat_field: str | None = None
    is_free_codes: bool = False
    valid_from: datetime | None = None


@dataclass
class _Prepared:
    frame: gpd.GeoDataFrame
    codes: pd.Series
    ids: list[str]
    geoms: gpd.GeoSeries
    crs_label: str


def utcnow() -> datetime:
    """Now in UTC, naive, as stored (both backends keep naive timestamps)."""
    return datetime.now(UTC).replace(tzinfo=None)


def _text(frame: pd.DataFrame, field: str) -> pd.Series:
    """A column as stripped text, blanks for missing values."""
    col = frame[field]
    return col.where(col.notna(), "").astype(str).str.strip()


def _find_field(frame: pd.DataFrame, name: str, *, required: bool) -> str | None:
    """The column called ``name``, matched case-insensitively as a fallback."""
    if name in frame.columns:
        return name
    for col in frame.columns:
        if str(col).lower() == name.lower():
            return str(col)
    if required:
        available = ", ".join(str(c) for c in frame.columns if c != "geometry")
        raise InvalidInput("field_missing", field=name, available=available)
    return None


def _prepare(
    path: Path,
    options: ImportOptions,
    kind: GeometryKind,
    report: ImportReport,
    *,
    is_geometry_optional: bool = False,
) -> _Prepared:
    frame = read_features(
        path,
        layer=options.layer,
        encoding=options.encoding,
        lon_field=options.lon_field,
        lat_field=options.lat_field,
    )
    report.n_read = len(frame)
    if frame.empty:
        raise InvalidInput("layer_empty", path=str(path))
    if options.crs:
        spec = parse_crs(options.crs)
    elif frame.crs is not None:
        spec = crs_spec_of(frame.crs)
    else:
        raise InvalidInput("crs_missing", path=str(path))

    code_col = _find_field(frame, options.code_field, required=True)
    assert code_col is not None
    codes = _text(frame, code_col)
    ids = [c or f"#{i + 1}" for i, c in enumerate(codes)]
    for i in np.flatnonzero((codes == "").to_numpy()):
        report.add(ids[i], "code_missing")
    for i, other in _duplicates(codes):
        report.add(ids[i], "code_duplicate", code=codes.iloc[i], other=f"#{other + 1}")

    geoms = to_storage(frame.geometry, spec)
    misplaced = _check_coordinates(geoms, ids, report)
    geoms, problems = validate_geometries(
        geoms,
        ids,
        kind=kind,
        repair=options.repair,
        unclosed=frame.attrs.get(UNCLOSED_RINGS, ()),
        malformed=frame.attrs.get(MALFORMED_GEOMETRIES, ()),
    )
    if is_geometry_optional:
        problems = [p for p in problems if p.code != "geometry_missing"]
    report.extend(problems)
    # Later checks (parents, containment) cannot judge a misplaced record.
    geoms = geoms.where(~misplaced, None)
    return _Prepared(frame, codes, ids, geoms, spec.label)


def _duplicates(codes: pd.Series) -> list[tuple[int, int]]:
    """(row, first row) for every repeat of a non-blank code."""
    values = codes.to_numpy()
    dup = (codes != "").to_numpy() & codes.duplicated(keep="first").to_numpy()
    first = {c: i for i, c in reversed(list(enumerate(values)))}
    return [(int(i), first[values[i]]) for i in np.flatnonzero(dup)]


def _check_coordinates(
    geoms: gpd.GeoSeries, ids: list[str], report: ImportReport
) -> np.ndarray:
    """Report records with swapped or impossible coordinates; returns their mask."""
    swapped = swapped_latlon(geoms)
    bad = out_of_range(geoms) & ~swapped
    bounds = shapely.bounds(geoms.to_numpy())
    for i in np.flatnonzero(swapped | bad):
        code = "latlon_swapped" if swapped[i] else "coordinate_out_of_range"
        report.add(
            ids[i],
            code,
            x=round(float(bounds[i, 0]), 6),
            y=round(float(bounds[i, 1]), 6),
        )
    return swapped | bad


def _attrs(frame: pd.DataFrame, used: set[str]) -> list[dict[str, Any]]:
    """The columns geogrid does not model, kept per record as JSON-safe values."""
    extra = [c for c in frame.columns if c not in used and c != frame.geometry.name]
    if not extra:
        return [{} for _ in range(len(frame))]
    table = frame[extra].astype(object)
    table = table.where(table.notna(), None)
    records: list[dict[str, Any]] = table.to_dict("records")
    return [{k: _json_value(v) for k, v in r.items() if v is not None} for r in records]


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.isoformat()
    return value


def _numbers(
    frame: pd.DataFrame,
    field: str,
    ids: list[str],
    report: ImportReport,
    *,
    integer: bool,
) -> pd.Series:
    """A numeric column; a non-blank value that is not a number is reported."""
    if field not in frame.columns:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    text = _text(frame, field)
    values = pd.to_numeric(text.where(text != ""), errors="coerce")
    bad = (text != "") & (values.isna() | (values < 0))
    if integer:
        bad |= values.notna() & (values != values.round())
    for i in np.flatnonzero(bad.to_numpy()):
        report.add(ids[i], "value_invalid", field=field, value=text.iloc[i])
    return pd.Series(
        [None if pd.isna(v) else (int(v) if integer else float(v)) for v in values],
        index=frame.index,
        dtype=object,
    )


def _new_batch(kind: str, path: Path, crs_label: str, n: int) -> ImportBatch:
    return ImportBatch(
        kind=kind,
        source=str(path),
        source_crs=crs_label,
        n_records=n,
        created_at=utcnow(),
    )


# --------------------------------------------------------------------- areas


def import_boundaries(
    bind: Bind,
    path: Path,
    *,
    level: AreaLevel,
    options: ImportOptions,
    tolerance_m: float,
) -> ImportReport:
    """Import one level of area boundaries (区域边界) as a new generation.

    A file replaces the children of every parent it touches: changed areas
    get a new generation, removed ones are ended (valid_to), unchanged ones
    are kept as they are, and every old generation stays queryable by date.

    Raises:
        ImportRejected: any record has an error; nothing was written.
    """
    report = ImportReport(kind=level.value, source=str(path))
    prep = _prepare(path, options, "polygon", report)
    names = _text(
        prep.frame, _find_field(prep.frame, options.name_field, required=True) or ""
    )
    if not options.is_free_codes:
        for i, code in enumerate(prep.codes):
            if code and (problem := code_problem(code, level)):
                report.add(prep.ids[i], "code_invalid", code=code, reason=problem)
    given = (
        _text(
            prep.frame,
            _find_field(prep.frame, options.parent_field, required=True) or "",
        )
        if options.parent_field
        else pd.Series([""] * len(prep.frame))
    )
    now = options.valid_from or utcnow()
    with session_scope(bind) as session:
        parents = _resolve_parents(session, prep, level, given, report, tolerance_m)
        _check_codes_free(session, prep, level, report)
        if not report.is_ok:
            raise ImportRejected(report)
        used = {options.code_field, options.name_field, options.parent_field or ""}
        batch = _new_batch(level.value, path, prep.crs_label, len(prep.frame))
        session.add(batch)
        session.flush()
        rows = [
            {
                "code": code,
                "name": name,
                "level": level.value,
                "parent_code": parent,
                "valid_from": now,
                "attrs": attrs,
                "batch_id": batch.id,
            }
            for code, name, parent, attrs in zip(
                prep.codes, names, parents, _attrs(prep.frame, used), strict=True
            )
        ]
        report.counts = _write_generation(session, level, rows, prep.geoms, now)
        report.n_written = report.counts["inserted"]
    return report


def _resolve_parents(
    session: Any,
    prep: _Prepared,
    level: AreaLevel,
    given: pd.Series,
    report: ImportReport,
    tolerance_m: float,
) -> list[str | None]:
    """Each record's parent: the given code, else one derived from the NBS code, else by location."""
    parent_level = level.parent
    n = len(prep.codes)
    if parent_level is None:
        return [None] * n
    parents = area_store.areas_frame(session, level=parent_level.value)
    known = set(parents["code"])
    derived = [parent_code_of(c, level) if c else None for c in prep.codes]
    located = _locate(prep.geoms, parents) if len(parents) else [None] * n
    result: list[str | None] = []
    for i in range(n):
        if given.iloc[i]:
            parent = given.iloc[i]
            if parent not in known:
                report.add(
                    prep.ids[i],
                    "parent_unknown",
                    parent_code=parent,
                    parent_level=level_name(parent_level.value),
                )
        elif derived[i] in known:
            parent = derived[i]
        elif located[i] is not None:
            parent = located[i]
        elif known and prep.geoms.iloc[i] is not None:
            parent = None
            report.add(
                prep.ids[i],
                "parent_not_found",
                level=level_name(level.value),
                parent_level=level_name(parent_level.value),
            )
        else:
            parent = None
        result.append(parent)
    _check_inside(prep, parents, result, report, tolerance_m)
    return result


def _locate(geoms: gpd.GeoSeries, parents: gpd.GeoDataFrame) -> list[str | None]:
    """The parent holding each geometry's point-on-surface, vectorised with an STRtree."""
    arr = geoms.to_numpy()
    mask = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    out: list[str | None] = [None] * len(geoms)
    if not mask.any():
        return out
    inner = shapely.point_on_surface(arr[mask])
    tree = shapely.STRtree(parents.geometry.to_numpy())
    src, dst = tree.query(inner, predicate="within")
    index = np.flatnonzero(mask)
    codes = parents["code"].to_numpy()
    # On a shared edge a point may fall in two parents: the smallest code wins,
    # so the same file always gives the same tree.
    for s, d in sorted(zip(src, dst, strict=True), key=lambda p: (p[0], codes[p[1]])):
        out[index[s]] = out[index[s]] or codes[d]
    return out


def _check_inside(
    prep: _Prepared,
    parents: gpd.GeoDataFrame,
    parent_codes: list[str | None],
    report: ImportReport,
    tolerance_m: float,
) -> None:
    """Report children reaching outside their parent by more than the tolerance."""
    by_code = dict(zip(parents["code"], parents.geometry, strict=True))
    rows = [
        i
        for i, p in enumerate(parent_codes)
        if p in by_code and prep.geoms.iloc[i] is not None
    ]
    if not rows:
        return
    children = gpd.GeoSeries([prep.geoms.iloc[i] for i in rows], crs=prep.geoms.crs)
    metric = local_crs(children)
    children_m = children.to_crs(metric)
    mothers_m = gpd.GeoSeries(
        [by_code[parent_codes[i]] for i in rows], crs=prep.geoms.crs
    ).to_crs(metric)
    outside = shapely.difference(
        children_m.to_numpy(), shapely.buffer(mothers_m.to_numpy(), tolerance_m)
    )
    outside_m2 = shapely.area(outside)
    total_m2 = shapely.area(children_m.to_numpy())
    for k in np.flatnonzero(outside_m2 > 1.0):
        i = rows[k]
        report.add(
            prep.ids[i],
            "outside_parent",
            parent_code=parent_codes[i],
            outside_m2=round(float(outside_m2[k]), 1),
            outside_pct=round(100 * float(outside_m2[k] / total_m2[k]), 2),
            tolerance_m=tolerance_m,
        )


def _check_codes_free(
    session: Any, prep: _Prepared, level: AreaLevel, report: ImportReport
) -> None:
    """A code may name one area only: report codes held by another level."""
    taken = area_store.areas_frame(session, codes=[c for c in prep.codes if c])
    taken = taken[taken["level"] != level.value]
    owners = dict(
        zip(taken["code"], zip(taken["level"], taken["name"], strict=True), strict=True)
    )
    for i, code in enumerate(prep.codes):
        if code in owners:
            other_level, other_name = owners[code]
            report.add(
                prep.ids[i],
                "code_taken",
                code=code,
                other_level=level_name(other_level),
                other_name=other_name,
            )


def _write_generation(
    session: Any,
    level: AreaLevel,
    rows: list[dict[str, Any]],
    geoms: gpd.GeoSeries,
    now: datetime,
) -> dict[str, int]:
    """End what changed or disappeared, insert what is new or changed, keep the rest."""
    touched = {r["parent_code"] for r in rows}
    codes = [r["code"] for r in rows]
    current = pd.concat(
        [
            area_store.areas_frame(session, level=level.value, codes=codes),
            area_store.areas_frame(session, level=level.value, parent_codes=touched),
        ]
    ).drop_duplicates("id")
    old = {row.code: row for row in current.itertuples()}
    keep, insert_rows, insert_geoms = set(), [], []
    for row, geom in zip(rows, geoms, strict=True):
        prev = old.get(row["code"])
        if prev is not None and _same_area(prev, row, geom):
            keep.add(row["code"])
            continue
        insert_rows.append(row)
        insert_geoms.append(geom)
    ended = [int(r.id) for r in old.values() if r.code not in keep]
    area_store.end_areas(session, ended, now)
    area_store.add_areas(session, insert_rows, insert_geoms)
    file_codes = set(codes)
    return {
        "inserted": len(insert_rows),
        "unchanged": len(keep),
        "replaced": sum(
            1 for r in old.values() if r.code not in keep and r.code in file_codes
        ),
        "ended": sum(1 for r in old.values() if r.code not in file_codes),
    }


def _same_area(prev: Any, row: dict[str, Any], geom: shapely.Geometry) -> bool:
    return bool(
        prev.name == row["name"]
        and prev.parent_code == row["parent_code"]
        and prev.attrs == row["attrs"]
        and shapely.equals_exact(
            shapely.normalize(prev.geometry), shapely.normalize(geom), 1e-9
        )
    )


# ------------------------------------------------------------------ features


@dataclass(frozen=True)
class _Layer:
    kind: GeometryKind
    is_geometry_optional: bool  # an address may be known by its text alone
    text: tuple[str, ...]  # text columns: model column -> file column of the same name
    integers: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()


LAYERS: dict[str, _Layer] = {
    "buildings": _Layer(
        "polygon",
        False,
        ("name", "number", "estate"),
        ("floors", "households", "residents"),
    ),
    "lanes": _Layer("line", False, ("name",)),
    "addresses": _Layer("point", True, ()),
    "centres": _Layer("point", False, ("name", "kind"), numbers=("radius_m",)),
}


def import_features(
    bind: Bind, path: Path, *, layer: str, options: ImportOptions
) -> ImportReport:
    """Import buildings (楼栋), lanes (弄巷), addresses (地址) or service centres (服务中心).

    Records whose code is already stored are replaced; the rest are added.

    Raises:
        ImportRejected: any record has an error; nothing was written.
    """
    spec = LAYERS[layer]
    report = ImportReport(kind=layer, source=str(path))
    prep = _prepare(
        path, options, spec.kind, report, is_geometry_optional=spec.is_geometry_optional
    )
    frame = prep.frame
    columns: dict[str, Any] = {"code": prep.codes}
    used = {options.code_field}
    for name in spec.text:
        field = options.name_field if name == "name" else name
        found = _find_field(frame, field, required=False)
        columns[name] = _text(frame, found) if found else pd.Series([""] * len(frame))
        used.add(found or "")
    for name in spec.integers + spec.numbers:
        columns[name] = _numbers(
            frame, name, prep.ids, report, integer=name in spec.integers
        )
        used.add(name)
    if layer == "addresses":
        columns["text"], columns["original_text"] = _address_text(frame, options, used)
    if layer == "centres":
        for i in np.flatnonzero(columns["radius_m"].isna().to_numpy()):
            report.add(prep.ids[i], "value_invalid", field="radius_m", value="")
    if layer == "buildings":
        for name in ("households", "residents"):
            columns[name] = columns[name].map(lambda v: 0 if v is None else v)
    columns["attrs"] = _attrs(frame, used)
    if not report.is_ok:
        raise ImportRejected(report)
    with session_scope(bind) as session:
        batch = _new_batch(layer, path, prep.crs_label, len(frame))
        session.add(batch)
        session.flush()
        columns["batch_id"] = [batch.id] * len(frame)
        rows = pd.DataFrame(columns).to_dict("records")
        replaced = feature_store.replace_features(
            session, layer, rows, prep.geoms.to_numpy()
        )
    report.n_written = len(rows)
    report.counts = {"inserted": len(rows) - replaced, "replaced": replaced}
    return report


def _address_text(
    frame: pd.DataFrame, options: ImportOptions, used: set[str]
) -> tuple[pd.Series, pd.Series]:
    """Address text from one column, or several joined (``addr_street,addr_housenumber``)."""
    fields = [f.strip() for f in options.text_field.split(",") if f.strip()]
    parts = []
    for field in fields:
        found = _find_field(frame, field, required=True)
        assert found is not None
        used.add(found)
        parts.append(_text(frame, found))
    original = parts[0]
    for part in parts[1:]:
        original = original + part
    return original.str.replace(r"\s+", "", regex=True), original
