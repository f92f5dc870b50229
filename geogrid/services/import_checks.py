"""Record checks of every import (导入检查): codes, coordinates, values, the area tree.

One home for what an import checks record by record, so a rule is changed
once: the geometry checks (validity, repair, orientation) sit below in
:mod:`geogrid.io.validation`, the checks of people files with their scheme
in :mod:`geogrid.services.people`. Every check adds its problems to the
import's report and writes nothing; the import decides afterwards.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

import geopandas as gpd
import shapely

from geogrid.domain.codes import NBS_LENGTHS, AreaLevel, code_problem, parent_code_of
from geogrid.io.readers import text_column
from geogrid.io.report import FILE_RECORD, ImportReport
from geogrid.spatial.crs import local_crs, out_of_range, swapped_latlon
from geogrid.store import areas as area_store
from geogrid.store.models import Base, text_limits


@dataclass
class PreparedFile:
    """A file read, converted to storage CRS and checked record by record."""

    frame: gpd.GeoDataFrame
    codes: pd.Series
    ids: list[str]
    geoms: gpd.GeoSeries
    crs_label: str


def check_codes(codes: pd.Series, ids: list[str], report: ImportReport) -> None:
    """Every record needs a code, and a code names one record of the file."""
    for missing in np.flatnonzero((codes == "").to_numpy()).tolist():
        report.add(ids[missing], "code_missing")
    for i, other in _duplicates(codes):
        report.add(
            ids[i],
            "code_duplicate",
            row=int(i),
            code=codes.iloc[i],
            other=f"#{other + 1}",
        )


def _duplicates(codes: pd.Series) -> list[tuple[int, int]]:
    """(row, first row) for every repeat of a non-blank code."""
    values = codes.to_numpy()
    dup = (codes != "").to_numpy() & codes.duplicated(keep="first").to_numpy()
    first = {c: i for i, c in reversed(list(enumerate(values)))}
    return [(int(i), first[values[i]]) for i in np.flatnonzero(dup)]


def check_coordinates(
    geoms: gpd.GeoSeries, ids: list[str], report: ImportReport
) -> np.ndarray:
    """Report records with swapped or impossible coordinates; returns their mask.

    When every located record looks swapped, the file was written as lat,lon:
    one file-level problem says so and names ``--swap-xy``, instead of one
    identical row per record.
    """
    swapped = swapped_latlon(geoms)
    bad = out_of_range(geoms) & ~swapped
    bounds = shapely.bounds(geoms.to_numpy())
    arr = geoms.to_numpy()
    located = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    if swapped.any() and swapped[located].all():
        first = int(np.flatnonzero(swapped)[0])
        report.add(
            FILE_RECORD,
            "file_latlon_swapped",
            n=int(swapped.sum()),
            x=round(float(bounds[first, 0]), 6),
            y=round(float(bounds[first, 1]), 6),
        )
        return swapped | bad
    for i in np.flatnonzero(swapped | bad):
        code = "latlon_swapped" if swapped[i] else "coordinate_out_of_range"
        report.add(
            ids[i],
            code,
            x=round(float(bounds[i, 0]), 6),
            y=round(float(bounds[i, 1]), 6),
        )
    return swapped | bad


def numbers(
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
    columns: Mapping[str, Any],
    model: type[Base],
    ids: list[str],
    report: ImportReport,
    *,
    fields: Mapping[str, str] | None = None,
) -> None:
    """Report text longer than its column holds, before the database refuses it.

    ``fields`` names the file's column for each model column (``name`` may
    come from ``--name-field Name``), so the message names what the user sees.
    """
    for column, limit in text_limits(model).items():
        if column not in columns:
            continue
        field = (fields or {}).get(column, column)
        lengths = (
            pd.Series(columns[column], dtype=object).fillna("").astype(str).str.len()
        )
        for i in np.flatnonzero((lengths > limit).to_numpy()):
            report.add(
                ids[i],
                "value_too_long",
                field=field,
                limit=limit,
                length=int(lengths.iat[i]),
            )


def check_area_codes(
    codes: pd.Series, ids: list[str], level: AreaLevel, report: ImportReport
) -> pd.Series:
    """Area codes in the NBS form, short Amap codes padded: returns the codes to store."""
    codes, padded = pad_short_codes(codes, level)
    if padded:
        report.add(
            FILE_RECORD, "codes_padded", severity="warning", n=padded, level=level
        )
    for i, code in enumerate(codes):
        if code and (params := code_problem_params(code, level)):
            report.add(ids[i], "code_invalid", **params)  # type: ignore[arg-type]  # params are message fields only
    return codes


def check_radius(radius: pd.Series, ids: list[str], report: ImportReport) -> None:
    """A service centre (服务中心) serves a circle: its radius cannot be left out."""
    for i in np.flatnonzero(radius.isna().to_numpy()):
        report.add(ids[i], "radius_missing", field="radius_m")


# Amap (高德) and many city portals use the 6-digit county adcode and the
# 9-digit township code; the NBS form pads both to 12 digits with zeros
# (110105 → 110105000000, 110105001 → 110105001000). Only the lengths that are
# unambiguous for the level are padded.
_PADDABLE = {AreaLevel.DISTRICT: 6, AreaLevel.STREET: 9}


def pad_short_codes(codes: pd.Series, level: AreaLevel) -> tuple[pd.Series, int]:
    """Amap-style short codes padded to the 12-digit NBS form, and how many were."""
    short = _PADDABLE.get(level)
    if short is None:
        return codes, 0
    mask = codes.str.fullmatch(r"[0-9]+") & (codes.str.len() == short)
    return codes.where(~mask, codes.str.ljust(12, "0")), int(mask.sum())


def pad_parent_codes(codes: pd.Series) -> pd.Series:
    """Parent codes given as a 6-digit adcode or 9-digit township code, padded to 12."""
    mask = codes.str.fullmatch(r"[0-9]+") & codes.str.len().isin((6, 9))
    return codes.where(~mask, codes.str.ljust(12, "0"))


def code_problem_params(code: str, level: AreaLevel) -> dict[str, object] | None:
    """What is wrong with an area code, as message parameters in both languages."""
    problem = code_problem(code, level)
    if problem is None:
        return None
    if code.isdigit() and len(code) <= 40:
        want = " or ".join(str(n) for n in NBS_LENGTHS[level])
        hint = (
            " (a 6-digit county adcode such as Amap's pads to 12 only at district level,"
            " a 9-digit township code only at street level; --free-codes skips this rule)"
        )
        reason_en = (
            f"a {level.value} code has {want} digits, this one {len(code)}{hint}"
        )
        problem += (
            "（6 位区县代码如高德 adcode 仅在区县层级补齐为 12 位，"
            "9 位乡镇代码仅在街道层级补齐；非国标编码可加 --free-codes）"
        )
    else:
        reason_en = (
            "only letters, digits and - _ . are allowed, at most 40 characters"
            " (is this a name? pass the code column with --code-field)"
        )
        problem += "（这是名称吗？请用 --code-field 指定编码列）"
    return {"code": code, "reason": problem, "reason_en": reason_en}


def resolve_parents(
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


def check_codes_free(
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
