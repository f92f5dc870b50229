"""Plans: edits on a draft, impact before publishing, publish, stale drafts, rebase, rollback."""

import pytest

import shapely
from shapely.geometry import mapping

from geogrid.errors import InvalidInput, Outdated
from geogrid.services import planning
from geogrid.services.assignment import AssignOptions
from geogrid.spatial.crs import local_crs
from geogrid.store import links as link_store
from geogrid.store.batches import utcnow
from geogrid.store.engine import Bind, session_scope
from tests.plans import COMMUNITY, GRID, NEW, OPTIONS, grids_collection, split_line
from tests.plans import current_grids as _grids


def _split(bind: Bind, plan: planning.PlanState) -> planning.PlanState:
    return planning.edit(
        bind,
        plan.id,
        "split",
        {
            "grid": GRID,
            "line": split_line(plan, GRID),
            "new": [[GRID, "东街社区第1网格"], [NEW, "东街社区第8网格"]],
        },
        author="wang",
    )


def test_a_draft_never_touches_published_grids_and_undoes(sample_copy: Bind) -> None:
    plan = planning.new_plan(sample_copy, COMMUNITY, author="wang")
    split = _split(sample_copy, plan)

    assert len(plan.grids) == 7
    assert sorted(split.grids["code"]) == sorted([*plan.grids["code"], NEW])
    assert _grids(sample_copy) == sorted(plan.grids["code"])  # published: unchanged
    assert [s.op for s in split.steps] == ["base", "split"]
    assert split.steps[-1].author == "wang"
    undone = planning.undo(sample_copy, plan.id, author="wang")
    assert sorted(undone.grids["code"]) == sorted(plan.grids["code"])
    with pytest.raises(InvalidInput) as nothing:
        planning.undo(sample_copy, plan.id, author="wang")
    assert nothing.value.code == "plan_nothing_to_undo"


def test_the_diff_names_what_moves_and_who_is_affected(sample_copy: Bind) -> None:
    plan = _split(sample_copy, planning.new_plan(sample_copy, COMMUNITY, author="wang"))

    impact = planning.diff(sample_copy, plan.id, **OPTIONS)

    grids = impact.grids
    assert (grids.added, grids.removed, grids.changed) == ([NEW], [], [GRID])
    assert impact.moves
    assert {m.from_grid for m in impact.moves} == {GRID}
    assert {m.to_grid for m in impact.moves} == {NEW}
    before, after = impact.households.before, impact.households.after
    moved = sum(m.households for m in impact.moves)
    assert after[NEW] == moved
    assert after[GRID] == before[GRID] - moved
    missing = {(m.grid, m.title) for m in impact.people.new_grids_missing}
    assert (NEW, "网格长") in missing
    assert impact.people.building_changed_grid  # their 楼栋长 now answer to grid 8
    assert impact.coverage.introduced == []


def test_merge_and_rename_and_bad_edits_named(sample_copy: Bind) -> None:
    plan = planning.new_plan(sample_copy, COMMUNITY, author="wang")
    grids = plan.grids.set_index("code").geometry
    a, b = next(
        (x, y)
        for x in grids.index
        for y in grids.index
        if x < y and grids[x].buffer(1e-7).intersection(grids[y]).area > 0
    )

    merged = planning.edit(
        sample_copy,
        plan.id,
        "merge",
        {"grids": [a, b], "code": a, "name": "合并网格"},
        author="wang",
    )
    renamed = planning.edit(
        sample_copy, plan.id, "rename", {"grid": a, "name": "新名字"}, author="wang"
    )

    assert len(merged.grids) == 6
    assert merged.grids.set_index("code").geometry[a].geom_type == "Polygon"
    assert renamed.grids.set_index("code").at[a, "name"] == "新名字"
    with pytest.raises(InvalidInput) as bad:
        planning.edit(
            sample_copy,
            plan.id,
            "split",
            {
                "grid": a,
                "line": mapping(shapely.LineString([(0, 0), (1, 1)])),
                "new": [[a, "x"], ["Z", "y"]],
            },
            author="wang",
        )
    assert bad.value.code == "plan_split_line"


