"""Import use cases (导入): read a file, check every record, write all or nothing.

Boundaries live in :mod:`geogrid.services.boundaries` and the record checks
in :mod:`geogrid.services.import_checks`; this module reads a file the way
every import does and imports the feature layers (buildings, lanes,
addresses, service centres).

Every import follows the same order: read → CRS → coordinate sanity →
geometry validation → attribute and tree checks → one transaction. Checks
collect every problem before anything is written, so the report lists all
bad records and a rejected import leaves the database as it was.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from geogrid.domain.layers import LAYERS
from geogrid.errors import ImportRejected, InvalidInput
from geogrid.io.dxf import LABELS_UNPLACED
from geogrid.io.readers import (
    ENCODING_GUESSED,
    MALFORMED_GEOMETRIES,
    UNCLOSED_RINGS,
    read_features,
    text_column,
)
from geogrid.io.report import FILE_RECORD, ImportReport
from geogrid.io.validation import (
    GeometryKind,
    validate_buildings,
    validate_geometries,
)
from geogrid.services.assignment import AssignOptions, has_links, reassign_region
from geogrid.services.import_checks import (
    PreparedFile,
    check_codes,
    check_coordinates,
    check_lengths,
    check_radius,
    numbers,
)
from geogrid.spatial.crs import crs_spec_of, parse_crs, to_storage
from geogrid.store import layers as layer_store
from geogrid.store.batches import record_batch
from geogrid.store.engine import Bind, session_scope


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
    is_replace: bool = False
    """A boundary file may end current areas it does not mention."""
    author: str | None = None
    """Who imports the file, for the audit log (the CLI's user); None: not audited."""
    is_keep: bool = False
    """A boundary file only adds and updates: current areas it leaves out stay."""
    is_skip_invalid: bool = False
    """Write the valid records and list the skipped ones, instead of all or nothing."""
    is_swap_xy: bool = False
    """The file holds latitude, longitude: swap x and y before anything else."""


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


# Column names that usually hold an area's or a feature's id (编码/代码).
_CODE_HINTS = ("code", "adcode", "id", "编码", "代码", "bm", "dm", "gb", "name")
_CODE_VALUE = r"^[0-9A-Za-z][0-9A-Za-z_.\-]*$"


def code_candidates(frame: pd.DataFrame, limit: int = 5) -> list[str]:
    """Columns likely to hold the codes: code-like names first, then unique code-like values."""
    columns = [str(c) for c in frame.columns if c != frame.geometry.name]
    named = [c for c in columns if any(h in c.lower() for h in _CODE_HINTS)]
    unique = []
    for c in columns:
        values = text_column(frame, c)
        filled = values[values != ""]
        if (
            len(filled) == len(values)
            and filled.is_unique
            and filled.str.match(_CODE_VALUE).all()
        ):
            unique.append(c)
    ranked = [c for c in named if c in unique] + named + unique
    return list(dict.fromkeys(ranked))[:limit]


def _code_column(frame: pd.DataFrame, name: str) -> str:
    found = find_field(frame, name, required=False)
    if found is not None:
        return found
    available = ", ".join(str(c) for c in frame.columns if c != frame.geometry.name)
    candidates = code_candidates(frame)
    raise InvalidInput(
        "code_field_missing",
        field=name,
        candidates=", ".join(candidates) or available,
        example=candidates[0] if candidates else "COLUMN",
        available=available,
    )


def prepare_file(
    path: Path,
    options: ImportOptions,
    kind: GeometryKind | Literal["building"],
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
    if guessed := frame.attrs.get(ENCODING_GUESSED):
        report.add(
            FILE_RECORD, "encoding_guessed", severity="warning", encoding=guessed
        )
    if unplaced := frame.attrs.get(LABELS_UNPLACED):
        report.add(FILE_RECORD, "dxf_labels_unplaced", severity="warning", n=unplaced)
    if options.crs:
        spec = parse_crs(options.crs)
    elif frame.crs is not None:
        spec = crs_spec_of(frame.crs)
    elif path.suffix.lower() == ".dxf":
        raise InvalidInput("crs_missing_dxf", path=str(path))
    else:
        raise InvalidInput("crs_missing", path=str(path))

    codes = text_column(frame, _code_column(frame, options.code_field))
    ids = [c or f"#{i + 1}" for i, c in enumerate(codes)]
    check_codes(codes, ids, report)

    source = frame.geometry
    if options.is_swap_xy:
        source = gpd.GeoSeries(
            shapely.transform(source.to_numpy(), lambda xy: xy[:, ::-1]),
            index=source.index,
            crs=source.crs,
        )
    geoms = to_storage(source, spec)
    misplaced = check_coordinates(geoms, ids, report)
    validate = (
        validate_buildings
        if kind == "building"
        else partial(validate_geometries, kind=kind)
    )
    geoms, problems = validate(
        geoms,
        ids,
        repair=options.repair,
        unclosed=frame.attrs.get(UNCLOSED_RINGS, ()),
        malformed=frame.attrs.get(MALFORMED_GEOMETRIES, ()),
    )
    points = int((shapely.get_type_id(geoms.to_numpy()) == 0).sum())
    if kind == "building" and points:
        # Offices often hold a 楼栋 list with coordinates only: accepted, but
        # a point cannot be split by a grid edge, so splits go unseen.
        report.add(FILE_RECORD, "buildings_as_points", severity="warning", n=points)
    if is_geometry_optional:
        problems = [p for p in problems if p.code != "geometry_missing"]
    report.extend(problems)
    # Later checks (parents, containment) cannot judge a misplaced record.
    geoms = geoms.where(~misplaced, None)
    return PreparedFile(frame, codes, ids, geoms, spec.label)


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
        path,
        options,
        spec.geometry,
        report,
        is_geometry_optional=spec.is_geometry_optional,
    )
    frame = prep.frame
    columns: dict[str, Any] = {"code": prep.codes}
    used = {options.code_field}
    sources: dict[str, str] = {"code": options.code_field}
    for name in spec.text:
        field = options.name_field if name == "name" else name
        found = find_field(frame, field, required=False)
        sources[name] = found or field
        columns[name] = (
            text_column(frame, found) if found else pd.Series([""] * len(frame))
        )
        used.add(found or "")
    for name in spec.integers + spec.numbers:
        columns[name] = numbers(
            frame, name, prep.ids, report, integer=name in spec.integers
        )
        used.add(name)
    if layer == "addresses":
        columns["text"], columns["original_text"] = _address_text(frame, options, used)
    if layer == "centres":
        check_radius(columns["radius_m"], prep.ids, report)
    if layer == "buildings":
        for name in ("households", "residents"):
            columns[name] = columns[name].map(lambda v: 0 if v is None else v)
    columns["attrs"] = extra_attrs(frame, used)
    check_lengths(
        columns, layer_store.FEATURE_MODELS[layer], prep.ids, report, fields=sources
    )
    keep = (
        report.skip_invalid(prep.ids)
        if options.is_skip_invalid
        else np.ones(len(frame), dtype=bool)
    )
    if not report.is_ok:
        raise ImportRejected(report)
    table = pd.DataFrame(
        {k: v.to_numpy() if isinstance(v, pd.Series) else v for k, v in columns.items()}
    )[keep]
    geoms = prep.geoms[keep]
    with session_scope(bind) as session:
        batch_id = record_batch(
            session,
            layer,
            str(path),
            crs=prep.crs_label,
            n=len(table),
            actor=options.author,
        )
        table["batch_id"] = batch_id
        replaced = layer_store.replace_features(session, layer, table, geoms.to_numpy())
        located = geoms.dropna()
        if (
            layer in ("buildings", "addresses")
            and not located.empty
            and has_links(session)
        ):
            reassign_region(
                session,
                located.geometry.bounds.to_numpy().tolist(),
                assign or AssignOptions(),
            )
    report.n_written = len(table)
    report.counts = {"inserted": len(table) - replaced, "replaced": replaced}
    if options.is_skip_invalid:
        report.counts["skipped"] = int((~keep).sum())
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
