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

from geogrid.domain.codes import AreaLevel, parent_code_of
from geogrid.errors import ImportRejected, InvalidInput
from geogrid.io.report import FILE_RECORD, ImportReport
from geogrid.services.assignment import AssignOptions, has_links, reassign_region
from geogrid.services.imports import (
    ImportOptions,
    PreparedFile,
    check_lengths,
    code_problem_params,
    extra_attrs,
    find_field,
    pad_parent_codes,
    pad_short_codes,
    prepare_file,
    text_column,
)
from geogrid.spatial.crs import local_crs
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
        prep.codes, padded = pad_short_codes(prep.codes, level)
        if padded:
            report.add(
                FILE_RECORD, "codes_padded", severity="warning", n=padded, level=level
            )
        for i, code in enumerate(prep.codes):
            if code and (params := code_problem_params(code, level)):
                report.add(prep.ids[i], "code_invalid", **params)  # type: ignore[arg-type]  # params are message fields only
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
        parents = _resolve_parents(session, prep, level, given, report, tolerance_m)
        _check_codes_free(session, prep, level, report)
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


def _resolve_parents(
    session: Session,
    prep: PreparedFile,
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
                    parent_level=parent_level.value,
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
                level=level.value,
                parent_level=parent_level.value,
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
    prep: PreparedFile,
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
    session: Session, prep: PreparedFile, level: AreaLevel, report: ImportReport
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
                other_level=other_level,
                other_name=other_name,
            )


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
    touched = {r["parent_code"] for r in rows} | (parents or set())
    codes = [r["code"] for r in rows]
    current = pd.concat(
        [
            area_store.areas_frame(session, level=level.value, codes=codes),
            area_store.areas_frame(session, level=level.value, parent_codes=touched),
        ]
    ).drop_duplicates("id")
    file_codes = set(codes)
    if keep_others:  # only add and update: what the file leaves out stays
        spare = (spare or set()) | (set(current["code"]) - file_codes)
    old = {
        row.code: row for row in current.itertuples() if row.code not in (spare or ())
    }
    vanishing = sorted(str(r.code) for r in old.values() if r.code not in file_codes)
    if vanishing and not allow_end:
        raise InvalidInput(
            "areas_would_end",
            n=len(vanishing),
            codes=", ".join(vanishing[:10]) + (" …" if len(vanishing) > 10 else ""),
            level=level.value,
        )
    keep, insert_rows, insert_geoms = set(), [], []
    for row, geom in zip(rows, geoms, strict=True):
        prev = old.get(row["code"])
        if prev is not None and _same_area(prev, row, geom):
            keep.add(row["code"])
            continue
        insert_rows.append(row)
        insert_geoms.append(geom)
    ended = [int(r.id) for r in old.values() if r.code not in keep]
    too_early = [
        r.code for r in old.values() if r.code not in keep and r.valid_from >= now
    ]
    if too_early:
        # History must stay a sequence: a generation cannot end before it began.
        raise InvalidInput(
            "valid_from_too_early",
            valid_from=now.isoformat(),
            codes="、".join(sorted(too_early)[:5]),
        )
    area_store.end_areas(session, ended, now)
    area_store.add_areas(session, insert_rows, insert_geoms)
    if level in (AreaLevel.GRID, AreaLevel.ESTATE) and (ended or insert_rows):
        changed = [
            r.geometry for r in old.values() if r.code not in keep
        ] + insert_geoms
        _keep_links_current(session, shapely.bounds(changed).tolist(), assign)
    return {
        "inserted": len(insert_rows),
        "unchanged": len(keep),
        "replaced": sum(
            1 for r in old.values() if r.code not in keep and r.code in file_codes
        ),
        "ended": sum(1 for r in old.values() if r.code not in file_codes),
    }


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
