"""Boundary imports (区域边界导入): one level of the area tree as a new generation.

Redraws are the normal case, not the exception: a file replaces the children
of every parent it touches, and every earlier generation stays queryable by
date (mySociety MapIt's generations, kept as valid_from/valid_to).
"""

from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from geogrid.domain.codes import AreaLevel
from geogrid.errors import ImportRejected, InvalidInput
from geogrid.io.readers import text_column
from geogrid.io.report import ImportReport
from geogrid.services.assignment import AssignOptions, has_links, reassign_region
from geogrid.services.import_checks import (
    check_area_codes,
    check_codes_free,
    check_lengths,
    pad_parent_codes,
    resolve_parents,
)
from geogrid.services.imports import (
    ImportOptions,
    extra_attrs,
    find_field,
    prepare_file,
)
from geogrid.store import areas as area_store
from geogrid.store.batches import record_batch, utcnow
from geogrid.store.engine import Bind, session_scope
from geogrid.store.models import Area


def import_boundaries(
    bind: Bind,
    path: Path,
    *,
    level: AreaLevel,
    options: ImportOptions,
    tolerance_m: float,
    assign: AssignOptions | None = None,
) -> ImportReport:
    """Import one level of area boundaries (区域边界) as a new generation.

    A file replaces the children of every parent it touches: changed areas
    get a new generation, removed ones are ended (valid_to), unchanged ones
    are kept as they are, and every old generation stays queryable by date.
    Once links have been computed, a redraw of grids or estates recomputes
    the links it can reach, with ``assign`` (default rules when None).

    Raises:
        ImportRejected: any record has an error; nothing was written.
        InvalidInput: ``areas_would_end`` when the file leaves out current
            areas of a parent it touches and ``options.is_replace`` is off.
    """
    report = ImportReport(kind=level.value, source=str(path))
    prep = prepare_file(path, options, "polygon", report)
    name_col = find_field(prep.frame, options.name_field, required=True) or ""
    names = text_column(prep.frame, name_col)
    if not options.is_free_codes:
        prep.codes = check_area_codes(prep.codes, prep.ids, level, report)
    given = (
        text_column(
            prep.frame,
            find_field(prep.frame, options.parent_field, required=True) or "",
        )
        if options.parent_field
        else pd.Series([""] * len(prep.frame))
    )
    if not options.is_free_codes:
        given = pad_parent_codes(given)
    check_lengths(
        {"code": prep.codes, "name": names, "parent_code": given},
        Area,
        prep.ids,
        report,
        fields={
            "code": options.code_field,
            "name": name_col,
            "parent_code": options.parent_field or "parent_code",
        },
    )
    now = options.valid_from or utcnow()
    with session_scope(bind) as session:
        parents = resolve_parents(session, prep, level, given, report, tolerance_m)
        check_codes_free(session, prep, level, report)
        keep = (
            report.skip_invalid(prep.ids)
            if options.is_skip_invalid
            else np.ones(len(prep.codes), dtype=bool)
        )
        if not report.is_ok:
            raise ImportRejected(report)
        used = {options.code_field, options.name_field, options.parent_field or ""}
        batch_id = record_batch(
            session,
            level.value,
            str(path),
            crs=prep.crs_label,
            n=len(prep.frame),
            actor=options.author,
        )
        rows = [
            {
                "code": code,
                "name": name,
                "level": level.value,
                "parent_code": parent,
                "valid_from": now,
                "attrs": attrs,
                "batch_id": batch_id,
            }
            for code, name, parent, attrs, kept in zip(
                prep.codes,
                names,
                parents,
                extra_attrs(prep.frame, used),
                keep,
                strict=True,
            )
            if kept
        ]
        # A skipped record's current area stays as it is, not ended.
        spare = {c for c, kept in zip(prep.codes, keep, strict=True) if not kept}
        report.counts = write_generation(
            session,
            level,
            rows,
            prep.geoms[keep],
            now,
            assign or AssignOptions(),
            allow_end=options.is_replace,
            spare=spare,
            keep_others=options.is_keep,
        )
        if options.is_skip_invalid:
            report.counts["skipped"] = int((~keep).sum())
        report.n_written = report.counts["inserted"]
    return report