def test_moving_buildings_reshapes_the_boundary(sample_copy: Bind) -> None:
    plan = planning.new_plan(sample_copy, COMMUNITY, author="wang")
    grids = plan.grids.set_index("code").geometry
    with session_scope(sample_copy) as session:
        buildings = link_store.buildings_frame(
            session, bbox=shapely.union_all(grids.to_numpy()).bounds
        )
    neighbour = next(
        c
        for c in grids.index
        if c != GRID and grids[c].buffer(1e-7).intersects(grids[GRID])
    )
    # The building nearest the shared edge: its land (Voronoi cell) borders grid 1.
    crs = local_crs(plan.grids)
    metric = plan.grids.to_crs(crs).set_index("code").geometry
    edge = shapely.intersection(metric[GRID].boundary, metric[neighbour].boundary)
    ours = buildings[buildings["grid_code"] == neighbour].to_crs(crs)
    points = shapely.point_on_surface(ours.geometry.to_numpy())
    nearest = ours["code"].iloc[int(shapely.distance(points, edge).argmin())]

    moved = planning.edit(
        sample_copy,
        plan.id,
        "move",
        {"buildings": [nearest], "to": GRID},
        author="wang",
    )
    impact = planning.diff(sample_copy, plan.id, **OPTIONS)

    assert [(m.building, m.from_grid, m.to_grid) for m in impact.moves] == [
        (nearest, neighbour, GRID)
    ]
    assert moved.grids.set_index("code").geometry[GRID].geom_type == "Polygon"
    assert impact.coverage.introduced == []


def test_publish_makes_a_generation_and_a_stale_draft_is_refused(
    sample_copy: Bind,
) -> None:
    first = _split(
        sample_copy, planning.new_plan(sample_copy, COMMUNITY, author="wang")
    )
    second = planning.new_plan(sample_copy, COMMUNITY, author="li")
    second = planning.edit(
        sample_copy,
        second.id,
        "rename",
        {"grid": "620899001001003", "name": "三网格"},
        author="li",
    )
    before = utcnow()

    published = planning.publish(sample_copy, first.id, author="wang", **OPTIONS)

    assert NEW in _grids(sample_copy)
    assert NEW not in _grids(sample_copy, as_of=before)  # the old generation stays
    assert published.moves > 0
    with session_scope(sample_copy) as session:
        links = link_store.buildings_frame(session)
    assert (links["grid_code"] == NEW).sum() == published.moves  # re-linked
    with pytest.raises(Outdated) as stale:
        planning.publish(sample_copy, second.id, author="li", **OPTIONS)
    assert stale.value.code == "plan_stale"
    rebased = planning.rebase(sample_copy, second.id, author="li")
    assert not rebased.is_stale
    assert NEW in set(rebased.grids["code"])  # built on the new generation
    planning.publish(sample_copy, second.id, author="li", **OPTIONS)
    assert NEW in _grids(sample_copy)
    second_published = utcnow()

    planning.rollback(
        sample_copy, COMMUNITY, to=before, assign=AssignOptions(), author="admin"
    )
    assert NEW not in _grids(sample_copy)
    assert NEW in _grids(sample_copy, as_of=second_published)  # still queryable


def test_a_plan_that_adds_an_overlap_is_not_published(sample_copy: Bind) -> None:
    plan = planning.new_plan(sample_copy, COMMUNITY, author="wang")
    grids = plan.grids.copy()
    chosen = grids["code"] == GRID
    grids.loc[chosen, "geometry"] = shapely.buffer(
        grids[chosen].geometry.to_numpy(), 0.001
    )
    collection = grids_collection(grids)
    planning.edit(
        sample_copy, plan.id, "replace", {"features": collection}, author="wang"
    )

    with pytest.raises(InvalidInput) as refused:
        planning.publish(sample_copy, plan.id, author="wang", **OPTIONS)
    assert refused.value.code == "plan_adds_defects"
    assert "overlap" in refused.value.params["rules"]


def test_the_same_outline_as_a_polygon_is_not_a_change(sample_copy: Bind) -> None:
    plan = planning.new_plan(sample_copy, COMMUNITY, author="wang")
    polygons = plan.grids.assign(  # Multi → Polygon: the same outline, stored otherwise
        geometry=[shapely.get_parts(g)[0] for g in plan.grids.geometry]
    )
    collection = grids_collection(polygons)
    planning.edit(
        sample_copy, plan.id, "replace", {"features": collection}, author="wang"
    )

    impact = planning.diff(sample_copy, plan.id, **OPTIONS)

    grids = impact.grids
    assert (grids.added, grids.removed, grids.changed) == ([], [], [])
    assert impact.moves == []


