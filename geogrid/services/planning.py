"""Planning (网格调整规划): drafts of grid boundaries, their impact, and publishing.

A plan starts from the current generation of one community's (or street's)
grids. Each edit is a step holding its operation, author and the grids after
it, so undo drops the last step and a rebase replays the operations on a newer
generation. Nothing touches the published data until ``publish``, which
refuses a plan based on an older generation (no silent overwrite) or one that
would add gaps or overlaps, then writes the changed grids as a new
generation and re-links only the buildings and addresses they reach.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import geopandas as gpd
import shapely

from geogrid.domain.answers import (
    CoverageDelta,
    FindingRow,
    FindingsDelta,
    HouseholdBand,
    PlanImpact,
    PlanInfo,
    PlanRef,
    PlanStep,
    PlanSummary,
    Published,
    RolledBack,
    RuleArea,
)
from geogrid.domain.codes import AreaLevel
from geogrid.errors import InvalidInput, NotFound, Outdated
from geogrid.io.readers import text_column
from geogrid.io.report import ImportReport
from geogrid.services.assignment import AssignOptions
from geogrid.services.boundaries import write_generation
from geogrid.services.coverage import check_with_grids
from geogrid.services.coverage_rules import CheckOptions
from geogrid.services.imports import ImportOptions, find_field, prepare_file
from geogrid.services.people import active_scheme
from geogrid.spatial import planning as edits
from geogrid.spatial.coverage import CoverageOptions, check_areas
from geogrid.spatial.crs import STORAGE_CRS, local_crs
from geogrid.store import accounts as account_store
from geogrid.store import areas as area_store
from geogrid.store import links as link_store
from geogrid.store import people as people_store
from geogrid.store import plans as plan_store
from geogrid.store.batches import record_batch, utcnow
from geogrid.store.engine import Bind, session_scope

OPS = ("replace", "split", "merge", "move", "rename", "renumber")
SPATIAL_RULES = ("gap", "overlap", "outside_parent")
KNIT_DEGREES = 1e-7
"""How far an edited grid's vertex may be snapped (about 1 cm): far above the
metric round trip's error, far below any edge a planner draws."""


@dataclass
class PlanState:
    """A plan as it stands: its record, its steps and its current grids."""

    id: int
    name: str
    scope: str
    status: str
    created_by: str
    is_stale: bool
    steps: list[PlanStep]
    grids: gpd.GeoDataFrame

    def summary(self) -> PlanSummary:
        """The plan as the API sends it (grids as GeoJSON)."""
        return PlanSummary(
            id=self.id,
            name=self.name,
            scope=self.scope,
            status=self.status,
            created_by=self.created_by,
            is_stale=self.is_stale,
            steps=self.steps,
            grids=json.loads(self.grids.to_json(drop_id=True)),
        )


def new_plan(bind: Bind, scope: str, *, name: str = "", author: str) -> PlanState:
    """Start a draft from the current grids of a community or street.

    Raises:
        NotFound: no current community or street has this code.
    """
    with session_scope(bind) as session:
        level, grids = _scope_grids(session, scope)
        plan = plan_store.add_plan(
            session,
            name=name or f"{scope} 网格调整",
            scope=scope,
            level=level,
            signature=_signature(grids),
            author=author,
        )
        plan_store.add_step(
            session, plan.id, op="base", params={}, author=author, grids=_geojson(grids)
        )
        plan_id = plan.id
    return plan_state(bind, plan_id)


def plan_state(bind: Bind, plan_id: int) -> PlanState:
    """A plan with its steps and current grids.

    Raises:
        NotFound: no such plan.
    """
    with session_scope(bind) as session:
        plan = _plan(session, plan_id)
        steps = plan_store.steps(session, plan_id)
        stale = _is_stale(plan, _scope_grids(session, plan.scope_code)[1])
        return PlanState(
            plan.id,
            plan.name,
            plan.scope_code,
            plan.status,
            plan.created_by,
            stale,
            [
                PlanStep(seq=s.seq, op=s.op, params=s.params, author=s.author, at=s.at)
                for s in steps
            ],
            _frame(steps[-1].grids),
        )


