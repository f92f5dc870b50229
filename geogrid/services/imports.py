"""Import use cases (导入): read a file, check every record, write all or nothing.

Boundaries live in :mod:`geogrid.services.boundaries`; this module holds the
steps every import shares and the feature layers (buildings, lanes, addresses,
service centres).

Every import follows the same order: read → CRS → coordinate sanity →
geometry validation → attribute and tree checks → one transaction. Checks
collect every problem before anything is written, so the report lists all
bad records and a rejected import leaves the database as it was.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from geogrid.errors import ImportRejected, InvalidInput
from geogrid.io.readers import MALFORMED_GEOMETRIES, UNCLOSED_RINGS, read_features
from geogrid.io.report import ImportReport
from geogrid.io.validation import GeometryKind, validate_geometries
from geogrid.services.assignment import AssignOptions, has_links, reassign_region
from geogrid.spatial.crs import (
    crs_spec_of,
    out_of_range,
    parse_crs,
    swapped_latlon,
    to_storage,
)
from geogrid.store import features as feature_store
from geogrid.store.batches import record_batch
from geogrid.store.engine import Bind, session_scope
from geogrid.store.models import Base, text_limits


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
class PreparedFile:
    """A file read, converted to storage CRS and checked record by record."""

    frame: gpd.GeoDataFrame
    codes: pd.Series
    ids: list[str]
    geoms: gpd.GeoSeries
    crs_label: str


def text_column(frame: pd.DataFrame, field: str) -> pd.Series:
    """A column as stripped text, blanks for missing values."""
    col = frame[field]
    return col.where(col.notna(), "").astype(str).str.strip()


def find_field(frame: pd.DataFrame, name: str, *, required: bool) -> str | None:
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


def prepare_file(
    path: Path,
    options: ImportOptions,
    kind: GeometryKind,
    report: ImportReport,
    *,
    is_geometry_optional: bool = False,
) -> PreparedFile:
    """Read ``path`` and run the checks every import shares, adding problems to ``report``."""
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

    code_col = find_field(frame, options.code_field, required=True)
    assert code_col is not None
    codes = text_column(frame, code_col)
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
    return PreparedFile(frame, codes, ids, geoms, spec.label)


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


def extra_attrs(frame: pd.DataFrame, used: set[str]) -> list[dict[str, Any]]:
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
    text = text_column(frame, field)
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


def check_lengths(
    columns: Mapping[str, Any], model: type[Base], ids: list[str], report: ImportReport
) -> None:
    """Report text longer than its column holds, before the database refuses it."""
    for field, limit in text_limits(model).items():
        if field not in columns:
            continue
        lengths = (
            pd.Series(columns[field], dtype=object).fillna("").astype(str).str.len()
        )
        for i in np.flatnonzero((lengths > limit).to_numpy()):
            report.add(
                ids[i],
                "value_too_long",
                field=field,
                limit=limit,
                length=int(lengths.iat[i]),
            )


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
    bind: Bind,
    path: Path,
    *,
    layer: str,
    options: ImportOptions,
    assign: AssignOptions | None = None,
) -> ImportReport:
    """Import buildings (楼栋), lanes (弄巷), addresses (地址) or service centres (服务中心).

    Records whose code is already stored are replaced; the rest are added.
    Once links have been computed, new buildings and addresses are linked in
    the same transaction (with ``assign``, default rules when None), so no
    address is left without its grid between an import and the next run.

    Raises:
        ImportRejected: any record has an error; nothing was written.
    """
    spec = LAYERS[layer]
    report = ImportReport(kind=layer, source=str(path))
    prep = prepare_file(
        path, options, spec.kind, report, is_geometry_optional=spec.is_geometry_optional
    )
    frame = prep.frame
    columns: dict[str, Any] = {"code": prep.codes}
    used = {options.code_field}
    for name in spec.text:
        field = options.name_field if name == "name" else name
        found = find_field(frame, field, required=False)
        columns[name] = (
            text_column(frame, found) if found else pd.Series([""] * len(frame))
        )
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
    columns["attrs"] = extra_attrs(frame, used)
    check_lengths(columns, feature_store.FEATURE_MODELS[layer], prep.ids, report)
    if not report.is_ok:
        raise ImportRejected(report)
    with session_scope(bind) as session:
        batch_id = record_batch(
            session, layer, str(path), crs=prep.crs_label, n=len(frame)
        )
        columns["batch_id"] = [batch_id] * len(frame)
        rows = pd.DataFrame(columns).to_dict("records")
        replaced = feature_store.replace_features(
            session, layer, rows, prep.geoms.to_numpy()
        )
        located = prep.geoms.dropna()
        if (
            layer in ("buildings", "addresses")
            and not located.empty
            and has_links(session)
        ):
            reassign_region(
                session, shapely.box(*located.total_bounds), assign or AssignOptions()
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
        found = find_field(frame, field, required=True)
        assert found is not None
        used.add(found)
        parts.append(text_column(frame, found))
    original = parts[0]
    for part in parts[1:]:
        original = original + part
    return original.str.replace(r"\s+", "", regex=True), original