def write_generation(
    session: Session,
    level: AreaLevel,
    rows: list[dict[str, Any]],
    geoms: gpd.GeoSeries,
    now: datetime,
    assign: AssignOptions,
    *,
    parents: set[str] | None = None,
    allow_end: bool = True,
    spare: set[str] | None = None,
    keep_others: bool = False,
) -> dict[str, int]:
    """End what changed or disappeared, insert what is new or changed, keep the rest.

    ``rows`` replace the children of every parent they name, and of
    ``parents`` too (a plan may empty a community of its old grids); areas
    coded in ``spare`` are left alone, as is every area not in ``rows`` with
    ``keep_others`` (a file adding one street to a district).

    Raises:
        InvalidInput: ``areas_would_end`` when ``allow_end`` is off and some
            current area would end without being in ``rows``: a file holding
            one folder of a KML, or one part of a generation, would otherwise
            silently end the rest (issue 12).
    """
    file_codes = {r["code"] for r in rows}
    old = _current_to_replace(
        session, level, rows, parents or set(), spare or set(), keep_others=keep_others
    )
    if not allow_end:
        _refuse_ending(level, [code for code in old if code not in file_codes])
    keep = _unchanged(rows, geoms, old)
    fresh = [i for i, row in enumerate(rows) if row["code"] not in keep]
    going = [r for code, r in old.items() if code not in keep]
    _refuse_ending_before_start(going, now)
    area_store.end_areas(session, [int(r.id) for r in going], now)
    new_geoms = [geoms.iloc[i] for i in fresh]
    area_store.add_areas(session, [rows[i] for i in fresh], new_geoms)
    if level in (AreaLevel.GRID, AreaLevel.ESTATE) and (going or fresh):
        changed = [r.geometry for r in going] + new_geoms
        _keep_links_current(session, shapely.bounds(changed).tolist(), assign)
    replaced = sum(1 for r in going if r.code in file_codes)
    return {
        "inserted": len(fresh),
        "unchanged": len(keep),
        "replaced": replaced,
        "ended": len(going) - replaced,  # kept codes are all in the file
    }


def _current_to_replace(
    session: Session,
    level: AreaLevel,
    rows: list[dict[str, Any]],
    parents: set[str],
    spare: set[str],
    *,
    keep_others: bool,
) -> dict[str, Any]:
    """The current areas a generation replaces, by code: its codes and its parents' children."""
    codes = [r["code"] for r in rows]
    touched = {r["parent_code"] for r in rows} | parents
    current = pd.concat(
        [
            area_store.areas_frame(session, level=level.value, codes=codes),
            area_store.areas_frame(session, level=level.value, parent_codes=touched),
        ]
    ).drop_duplicates("id")
    if keep_others:  # only add and update: what the file leaves out stays
        spare = spare | (set(current["code"]) - set(codes))
    return {row.code: row for row in current.itertuples() if row.code not in spare}


def _unchanged(
    rows: list[dict[str, Any]], geoms: gpd.GeoSeries, old: dict[str, Any]
) -> set[str]:
    """The codes whose new record is the current area again: kept, not replaced."""
    return {
        row["code"]
        for row, geom in zip(rows, geoms, strict=True)
        if row["code"] in old and _same_area(old[row["code"]], row, geom)
    }


def _refuse_ending(level: AreaLevel, vanishing: list[str]) -> None:
    if vanishing:
        shown = sorted(vanishing)
        raise InvalidInput(
            "areas_would_end",
            n=len(shown),
            codes=", ".join(shown[:10]) + (" …" if len(shown) > 10 else ""),
            level=level.value,
        )


def _refuse_ending_before_start(going: list[Any], now: datetime) -> None:
    # History must stay a sequence: a generation cannot end before it began.
    too_early = sorted(str(r.code) for r in going if r.valid_from >= now)
    if too_early:
        raise InvalidInput(
            "valid_from_too_early",
            valid_from=now.isoformat(),
            codes="、".join(too_early[:5]),
        )


def _keep_links_current(
    session: Session, boxes: list[list[float]], options: AssignOptions
) -> None:
    """After a redraw, recompute the building and address links the change can reach."""
    if has_links(session):
        reassign_region(session, boxes, options)


def _same_area(prev: Any, row: dict[str, Any], geom: BaseGeometry) -> bool:
    return bool(
        prev.name == row["name"]
        and prev.parent_code == row["parent_code"]
        and prev.attrs == row["attrs"]
        and shapely.equals_exact(
            shapely.normalize(prev.geometry), shapely.normalize(geom), 1e-9
        )
    )