@pytest.mark.slow
@pytest.mark.parametrize("number", range(1, 8))
def test_a_split_of_any_grid_keeps_topology_and_plan_check_foresees_the_check(
    sample_copy: Bind, number: int
) -> None:
    from geogrid.services.coverage import run_check

    code = f"{COMMUNITY}{number:03d}"
    plan = planning.new_plan(sample_copy, COMMUNITY, author="wang")
    planning.edit(
        sample_copy,
        plan.id,
        "split",
        {
            "grid": code,
            "line": split_line(plan, code),
            "new": [[code, "北半"], [f"{COMMUNITY}020", "南半"]],
        },
        author="wang",
    )
    foreseen = planning.diff(sample_copy, plan.id, **OPTIONS).findings
    before = run_check(sample_copy, OPTIONS["check"], store=False).findings
    planning.publish(sample_copy, plan.id, author="wang", **OPTIONS)
    after = run_check(sample_copy, OPTIONS["check"], store=False).findings

    def keyed(found) -> set[tuple[str, tuple[str, ...]]]:
        mine = found[found["community_code"] == COMMUNITY]
        return {(f.rule, tuple(f.codes)) for f in mine.itertuples()}

    # The split line meets the untouched neighbours' edges: they take in its
    # vertex, so no edge_mismatch and no sliver appear between them.
    assert not {r for r, _ in keyed(after) - keyed(before)} & {
        "edge_mismatch",
        "sliver",
        "gap",
        "overlap",
    }
    # plan check showed exactly what geogrid check reports once published.
    added = {(f.rule, tuple(f.codes)) for f in foreseen.added}
    removed = {(f.rule, tuple(f.codes)) for f in foreseen.removed}
    assert added == keyed(after) - keyed(before)
    assert removed == keyed(before) - keyed(after)
    assert foreseen.after == {
        rule: int(n)
        for rule, n in after[after["community_code"] == COMMUNITY]
        .groupby("rule")
        .size()
        .items()
    }


def _nearest_to_edge(bind: Bind, source: str, target: str, *, far: bool = False):
    """The building of ``source`` nearest (or farthest from) its edge with ``target``."""
    plan = planning.new_plan(bind, COMMUNITY, author="wang")
    crs = local_crs(plan.grids)
    grids = plan.grids.to_crs(crs).set_index("code").geometry
    with session_scope(bind) as session:
        buildings = link_store.buildings_frame(
            session, bbox=shapely.union_all(plan.grids.geometry.to_numpy()).bounds
        )
    ours = buildings[buildings["grid_code"] == source].to_crs(crs)
    edge = shapely.intersection(grids[source].boundary, grids[target].boundary)
    distance = shapely.distance(ours.geometry.to_numpy(), edge)
    pick = distance.argmax() if far else distance.argmin()
    return plan, ours["code"].iloc[int(pick)]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("source", "target"),
    [("002", "003"), ("003", "001"), ("005", "007"), ("004", "006")],
)
def test_moving_the_building_nearest_an_edge_keeps_topology(
    sample_copy: Bind, source: str, target: str
) -> None:
    # The case: 005 → 007 of the building 8 m from their edge was
    # refused as not contiguous, as were three of four such moves.
    from geogrid.services.coverage import run_check

    source, target = COMMUNITY + source, COMMUNITY + target
    plan, building = _nearest_to_edge(sample_copy, source, target)

    planning.edit(
        sample_copy,
        plan.id,
        "move",
        {"buildings": [building], "to": target},
        author="wang",
    )
    impact = planning.diff(sample_copy, plan.id, **OPTIONS)
    assert [(m.building, m.from_grid, m.to_grid) for m in impact.moves] == [
        (building, source, target)
    ]
    before = run_check(sample_copy, OPTIONS["check"], store=False).findings
    planning.publish(sample_copy, plan.id, author="wang", **OPTIONS)
    after = run_check(sample_copy, OPTIONS["check"], store=False).findings

    def keyed(found) -> set[tuple[str, tuple[str, ...]]]:
        return {(f.rule, tuple(f.codes)) for f in found.itertuples()}

    added = keyed(after) - keyed(before)
    assert not {rule for rule, _ in added} & {
        "edge_mismatch",
        "sliver",
        "gap",
        "overlap",
        "building_split",  # the edge runs between buildings, never through one
    }
    assert added == {(f.rule, tuple(f.codes)) for f in impact.findings.added}


def test_a_move_whose_land_does_not_reach_the_grid_names_the_building(
    sample_copy: Bind,
) -> None:
    source, target = COMMUNITY + "005", COMMUNITY + "007"
    plan, far = _nearest_to_edge(sample_copy, source, target, far=True)

    with pytest.raises(InvalidInput) as refused:
        planning.edit(
            sample_copy, plan.id, "move", {"buildings": [far], "to": target}, author="w"
        )

    assert refused.value.code == "plan_move_not_adjacent"
    assert refused.value.params["building"] == far
    assert refused.value.params["distance_m"] > 50
    assert refused.value.params["bridge"].startswith(COMMUNITY)
