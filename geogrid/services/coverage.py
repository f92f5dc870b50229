"""The coverage check (覆盖检查): prove "全覆盖、无死角", or list exactly what is missing and where.

Everything is computed from the stored geometry and people in one pass, not
from stored links, so the proof cannot inherit a stale assignment. Each run
can be stored as a report; findings keep a key across runs so a community's
progress shows as fixed and new, and planners' accepted exceptions hold
until the geometry of their finding changes.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from geogrid.config import Settings
from geogrid.domain.answers import CoverageSummary, ServiceShare
from geogrid.domain.findings import RULES
from geogrid.errors import NotFound
from geogrid.services.assignment import assign_options
from geogrid.services.coverage_rules import CheckOptions, compute_findings
from geogrid.services.people import active_scheme
from geogrid.spatial.coverage import (
    CoverageOptions,
)
from geogrid.spatial.crs import STORAGE_CRS, grown_bounds, local_crs
from geogrid.spatial.geojson import rfc3339
from geogrid.store import accounts as account_store
from geogrid.store import areas as area_store
from geogrid.store import coverage as coverage_store
from geogrid.store import layers as layer_store
from geogrid.store import links as link_store
from geogrid.store import people as people_store
from geogrid.store.batches import data_version, record_batch, utcnow
from geogrid.store.engine import Bind, session_scope


def check_options(settings: Settings) -> CheckOptions:
    """The check a deployment configured."""
    return CheckOptions(
        coverage=CoverageOptions(
            sliver_area_m2=settings.sliver_area_m2,
            sliver_width_m=settings.sliver_width_m,
            outside_tolerance_m=settings.containment_tolerance_m,
        ),
        assign=assign_options(settings),
        band=(settings.grid_households_min, settings.grid_households_max),
        community_max=settings.community_households_max,
        radii_m=dict(settings.service_radii_m),
        max_targets=settings.person_max_targets,
        max_households=settings.person_max_households,
        default_scheme=settings.role_scheme,
    )


@dataclass
class CoverageResult:
    """One run of the check: findings in EPSG:4326, the summary and the comparison."""

    created_at: datetime
    scope: str
    findings: gpd.GeoDataFrame
    summary: CoverageSummary
    report_id: int | None = None
    compared: dict[str, list[str]] | None = None

    @property
    def has_errors(self) -> bool:
        """True when an error-severity finding is not accepted (the check fails)."""
        f = self.findings
        return bool(((f["severity"] == "error") & ~f["is_accepted"]).any())


def run_check(
    bind: Bind,
    options: CheckOptions,
    *,
    community: str | None = None,
    store: bool = True,
) -> CoverageResult:
    """Run every rule (全面检查); ``community`` narrows the report to one 社区.

    Raises:
        NotFound: ``community`` names no current community.
    """
    now = utcnow()
    scope = community or "all"
    with session_scope(bind) as session:
        data = _load(
            session, options, communities=None if community is None else [community]
        )
        findings = compute_findings(data, options)
        findings = _identify(findings, data, coverage_store.exceptions(session))
        if community is not None:
            findings = findings[findings["community_code"] == community]
        service = data["service"]
        summary = _summary(findings, service, community)
        previous = coverage_store.report_row(session, scope=scope)
        compared = None
        if previous is not None:
            before = coverage_store.report_keys(session, previous.id)
            now_keys = set(findings["key"])
            compared = {
                "previous_report": [str(previous.id)],
                "fixed": sorted(before - now_keys),
                "new": sorted(now_keys - before),
            }
        report_id = None
        if store:
            report_id = coverage_store.save_report(
                session,
                created_at=now,
                scope=scope,
                data_version=data_version(session),
                summary=summary.model_dump(mode="json"),
                findings=findings,
            )
    return CoverageResult(
        now, scope, findings.reset_index(drop=True), summary, report_id, compared
    )


def _load(
    session: Any, options: CheckOptions, *, communities: Sequence[str] | None = None
) -> dict[str, Any]:
    """What the rules read: the city, or what some communities' findings depend on.

    For communities, every area is read (a city has a few thousand) but
    buildings, addresses and lanes only around them, and centres as far out
    as the widest service radius: each rule judges a feature by the areas
    and neighbours within those reaches, so the communities' findings are
    those of a full run (tests hold it on both backends).

    Raises:
        NotFound: a code of ``communities`` names no current community.
    """
    areas = area_store.areas_frame(session)
    near = far = None
    if communities is not None:
        own = areas[areas["code"].isin(communities) & (areas["level"] == "community")]
        found = set(own["code"])
        for code in communities:
            if code not in found:
                raise NotFound("area_not_found", code=code)
        bounds = own.total_bounds
        near = grown_bounds(bounds, options.assign.tolerance_m)
        far = grown_bounds(bounds, max([0.0, *options.radii_m.values()]))
    buildings = link_store.buildings_frame(session, bbox=near)
    addresses = link_store.address_points(session, bbox=near)
    lanes = layer_store.features_frame(session, "lanes", bbox=near)
    centres = layer_store.features_frame(session, "centres", bbox=far)
    people = people_store.people_table(session)
    scheme = active_scheme(session, default=options.default_scheme)
    # The projection follows the areas (the whole city either way), so a
    # community's measures are the full run's to the last digit.
    located = addresses[addresses["x"].notna()]
    everything = (
        areas.geometry.to_numpy()
        if len(areas)
        else np.concatenate(
            [
                buildings.geometry.to_numpy(),
                gpd.points_from_xy(located["x"], located["y"]).to_numpy(),
            ]
        )
    )
    metric = (
        local_crs(gpd.GeoSeries(everything, crs=STORAGE_CRS))
        if len(everything)
        else None
    )
    return {
        "areas": areas,
        "buildings": buildings,
        "addresses": addresses,
        "lanes": lanes,
        "centres": centres,
        "assignments": people[people["role"].notna()],
        "scheme": scheme,
        "metric": metric,
        "service": pd.DataFrame(),
    }


def _identify(
    findings: gpd.GeoDataFrame, data: dict[str, Any], accepted: pd.DataFrame
) -> gpd.GeoDataFrame:
    """Give each finding its key, geometry hash, community and acceptance."""
    findings = findings.copy()
    parts = [
        [rule, *codes, str(measure.get("role", ""))]
        # Lists, not the columns: pandas hands a string column's values out
        # one __getitem__ at a time (0.75 µs each, a second for a city's checks).
        for rule, codes, measure in zip(
            findings["rule"].tolist(),
            findings["codes"].tolist(),
            findings["measure"].tolist(),
            strict=True,
        )
    ]
    # Two slivers between the same streets are two findings: where they lie
    # (to ~1 m) tells them apart and stays put while the others get fixed.
    repeated = pd.Series(["|".join(p) for p in parts]).duplicated(keep=False)
    for i in np.flatnonzero(repeated.to_numpy()):
        geom = findings.geometry.iloc[i]
        if geom is not None and not geom.is_empty:
            point = geom.representative_point()
            parts[i].append(f"{point.x:.5f},{point.y:.5f}")
    findings["key"] = [
        hashlib.sha1("|".join(p).encode(), usedforsecurity=False).hexdigest()[:16]
        for p in parts
    ]
    findings["geom_hash"] = _geometry_hashes(findings.geometry.to_numpy())
    findings["community_code"] = _communities(findings, data["areas"])
    valid = (
        dict(zip(accepted["key"], accepted["geom_hash"], strict=True))
        if len(accepted)
        else {}
    )
    findings["is_accepted"] = [
        valid.get(k) == h
        for k, h in zip(
            findings["key"].tolist(), findings["geom_hash"].tolist(), strict=True
        )
    ]
    return findings


def _geometry_hashes(geoms: np.ndarray) -> list[str]:
    """A hash of each geometry to ~1 cm, "none" for none.

    Hashed once per distinct geometry object: a building's vacant roles share
    its outline (a city's 205,000 role findings have ~100,000 outlines).
    """
    distinct: dict[int, int] = {}
    first = [distinct.setdefault(id(g), len(distinct)) for g in geoms]
    unique = np.empty(len(distinct), dtype=object)
    unique[first] = geoms
    # Rounding the coordinates, not snapping the geometry: set_precision runs an
    # overlay that real digitising error can break (TopologyException on Beijing).
    rounded = shapely.transform(unique, lambda xy: np.round(xy, 7))
    hashes = [
        hashlib.sha1(wkb, usedforsecurity=False).hexdigest()[:16]
        if wkb is not None
        else "none"
        for wkb in shapely.to_wkb(rounded)  # one call, not one per finding
    ]
    return [hashes[i] for i in first]


def _communities(
    findings: gpd.GeoDataFrame, areas: gpd.GeoDataFrame
) -> list[str | None]:
    """The 社区 a finding belongs to: by its codes, else by where it lies."""
    parents = dict(zip(areas["code"], areas["parent_code"], strict=True))
    levels = dict(zip(areas["code"], areas["level"], strict=True))

    def climb(code: str | None) -> str | None:
        for _ in range(6):
            if code is None or code not in levels:
                return None
            if levels[code] == "community":
                return code
            code = parents[code] if isinstance(parents[code], str) else None
        return None

    # Climbed once per area, not once per finding's code.
    community_of = {code: c for code in levels if (c := climb(code))}
    communities = areas[areas["level"] == "community"]
    tree = shapely.STRtree(communities.geometry.to_numpy())
    out: list[str | None] = []
    for codes, parent, geom in zip(
        findings["codes"].tolist(),
        findings["parent_code"].tolist(),
        findings.geometry.to_numpy(),
        strict=True,
    ):
        found = next(
            (community_of[x] for x in (*codes, parent) if x in community_of), None
        )
        if (
            found is None
            and geom is not None
            and not geom.is_empty
            and len(communities)
        ):
            hits = tree.query(geom.representative_point(), predicate="intersects")
            found = min((communities["code"].iloc[i] for i in hits), default=None)
        out.append(found)
    return out


def _summary(
    findings: gpd.GeoDataFrame, service: pd.DataFrame, community: str | None
) -> CoverageSummary:
    # astype: an empty object column would select columns, not rows.
    open_ = findings[~findings["is_accepted"].astype(bool)]
    by_rule = open_.groupby("rule").size().to_dict()
    by_community: dict[str, dict[str, int]] = {}
    for (code, rule), n in (
        open_.groupby([open_["community_code"].fillna("-"), "rule"]).size().items()
    ):
        by_community.setdefault(str(code), {})[str(rule)] = int(n)
    if community is not None and len(service):
        service = service[service["community_code"] == community]
    # A community with no homes has no share covered: null, never NaN,
    # which is not JSON (PostgreSQL refuses it, browsers cannot parse it).
    shares = (
        service.astype(object).where(service.notna(), None).to_dict("records")
        if len(service)
        else []
    )
    return CoverageSummary(
        n_errors=int((open_["severity"] == "error").sum()),
        n_warnings=int((open_["severity"] == "warning").sum()),
        n_accepted=int(findings["is_accepted"].sum()),
        by_rule={str(k): int(v) for k, v in by_rule.items()},
        by_community=by_community,
        service=[ServiceShare.model_validate(s) for s in shares],
    )


def accept_finding(
    bind: Bind, key: str, *, reason: str, accepted_by: str
) -> dict[str, str]:
    """Accept a finding of the newest report by its key (标记例外).

    Raises:
        NotFound: no stored report has a finding with this key.
    """
    with session_scope(bind) as session:
        report = coverage_store.report_row(session)
        findings = (
            coverage_store.report_findings(session, report.id) if report else None
        )
        if findings is None or key not in set(findings["key"]):
            raise NotFound("finding_not_found", key=key)
        row = findings[findings["key"] == key].iloc[0]
        coverage_store.accept(
            session,
            key=key,
            rule=row["rule"],
            reason=reason,
            accepted_by=accepted_by,
            geom_hash=row["geom_hash"],
            at=utcnow(),
        )
        # A new data version, as revoking records: stored reports would
        # otherwise go on showing the finding as not accepted.
        record_batch(session, "exception", key)
        account_store.audit(
            session, accepted_by, "finding.accept", f"finding:{key}", before=None,
            after={"rule": str(row["rule"]), "reason": reason},
        )  # fmt: skip
        return {"key": key, "rule": str(row["rule"]), "codes": ",".join(row["codes"])}


def revoke_finding(bind: Bind, key: str, *, actor: str = "-") -> None:
    """Withdraw an accepted exception.

    Raises:
        NotFound: no exception has this key.
    """
    with session_scope(bind) as session:
        if not coverage_store.revoke(session, key):
            raise NotFound("finding_not_found", key=key)
        record_batch(session, "exception", key)
        account_store.audit(
            session, actor, "finding.revoke", f"finding:{key}", before=None, after=None
        )


def current_report(
    bind: Bind, options: CheckOptions, *, community: str | None = None
) -> CoverageResult:
    """The newest stored report when nothing changed since, else a fresh unstored run."""
    with session_scope(bind) as session:
        report = coverage_store.report_row(session, scope=community or "all")
        if report is not None and report.data_version == data_version(session):
            findings = coverage_store.report_findings(session, report.id)
            return CoverageResult(
                report.created_at,
                report.scope,
                findings,
                CoverageSummary.model_validate(report.summary),
                report.id,
            )
    return run_check(bind, options, community=community, store=False)


@dataclass
class WhatIf:
    """The check's findings in some communities now and with other grids (规划预检).

    Both frames hold the columns of a report's findings (``key``, ``rule``,
    ``severity``, ``codes``, ``measure``, ``is_accepted``, geometry…); a
    finding is the same one before and after when its key is.
    """

    before: gpd.GeoDataFrame
    after: gpd.GeoDataFrame

    @property
    def added(self) -> gpd.GeoDataFrame:
        """Findings the grids would bring."""
        return self.after[~self.after["key"].isin(set(self.before["key"]))]

    @property
    def removed(self) -> gpd.GeoDataFrame:
        """Findings the grids would clear."""
        return self.before[~self.before["key"].isin(set(self.after["key"]))]

    @property
    def adds_errors(self) -> bool:
        """True when an added finding is an error not accepted as an exception."""
        added = self.added
        return bool(((added["severity"] == "error") & ~added["is_accepted"]).any())


def check_with_grids(
    bind: Bind,
    options: CheckOptions,
    communities: list[str],
    grids: gpd.GeoDataFrame,
) -> WhatIf:
    """Every rule on ``communities`` now, and as if ``grids`` replaced their grids.

    This is what ``geogrid check`` would report after publishing a plan
    (buildings split by a new edge, vacant roles of a new grid, households
    out of the band, lanes now crossing grids …), before anything is written.

    Args:
        bind: The database.
        options: The check's thresholds.
        communities: Codes of the communities whose grids ``grids`` replace;
            only their findings are returned.
        grids: ``code``, ``name``, ``parent_code`` and polygon geometry in
            EPSG:4326: every grid of ``communities`` as it would be.
    """
    with session_scope(bind) as session:
        # Read around the plan's communities, not the city: a planner's
        # preview on a city of a million addresses loaded all of them, twice.
        data = _load(session, options, communities=communities or None)
        accepted = coverage_store.exceptions(session)
    scope = set(communities)
    before = _identify(compute_findings(data, options), data, accepted)
    areas = data["areas"]
    replaced = (areas["level"] == "grid") & areas["parent_code"].isin(scope)
    planned = gpd.GeoDataFrame(
        grids[["code", "name", "parent_code"]].assign(level="grid"),
        geometry=grids.geometry.to_numpy(),
        crs=STORAGE_CRS,
    )
    data = {
        **data,
        "areas": gpd.GeoDataFrame(
            pd.concat([areas[~replaced], planned], ignore_index=True),
            geometry="geometry",
            crs=STORAGE_CRS,
        ),
        "service": pd.DataFrame(),
    }
    after = _identify(compute_findings(data, options), data, accepted)

    def in_scope(found: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        return found[found["community_code"].isin(scope)].reset_index(drop=True)

    return WhatIf(in_scope(before), in_scope(after))


def area_report(bind: Bind, options: CheckOptions, code: str) -> CoverageResult:
    """The current report of any area (社区、街道、区县): what a coverage map draws.

    A community has its own report; above it (a 街道 file such as Beijing's,
    checked with no communities at all) the city-wide report is narrowed to
    the findings that name the area or touch its outline.

    Raises:
        NotFound: no current area has this code.
    """
    with session_scope(bind) as session:
        found = area_store.areas_frame(session, codes=[code])
    if found.empty:
        raise NotFound("area_not_found", code=code)
    if found["level"].iloc[0] == "community":
        return current_report(bind, options, community=code)
    whole = current_report(bind, options)
    f = whole.findings
    outline = found.geometry.iloc[0]
    named = f["codes"].map(lambda codes: code in codes).to_numpy(dtype=bool)
    touching = named | f.geometry.intersects(outline).to_numpy(dtype=bool)
    findings = f[touching].reset_index(drop=True)
    service = _service_frame(whole.summary)
    if len(service):
        mine = set(findings["community_code"].dropna())
        service = service[service["community_code"].isin(mine)]
    return CoverageResult(
        whole.created_at,
        code,
        findings,
        _summary(findings, service, None),
        whole.report_id,
    )


PRIVATE_RULES = ("person_overloaded", "assignment_orphan")
"""Rules whose findings name people: staff only."""


def public_view(result: CoverageResult) -> CoverageResult:
    """What residents may see of a report: no people, no residents' addresses."""
    f = result.findings[~result.findings["rule"].isin(PRIVATE_RULES)].copy()
    unassigned = f["rule"] == "address_unassigned"
    # An unassigned address shows as its building, or as a bare count.
    public_codes = [
        (m["building"],) if "building" in m else ()
        for m in f.loc[unassigned, "measure"]
    ]
    f.loc[unassigned, "codes"] = pd.Series(
        public_codes, index=f.index[unassigned], dtype=object
    )
    f.loc[unassigned & f["codes"].map(len).eq(0), "geometry"] = None
    summary = _summary(f, _service_frame(result.summary), None)
    return CoverageResult(
        result.created_at, result.scope, f, summary, result.report_id, None
    )