def list_plans(bind: Bind, *, scope: str | None = None) -> list[PlanInfo]:
    """Plans, newest first."""
    with session_scope(bind) as session:
        return [
            PlanInfo.model_validate(
                {
                    "id": p.id,
                    "name": p.name,
                    "scope": p.scope_code,
                    "status": p.status,
                    "created_by": p.created_by,
                    "created_at": p.created_at,
                }
            )
            for p in plan_store.list_plans(session, scope=scope)
        ]


def edit(
    bind: Bind, plan_id: int, op: str, params: dict[str, Any], *, author: str
) -> PlanState:
    """Apply one edit to a draft and keep it as a step.

    Raises:
        InvalidInput: an unknown operation or one that cannot apply (named).
        NotFound: an unknown plan, grid or building.
    """
    with session_scope(bind) as session:
        plan = _draft(session, plan_id)
        current = _frame(plan_store.steps(session, plan_id)[-1].grids)
        after = _apply(session, plan.scope_code, current, op, params)
        plan_store.add_step(
            session, plan_id, op=op, params=params, author=author, grids=_geojson(after)
        )
    return plan_state(bind, plan_id)


def replace_params(path: Path, options: ImportOptions) -> dict[str, Any]:
    """Read uploaded grid polygons (GeoJSON/GeoPackage/Shapefile…) into ``replace`` params.

    Raises:
        ImportRejected: a record is bad (CRS, geometry, codes), as in an import.
    """
    from geogrid.errors import ImportRejected

    report = ImportReport(kind="plan", source=str(path))
    prep = prepare_file(path, options, "polygon", report)
    if not report.is_ok:
        raise ImportRejected(report)
    names = text_column(
        prep.frame, find_field(prep.frame, options.name_field, required=True) or ""
    )
    frame = gpd.GeoDataFrame(
        {"code": list(prep.codes), "name": list(names)},
        geometry=list(prep.geoms),
        crs=STORAGE_CRS,
    )
    return {"features": _geojson(frame), "source": path.name}


def undo(bind: Bind, plan_id: int, *, author: str) -> PlanState:
    """Drop the draft's last edit (the base cannot be undone).

    Raises:
        InvalidInput: nothing to undo.
    """
    with session_scope(bind) as session:
        _draft(session, plan_id)
        steps = plan_store.steps(session, plan_id)
        if len(steps) < 2:
            raise InvalidInput("plan_nothing_to_undo", id=plan_id)
        plan_store.drop_steps_after(session, plan_id, steps[-2].seq)
    return plan_state(bind, plan_id)


def discard(bind: Bind, plan_id: int, *, author: str) -> None:
    """Give a draft up; it stays listed as discarded."""
    with session_scope(bind) as session:
        _draft(session, plan_id).status = "discarded"


def diff(
    bind: Bind,
    plan_id: int,
    *,
    check: CheckOptions,
) -> PlanImpact:
    """The plan's impact against the current generation, and its coverage check (影响分析).

    ``findings`` holds every rule of ``geogrid check`` run on the scope now and
    with the draft's grids: what publishing would add and clear.
    """
    assign, coverage, band = check.assign, check.coverage, check.band
    with session_scope(bind) as session:
        plan = _plan(session, plan_id)
        _, old = _scope_grids(session, plan.scope_code)
        is_stale = _is_stale(plan, old)
        new = _frame(plan_store.steps(session, plan_id)[-1].grids)
        communities = _scope_communities(session, plan.scope_code)
        outline = shapely.union_all(communities.geometry.to_numpy())
        buildings = link_store.buildings_frame(session, bbox=outline.bounds)
        addresses = link_store.addresses_frame(
            session, building_codes=list(buildings["code"])
        )
        people = people_store.people_table(session)
        scheme = active_scheme(session, default="三长三员一民警")
    counts = addresses.groupby("building_code").size()
    buildings = buildings.assign(
        addresses=buildings["code"].map(counts).fillna(0).astype(int)
    )
    crs = local_crs(old if not old.empty else new)
    holders = people[people["role"].notna()].copy()
    holders["title"] = [
        scheme.role(r).title if r in scheme.keys else r for r in holders["role"]
    ]
    grid_roles = [(r.key, r.title) for r in scheme.roles if r.attaches_to == "grid"]
    changes = edits.impact(
        old.to_crs(crs),
        new.to_crs(crs),
        buildings.to_crs(crs),
        holders,
        grid_roles,
        rule=assign.rule,
    )
    before = _spatial_findings(communities, old, crs, coverage)
    after = _spatial_findings(communities, new, crs, coverage)
    low, high = band
    what_if = check_with_grids(bind, check, list(communities["code"]), new)
    return PlanImpact(
        **dict(changes),
        plan=PlanRef(id=plan_id, scope=plan.scope_code, stale=is_stale),
        coverage=CoverageDelta(
            before=before,
            after=after,
            introduced=[
                rule
                for rule in SPATIAL_RULES
                if after[rule].area_m2 > before[rule].area_m2 + coverage.min_area_m2
            ],
        ),
        band=HouseholdBand(
            min=low,
            max=high,
            outside_after=sorted(
                code
                for code in new["code"]
                if not low <= changes.households.after.get(code, 0) <= high
            ),
        ),
        findings=FindingsDelta(
            before=_by_rule(what_if.before),
            after=_by_rule(what_if.after),
            added=_finding_rows(what_if.added),
            removed=_finding_rows(what_if.removed),
            adds_errors=what_if.adds_errors,
        ),
    )


