"""The coverage check (覆盖检查): prove "全覆盖、无死角", or list exactly what is missing and where.

Everything is computed from the stored geometry and people in one pass, not
from stored links, so the proof cannot inherit a stale assignment. Each run
can be stored as a report; findings keep a key across runs so a community's
progress shows as fixed and new, and planners' accepted exceptions hold
until the geometry of their finding changes.
"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

import geopandas as gpd
import shapely

from geogrid.config import Settings
from geogrid.domain.checks import load_findings, role_findings
from geogrid.domain.findings import FINDING_COLUMNS, RULES
from geogrid.errors import NotFound
from geogrid.services.assignment import AssignOptions, assign_options
from geogrid.services.people import active_scheme
from geogrid.spatial.assign import assign_addresses, assign_buildings
from geogrid.spatial.coverage import (
    CoverageOptions,
    check_areas,
    lane_findings,
    service_coverage,
    service_findings,
)
from geogrid.spatial.crs import STORAGE_CRS, local_crs
from geogrid.store import areas as area_store
from geogrid.store import coverage as coverage_store
from geogrid.store import features as feature_store
from geogrid.store import links as link_store
from geogrid.store import people as people_store
from geogrid.store.batches import data_version, record_batch, utcnow
from geogrid.store.engine import Bind, session_scope

UNASSIGNED = ("outside", "ambiguous", "no_geometry")


@dataclass(frozen=True)
class CheckOptions:
    """Thresholds of the check (检查参数), from settings."""

    coverage: CoverageOptions = field(default_factory=CoverageOptions)
    assign: AssignOptions = field(default_factory=AssignOptions)
    band: tuple[int, int] = (300, 500)
    community_max: int = 3000
    radii_m: dict[str, float] = field(
        default_factory=lambda: {"睦邻中心": 500.0, "社区中心": 1500.0}
    )
    max_targets: int = 10
    max_households: int = 2000
    default_scheme: str = "三长三员一民警"


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
    summary: dict[str, Any]
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
        data = _load(session, options)
        if community is not None and community not in set(data["areas"]["code"]):
            raise NotFound("area_not_found", code=community)
        findings = _findings(data, options)
        findings = _identify(findings, data, coverage_store.exceptions(session))
        if community is not None:
            findings = findings[findings["community_code"] == community]
        service = data["service"]
        summary = _summary(findings, service, community)
        previous = coverage_store.report_row(session, scope=scope)
        compared = None
        if previous is not None:
            before = set(coverage_store.report_findings(session, previous.id)["key"])
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
                summary=summary,
                findings=findings,
            )
    return CoverageResult(
        now, scope, findings.reset_index(drop=True), summary, report_id, compared
    )


def _load(session: Any, options: CheckOptions) -> dict[str, Any]:
    areas = area_store.areas_frame(session)
    buildings = link_store.buildings_frame(session)
    addresses = link_store.addresses_frame(session)
    lanes = feature_store.features_frame(session, "lanes")
    centres = feature_store.features_frame(session, "centres")
    people = people_store.people_table(session)
    scheme = active_scheme(session, default=options.default_scheme)
    everything = pd.concat(
        [areas.geometry, buildings.geometry, addresses.geometry.dropna()]
    )
    metric = (
        local_crs(gpd.GeoSeries(everything.to_numpy(), crs=STORAGE_CRS))
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


def _findings(data: dict[str, Any], options: CheckOptions) -> gpd.GeoDataFrame:
    metric = data["metric"]
    if metric is None:
        return gpd.GeoDataFrame(
            columns=list(FINDING_COLUMNS), geometry="geometry", crs=STORAGE_CRS
        )
    areas_m = data["areas"][["code", "level", "parent_code", "geometry"]].to_crs(metric)
    grids_m = areas_m[areas_m["level"] == "grid"][["code", "geometry"]]
    estates_m = areas_m[areas_m["level"] == "estate"][["code", "geometry"]]
    communities_m = areas_m[areas_m["level"] == "community"][["code", "geometry"]]
    buildings_m = data["buildings"][
        ["code", "households", "residents", "geometry"]
    ].to_crs(metric)
    rule = options.assign
    links = assign_buildings(
        buildings_m[["code", "geometry"]],
        grids_m,
        rule=rule.rule,
        split_share=rule.split_share,
    )
    estate_links = assign_buildings(
        buildings_m[["code", "geometry"]], estates_m, rule=rule.rule
    )
    address_links = assign_addresses(
        data["addresses"][["code", "geometry"]].to_crs(metric),
        buildings_m[["code", "geometry"]].assign(
            grid_code=links["grid_code"].to_numpy()
        ),
        grids_m,
        tolerance_m=rule.tolerance_m,
    )
    homes = buildings_m.assign(geometry=buildings_m.geometry.representative_point())
    data["service"] = service_coverage(
        homes, data["centres"].to_crs(metric), communities_m, radii_m=options.radii_m
    )
    households = _households(data["areas"], buildings_m, links, estate_links)
    parts = [
        _area_findings(areas_m, options.coverage),
        _building_findings(buildings_m, links),
        _address_findings(data["addresses"].to_crs(metric), buildings_m, address_links),
        lane_findings(data["lanes"][["code", "geometry"]].to_crs(metric), grids_m),
        service_findings(
            homes,
            data["centres"].to_crs(metric),
            communities_m,
            radii_m=options.radii_m,
        ),
        _with_geometry(
            role_findings(
                data["scheme"],
                _targets(data["areas"], buildings_m, links, data["lanes"], households),
                data["assignments"][
                    ["person_code", "role", "target_level", "target_code"]
                ],
                max_targets=options.max_targets,
                max_households=options.max_households,
            ),
            areas_m,
            buildings_m,
            data["lanes"].to_crs(metric),
        ),
        _with_geometry(
            load_findings(
                _level_loads(data["areas"], households, "grid"),
                _level_loads(data["areas"], households, "community"),
                band=options.band,
                community_max=options.community_max,
            ),
            areas_m,
            buildings_m,
            data["lanes"].to_crs(metric),
        ),
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return gpd.GeoDataFrame(
            columns=list(FINDING_COLUMNS), geometry="geometry", crs=STORAGE_CRS
        )
    frame = gpd.GeoDataFrame(
        pd.concat(parts, ignore_index=True), geometry="geometry", crs=metric
    )
    return frame.to_crs(STORAGE_CRS)


def _area_findings(
    areas_m: gpd.GeoDataFrame, options: CoverageOptions
) -> gpd.GeoDataFrame:
    """Gaps, overlaps and the rest per parent, without the noise two rules would add.

    Estates (小区) sit inside grids without tiling them, so the land between
    them is no gap. And an overlap makes its two edges "not quite meet" too:
    those edge findings say nothing the overlap does not.
    """
    findings = check_areas(areas_m, options=options)
    levels = dict(zip(areas_m["code"], areas_m["level"], strict=True))
    under_grid = findings["parent_code"].map(lambda p: levels.get(p) == "grid")
    findings = findings[~(findings["rule"].isin(["gap", "sliver"]) & under_grid)]
    explained = {
        (parent, code)
        for rule, parent, codes in zip(
            findings["rule"], findings["parent_code"], findings["codes"], strict=True
        )
        if rule in ("overlap", "gap", "sliver")
        for code in codes
    }
    edge = findings["rule"] == "edge_mismatch"
    covered = [
        (parent, codes[0]) in explained
        for parent, codes in zip(
            findings["parent_code"], findings["codes"], strict=True
        )
    ]
    return findings[~(edge & pd.Series(covered, index=findings.index))]


def _building_findings(
    buildings_m: gpd.GeoDataFrame, links: pd.DataFrame
) -> gpd.GeoDataFrame:
    rows = []
    for code, grid, split, share, split_share, geom in zip(
        links["code"],
        links["grid_code"],
        links["split_grid_code"],
        links["grid_share"],
        links["split_share"],
        buildings_m.geometry,
        strict=True,
    ):
        if not isinstance(grid, str):
            rows.append(("building_no_grid", (code,), None, {}, geom))
        elif isinstance(split, str):
            measure = {
                "grid_share": round(float(share), 3),
                "split_share": round(float(split_share), 3),
            }
            rows.append(("building_split", (code, grid, split), grid, measure, geom))
    return _geo(rows, buildings_m.crs)


def _address_findings(
    addresses_m: gpd.GeoDataFrame, buildings_m: gpd.GeoDataFrame, links: pd.DataFrame
) -> gpd.GeoDataFrame:
    """One finding per building whose addresses are unassigned, else per address."""
    bad = links[links["reason"].isin(UNASSIGNED)].join(addresses_m.geometry)
    footprint = dict(zip(buildings_m["code"], buildings_m.geometry, strict=True))
    rows = []
    for building, group in bad.groupby(bad["building_code"].fillna(""), sort=True):
        reasons = sorted(set(group["reason"]))
        if building:
            measure = {
                "reason": "、".join(reasons),
                "addresses": len(group),
                "building": building,
            }
            rows.append(
                (
                    "address_unassigned",
                    (building, *sorted(group["code"])),
                    None,
                    measure,
                    footprint.get(building),
                )
            )
            continue
        for a in group.itertuples():
            rows.append(
                (
                    "address_unassigned",
                    (a.code,),
                    None,
                    {"reason": a.reason, "addresses": 1},
                    a.geometry,
                )
            )
    return _geo(rows, addresses_m.crs)


def _geo(rows: list[tuple[Any, ...]], crs: Any) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(
        rows, columns=["rule", "codes", "parent_code", "measure", "geometry"]
    )
    frame["severity"] = [RULES[r].severity.value for r in frame["rule"]]
    return gpd.GeoDataFrame(frame[list(FINDING_COLUMNS)], geometry="geometry", crs=crs)


def _households(
    areas: pd.DataFrame,
    buildings_m: gpd.GeoDataFrame,
    links: pd.DataFrame,
    estate_links: pd.DataFrame,
) -> dict[tuple[str, str], int]:
    """Households of every target, from the buildings assigned now."""
    h = buildings_m["households"].to_numpy()
    out: dict[tuple[str, str], int] = {}
    grid = pd.Series(h).groupby(links["grid_code"].to_numpy()).sum()
    estate = pd.Series(h).groupby(estate_links["grid_code"].to_numpy()).sum()
    out.update({("grid", str(k)): int(v) for k, v in grid.items()})
    out.update({("estate", str(k)): int(v) for k, v in estate.items()})
    out.update(
        {("building", c): int(v) for c, v in zip(buildings_m["code"], h, strict=True)}
    )
    parents = dict(zip(areas["code"], areas["parent_code"], strict=True))
    levels = dict(zip(areas["code"], areas["level"], strict=True))
    for level in ("community", "street", "district"):
        child_level = {
            "community": "grid",
            "street": "community",
            "district": "street",
        }[level]
        for code, parent in parents.items():
            if levels[code] == child_level and isinstance(parent, str):
                key = (level, parent)
                out[key] = out.get(key, 0) + out.get((child_level, code), 0)
    return out


def _level_loads(
    areas: pd.DataFrame, households: dict[tuple[str, str], int], level: str
) -> pd.DataFrame:
    of_level = areas[areas["level"] == level]
    return pd.DataFrame(
        {
            "code": of_level["code"],
            "parent_code": of_level["parent_code"],
            "households": [households.get((level, c), 0) for c in of_level["code"]],
        }
    )


def _targets(
    areas: pd.DataFrame,
    buildings_m: gpd.GeoDataFrame,
    links: pd.DataFrame,
    lanes: pd.DataFrame,
    households: dict[tuple[str, str], int],
) -> pd.DataFrame:
    frames = [
        pd.DataFrame(
            {
                "level": areas["level"],
                "code": areas["code"],
                "parent_code": areas["parent_code"],
            }
        ),
        pd.DataFrame(
            {
                "level": "building",
                "code": buildings_m["code"],
                "parent_code": links["grid_code"].to_numpy(),
            }
        ),
        pd.DataFrame({"level": "lane", "code": lanes["code"], "parent_code": None}),
    ]
    targets = pd.concat(frames, ignore_index=True)
    targets["households"] = [
        households.get((lvl, c), 0)
        for lvl, c in zip(targets["level"], targets["code"], strict=True)
    ]
    return targets


def _with_geometry(
    findings: pd.DataFrame,
    areas_m: gpd.GeoDataFrame,
    buildings_m: gpd.GeoDataFrame,
    lanes_m: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Place a table finding at its first code's outline (an area, building or lane)."""
    where = {
        **dict(zip(lanes_m["code"], lanes_m.geometry, strict=True)),
        **dict(zip(buildings_m["code"], buildings_m.geometry, strict=True)),
        **dict(zip(areas_m["code"], areas_m.geometry, strict=True)),
    }
    geoms = [where.get(codes[0]) if codes else None for codes in findings["codes"]]
    return gpd.GeoDataFrame(
        findings,
        geometry=gpd.GeoSeries(geoms, index=findings.index, crs=areas_m.crs),
        crs=areas_m.crs,
    )