def _service_frame(summary: CoverageSummary) -> pd.DataFrame:
    return pd.DataFrame([s.model_dump() for s in summary.service])


def report_document(result: CoverageResult) -> dict[str, Any]:
    """The report as :class:`~geogrid.domain.answers.CoverageReport` documents it.

    A plain dict on purpose: validating every finding again as a model costs
    47 µs each, 10 s for a city's 205,000; the API test checks the document
    against the published schema instead.
    """
    return {
        "report_id": result.report_id,
        "created_at": rfc3339(result.created_at),
        "scope": result.scope,
        "summary": result.summary.model_dump(mode="json"),
        "findings": findings_geojson(result)["features"],
    }


def findings_geojson(result: CoverageResult) -> dict[str, Any]:
    """The findings as an RFC 7946 FeatureCollection, for maps and GIS clients."""
    features = []
    for row in result.findings.itertuples():
        geom = row.geometry
        features.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(geom)
                if geom is not None and not geom.is_empty
                else None,
                "properties": {
                    "key": row.key,
                    "rule": row.rule,
                    "title": RULES[row.rule].title,
                    "severity": row.severity,
                    "codes": list(row.codes),
                    "community_code": row.community_code,
                    "measure": row.measure,
                    "is_accepted": bool(row.is_accepted),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def findings_table(result: CoverageResult) -> pd.DataFrame:
    """The findings as a flat table (CSV), geometry as WKT."""
    f = result.findings
    return pd.DataFrame(
        {
            "key": f["key"],
            "rule": f["rule"],
            "title": [RULES[r].title for r in f["rule"]],
            "severity": f["severity"],
            "community_code": f["community_code"],
            "codes": [" ".join(c) for c in f["codes"]],
            "measure": [str(m) for m in f["measure"]],
            "is_accepted": f["is_accepted"],
            "wkt": [g.wkt if g is not None else "" for g in f.geometry],
        }
    )