def _by_rule(findings: gpd.GeoDataFrame) -> dict[str, int]:
    return {str(k): int(v) for k, v in findings.groupby("rule").size().items()}


def _finding_rows(findings: gpd.GeoDataFrame) -> list[FindingRow]:
    """Findings as rows for a diff: what, where, how much, and its key."""
    return [
        FindingRow(
            rule=f.rule,
            severity=f.severity,
            codes=list(f.codes),
            measure=f.measure,
            key=f.key,
            is_accepted=bool(f.is_accepted),
        )
        for f in findings.itertuples()
    ]


def plan_frames(
    bind: Bind, plan_id: int
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The current grids, the draft's grids and the scope's buildings (EPSG:4326), for maps."""
    with session_scope(bind) as session:
        plan = _plan(session, plan_id)
        _, old = _scope_grids(session, plan.scope_code)
        new = _frame(plan_store.steps(session, plan_id)[-1].grids)
        outline = shapely.union_all(
            _scope_communities(session, plan.scope_code).geometry.to_numpy()
        )
        buildings = link_store.buildings_frame(session, bbox=outline.bounds)
    return old, new, buildings


def publish(
    bind: Bind,
    plan_id: int,
    *,
    author: str,
    check: CheckOptions,
) -> Published:
    """Make the draft the new generation (valid from now) and re-link what it reaches.

    Raises:
        Outdated: the plan is based on an older generation (``plan_stale``:
            rebase it first).
        InvalidInput: it would add gaps or overlaps.
    """
    impact = diff(bind, plan_id, check=check)
    if impact.plan.stale:
        raise Outdated("plan_stale", id=plan_id)
    if impact.coverage.introduced:
        raise InvalidInput(
            "plan_adds_defects", id=plan_id, rules="、".join(impact.coverage.introduced)
        )
    with session_scope(bind) as session:
        plan = _draft(session, plan_id)
        # Again inside the write: someone may have published since the diff.
        if _is_stale(plan, _scope_grids(session, plan.scope_code)[1]):
            raise Outdated("plan_stale", id=plan_id)
        grids = _frame(plan_store.steps(session, plan_id)[-1].grids)
        now = utcnow()
        counts = _publish_grids(
            session, plan.scope_code, grids, now, check.assign, f"plan:{plan_id}"
        )
        plan.status = "published"
        plan.published_at = now
        account_store.audit(
            session, author, "plan.publish", f"plan:{plan_id}", before=None,
            after={"scope": plan.scope_code, "counts": counts},
        )  # fmt: skip
    return Published(id=plan_id, valid_from=now, counts=counts, moves=len(impact.moves))


def rebase(bind: Bind, plan_id: int, *, author: str) -> PlanState:
    """Replay the draft's edits on the current generation (after someone else published).

    Raises:
        InvalidInput: an edit no longer applies (its grid is gone, say); the
            message names it and nothing changes.
    """
    with session_scope(bind) as session:
        plan = _draft(session, plan_id)
        _, current = _scope_grids(session, plan.scope_code)
        grids = current
        steps = plan_store.steps(session, plan_id)
        replayed = []
        for step in steps[1:]:
            grids = _apply(session, plan.scope_code, grids, step.op, step.params)
            replayed.append((step, _geojson(grids)))
        plan_store.drop_steps_after(session, plan_id, -1)
        plan_store.add_step(
            session,
            plan_id,
            op="base",
            params={"rebased_by": author},
            author=author,
            grids=_geojson(current),
        )
        for step, after in replayed:
            plan_store.add_step(
                session,
                plan_id,
                op=step.op,
                params=step.params,
                author=step.author,
                grids=after,
            )
        plan.base_signature = _signature(current)
    return plan_state(bind, plan_id)


def rollback(
    bind: Bind, scope: str, *, to: datetime, assign: AssignOptions, author: str
) -> RolledBack:
    """Publish again the grids as they stood at ``to`` (admins undo a publish)."""
    with session_scope(bind) as session:
        old = _scope_grids(session, scope, as_of=to)[1]
        if old.empty:
            raise NotFound("area_not_found", code=f"{scope}@{to.isoformat()}")
        counts = _publish_grids(
            session, scope, old, utcnow(), assign, f"rollback:{scope}"
        )
        account_store.audit(
            session, author, "plan.rollback", f"area:{scope}", before=None,
            after={"to": to.isoformat(), "counts": counts},
        )  # fmt: skip
    return RolledBack(scope=scope, to=to, counts=counts)


def _publish_grids(
    session: Any,
    scope: str,
    grids: gpd.GeoDataFrame,
    now: datetime,
    assign: AssignOptions,
    source: str,
) -> dict[str, int]:
    communities = _scope_communities(session, scope)
    batch_id = record_batch(session, "grid", source, crs=STORAGE_CRS, n=len(grids))
    rows = [
        {
            "code": g.code,
            "name": g.name,
            "level": AreaLevel.GRID.value,
            "parent_code": g.parent_code,
            "valid_from": now,
            "attrs": {},
            "batch_id": batch_id,
        }
        for g in grids.itertuples()
    ]
    # The area table holds MultiPolygons, as an import writes them.
    geoms = gpd.GeoSeries(
        [
            g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g])
            for g in grids.geometry
        ],
        crs=STORAGE_CRS,
    )
    return write_generation(
        session,
        AreaLevel.GRID,
        rows,
        geoms,
        now,
        assign,
        parents=set(communities["code"]),
    )


def _apply(
    session: Any, scope: str, draft: gpd.GeoDataFrame, op: str, params: dict[str, Any]
) -> gpd.GeoDataFrame:
    """One edit, worked in a metric CRS; grids it did not touch keep their exact coordinates."""
    if op not in OPS:
        raise InvalidInput("value_invalid", field="op", value=f"{op} ({'/'.join(OPS)})")
    crs = local_crs(draft if not draft.empty else _scope_communities(session, scope))
    metric = draft.to_crs(crs)
    try:
        if op == "replace":
            new = _frame(params["features"]).to_crs(crs)
            out = edits.replace_grids(
                metric, new, _scope_communities(session, scope).to_crs(crs)
            )
        elif op == "split":
            line = shapely.geometry.shape(params["line"])
            line = gpd.GeoSeries([line], crs=STORAGE_CRS).to_crs(crs).iloc[0]
            halves = tuple(tuple(pair) for pair in params["new"])
            out = edits.split_grid(metric, params["grid"], line, new=halves)  # type: ignore[arg-type]
        elif op == "merge":
            out = edits.merge_grids(
                metric, params["grids"], code=params["code"], name=params["name"]
            )
        elif op == "move":
            outline = shapely.union_all(draft.geometry.to_numpy())
            buildings = link_store.buildings_frame(session, bbox=outline.bounds).to_crs(
                crs
            )
            out = edits.move_buildings(
                metric, buildings, params["buildings"], to=params["to"]
            )
        elif op == "rename":
            out = edits.rename_grid(metric, params["grid"], name=params["name"])
        else:
            out = edits.renumber_grid(metric, params["grid"], to=params["to"])
    except KeyError as exc:
        raise InvalidInput(
            "value_invalid", field=f"{op}.{exc.args[0]}", value=""
        ) from exc
    back = out.to_crs(STORAGE_CRS)
    before = {
        c: (m, g)
        for c, m, g in zip(metric["code"], metric.geometry, draft.geometry, strict=True)
    }
    same = np.array(
        [
            c in before and shapely.equals_exact(before[c][0], m, 0.0)
            for c, m in zip(out["code"], out.geometry, strict=True)
        ],
        dtype=bool,
    )
    kept = [
        before[c][1] if is_same else g
        for c, g, is_same in zip(out["code"], back.geometry, same, strict=True)
    ]
    back = back.set_geometry(gpd.GeoSeries(kept, index=back.index, crs=STORAGE_CRS))
    return edits.knit_edges(draft.geometry, back, ~same, KNIT_DEGREES)


def _plan(session: Any, plan_id: int) -> Any:
    plan = plan_store.get_plan(session, plan_id)
    if plan is None:
        raise NotFound("plan_not_found", id=plan_id)
    return plan


def _draft(session: Any, plan_id: int) -> Any:
    plan = _plan(session, plan_id)
    if plan.status != "draft":
        raise InvalidInput("plan_not_draft", id=plan_id, status=plan.status)
    return plan


def _scope_communities(
    session: Any, scope: str, as_of: datetime | None = None
) -> gpd.GeoDataFrame:
    found = area_store.areas_frame(session, codes=[scope], as_of=as_of)
    if found.empty or found["level"].iloc[0] not in ("community", "street"):
        raise NotFound("area_not_found", code=scope)
    if found["level"].iloc[0] == "community":
        return found
    return area_store.areas_frame(
        session, level="community", parent_codes=[scope], as_of=as_of
    )


def _scope_grids(
    session: Any, scope: str, as_of: datetime | None = None
) -> tuple[str, gpd.GeoDataFrame]:
    communities = _scope_communities(session, scope, as_of)
    grids = area_store.areas_frame(
        session, level="grid", parent_codes=list(communities["code"]), as_of=as_of
    )
    level = (
        "community"
        if len(communities) == 1 and communities["code"].iloc[0] == scope
        else "street"
    )
    frame = gpd.GeoDataFrame(
        grids[["code", "name", "parent_code", "valid_from"]].assign(
            valid_from=grids["valid_from"].astype(str)
        ),
        geometry=grids.geometry.to_numpy(),
        crs=STORAGE_CRS,
    )
    return level, frame


def _is_stale(plan: Any, current: gpd.GeoDataFrame) -> bool:
    """Whether a draft's base is no longer ``current``, its scope's grids now."""
    return plan.status == "draft" and _signature(current) != plan.base_signature


def _signature(grids: gpd.GeoDataFrame) -> str:
    """Names the generation a plan is based on: its grids' codes and start times."""
    text = "\n".join(
        sorted(
            f"{c}|{v}"
            for c, v in zip(grids["code"], grids.get("valid_from", []), strict=False)
        )
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _geojson(grids: gpd.GeoDataFrame) -> dict[str, Any]:
    columns = [c for c in ("code", "name", "parent_code") if c in grids.columns]
    return json.loads(
        gpd.GeoDataFrame(
            grids[columns], geometry=grids.geometry, crs=STORAGE_CRS
        ).to_json(drop_id=True)
    )


def _frame(collection: dict[str, Any]) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame.from_features(
        collection.get("features", []), crs=STORAGE_CRS
    )
    for column in ("code", "name", "parent_code"):
        if column not in frame.columns:
            frame[column] = None
    return frame[["code", "name", "parent_code", "geometry"]]


def _spatial_findings(
    communities: gpd.GeoDataFrame,
    grids: gpd.GeoDataFrame,
    crs: Any,
    options: CoverageOptions,
) -> dict[str, RuleArea]:
    areas = pd.concat(
        [
            communities[["code", "geometry"]].assign(
                level="community", parent_code=None
            ),
            grids[["code", "parent_code", "geometry"]].assign(level="grid"),
        ],
        ignore_index=True,
    )
    areas = gpd.GeoDataFrame(areas, geometry="geometry", crs=STORAGE_CRS).to_crs(crs)
    findings = check_areas(areas, options=options)
    out = {}
    for rule in SPATIAL_RULES:
        rows = findings[findings["rule"] == rule]
        out[rule] = RuleArea(
            count=len(rows),
            area_m2=round(float(rows.geometry.area.sum()), 1) if len(rows) else 0.0,
        )
    return out