def _identify(
    findings: gpd.GeoDataFrame, data: dict[str, Any], accepted: pd.DataFrame
) -> gpd.GeoDataFrame:
    """Give each finding its key, geometry hash, community and acceptance."""
    findings = findings.copy()
    findings["key"] = [
        hashlib.sha1(
            "|".join([rule, *codes, str(measure.get("role", ""))]).encode(),
            usedforsecurity=False,
        ).hexdigest()[:16]
        for rule, codes, measure in zip(
            findings["rule"], findings["codes"], findings["measure"], strict=True
        )
    ]
    rounded = shapely.set_precision(findings.geometry.to_numpy(), 1e-7)
    findings["geom_hash"] = [
        hashlib.sha1(shapely.to_wkb(g), usedforsecurity=False).hexdigest()[:16]
        if g is not None
        else "none"
        for g in rounded
    ]
    findings["community_code"] = _communities(findings, data["areas"])
    valid = (
        dict(zip(accepted["key"], accepted["geom_hash"], strict=True))
        if len(accepted)
        else {}
    )
    findings["is_accepted"] = [
        valid.get(k) == h
        for k, h in zip(findings["key"], findings["geom_hash"], strict=True)
    ]
    return findings


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

    communities = areas[areas["level"] == "community"]
    tree = shapely.STRtree(communities.geometry.to_numpy())
    out: list[str | None] = []
    for codes, parent, geom in zip(
        findings["codes"], findings["parent_code"], findings.geometry, strict=True
    ):
        found = next((c for c in (climb(x) for x in (*codes, parent)) if c), None)
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
) -> dict[str, Any]:
    open_ = findings[~findings["is_accepted"]]
    by_rule = open_.groupby("rule").size().to_dict()
    by_community: dict[str, dict[str, int]] = {}
    for (code, rule), n in (
        open_.groupby([open_["community_code"].fillna("-"), "rule"]).size().items()
    ):
        by_community.setdefault(str(code), {})[str(rule)] = int(n)
    if community is not None and len(service):
        service = service[service["community_code"] == community]
    return {
        "n_errors": int((open_["severity"] == "error").sum()),
        "n_warnings": int((open_["severity"] == "warning").sum()),
        "n_accepted": int(findings["is_accepted"].sum()),
        "by_rule": {str(k): int(v) for k, v in by_rule.items()},
        "by_community": by_community,
        "service": service.to_dict("records") if len(service) else [],
    }


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
        return {"key": key, "rule": str(row["rule"]), "codes": ",".join(row["codes"])}


def revoke_finding(bind: Bind, key: str) -> None:
    """Withdraw an accepted exception.

    Raises:
        NotFound: no exception has this key.
    """
    with session_scope(bind) as session:
        if not coverage_store.revoke(session, key):
            raise NotFound("finding_not_found", key=key)
        record_batch(session, "exception", key)


def current_report(
    bind: Bind, options: CheckOptions, *, community: str | None = None
) -> CoverageResult:
    """The newest stored report when nothing changed since, else a fresh unstored run."""
    with session_scope(bind) as session:
        report = coverage_store.report_row(session, scope=community or "all")
        if report is not None and report.data_version == data_version(session):
            findings = coverage_store.report_findings(session, report.id)
            return CoverageResult(
                report.created_at, report.scope, findings, report.summary, report.id
            )
    return run_check(bind, options, community=community, store=False)


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
    summary = _summary(f, pd.DataFrame(result.summary.get("service", [])), None)
    return CoverageResult(
        result.created_at, result.scope, f, summary, result.report_id, None
    )


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
