"""The coverage check on the sample county: every seeded defect, and nothing else."""

import json

import pandas as pd
import pytest

import geopandas as gpd

from geogrid.errors import NotFound
from geogrid.services.coverage import (
    CheckOptions,
    _load,
    accept_finding,
    current_report,
    public_view,
    revoke_finding,
    run_check,
)
from geogrid.store.engine import Bind, session_scope
from tests.conftest import SAMPLE

DEFECTS = json.loads((SAMPLE / "defects.json").read_text(encoding="utf-8"))["defects"]


def _seeded() -> set[tuple[str, tuple[str, ...]]]:
    """The findings the seeded defects must produce: (rule, codes)."""
    expected: set[tuple[str, tuple[str, ...]]] = set()
    for d in DEFECTS:
        codes = tuple(d["codes"])
        match d["kind"]:
            case "gap":
                expected.add(("gap", tuple(sorted(codes))))
            case "overlap":
                expected.add(("overlap", tuple(sorted(codes))))
            case "building_outside_grids":
                expected.add(("building_no_grid", codes))
            case "vacant_role":
                expected |= {("role_vacant", (code,)) for code in codes}
            case "overloaded_grid":
                expected.add(("grid_overloaded", codes))
            case "service_radius":
                expected.add(("service_radius", (d["community"], *codes)))
    return expected


def _found(result) -> set[tuple[str, tuple[str, ...]]]:
    return {
        (r, tuple(c))
        for r, c in zip(result.findings["rule"], result.findings["codes"], strict=True)
    }


def test_sample_check_finds_every_seeded_defect_and_nothing_else(
    sample_db: Bind,
) -> None:
    result = run_check(sample_db, CheckOptions(), store=False)

    found = _found(result)
    # The stray building's own addresses are unassigned because of that same defect.
    stray = next(
        d["codes"][0] for d in DEFECTS if d["kind"] == "building_outside_grids"
    )
    consequences = {
        f for f in found if f[0] == "address_unassigned" and f[1][0] == stray
    }
    assert len(consequences) == 1
    assert found - consequences == _seeded()
    assert result.has_errors


def test_findings_carry_their_measures_and_communities(sample_db: Bind) -> None:
    result = run_check(sample_db, CheckOptions(), store=False)
    f = result.findings.set_index("rule")

    gap = next(d for d in DEFECTS if d["kind"] == "gap")
    assert f.loc["gap", "measure"]["area_m2"] == pytest.approx(gap["area_m2"], rel=0.05)
    assert f.loc["gap", "community_code"] == gap["community"]
    overloaded = next(d for d in DEFECTS if d["kind"] == "overloaded_grid")
    assert f.loc["grid_overloaded", "measure"]["households"] == overloaded["households"]
    hole = next(d for d in DEFECTS if d["kind"] == "service_radius")
    assert (
        f.loc["service_radius", "measure"]["households_uncovered"] == hole["households"]
    )
    assert result.summary.by_rule["role_vacant"] == 6


def test_check_of_one_community_keeps_only_its_findings(sample_db: Bind) -> None:
    result = run_check(sample_db, CheckOptions(), community="620899001006", store=False)

    assert set(result.findings["community_code"]) == {"620899001006"}
    assert {"gap", "building_no_grid"} <= set(result.findings["rule"])


def _comparable(findings: pd.DataFrame) -> pd.DataFrame:
    table = pd.DataFrame(findings.drop(columns="geometry"))
    table["codes"] = table["codes"].map(tuple)
    table["measure"] = table["measure"].map(lambda m: json.dumps(m, sort_keys=True))
    return table.sort_values("key").reset_index(drop=True)


def test_a_community_read_alone_gives_the_full_runs_findings(sample_db: Bind) -> None:
    """Scoped loading reads one community's surroundings, and misses nothing of it."""
    full = run_check(sample_db, CheckOptions(), store=False)
    communities = sorted(set(full.findings["community_code"].dropna()))
    assert len(communities) >= 6

    for code in communities:
        alone = run_check(sample_db, CheckOptions(), community=code, store=False)
        expected = full.findings[full.findings["community_code"] == code]
        pd.testing.assert_frame_equal(
            _comparable(alone.findings), _comparable(expected)
        )
        assert alone.summary.service == [
            s for s in full.summary.service if s.community_code == code
        ]


def test_a_community_reads_its_surroundings_not_the_county(sample_db: Bind) -> None:
    with session_scope(sample_db) as session:
        county = _load(session, CheckOptions())
        one = _load(session, CheckOptions(), communities=["620899001006"])

    for layer in ("buildings", "addresses"):
        assert 0 < len(one[layer]) < len(county[layer]) / 2


def test_unknown_community_is_not_found(sample_db: Bind) -> None:
    with pytest.raises(NotFound):
        run_check(sample_db, CheckOptions(), community="620899001099", store=False)


def test_accepted_finding_stops_counting_until_it_changes(sample_copy: Bind) -> None:
    first = run_check(sample_copy, CheckOptions())
    overlap = first.findings[first.findings["rule"] == "overlap"].iloc[0]

    accept_finding(
        sample_copy, overlap["key"], reason="两社区协商共管", accepted_by="规划科"
    )
    second = run_check(sample_copy, CheckOptions())

    accepted = second.findings[second.findings["is_accepted"]]
    assert accepted["key"].tolist() == [overlap["key"]]
    assert second.summary.n_errors == first.summary.n_errors - 1
    assert second.summary.n_accepted == 1
    assert second.compared == {
        "previous_report": [str(first.report_id)],
        "fixed": [],
        "new": [],
    }
    revoke_finding(sample_copy, overlap["key"])
    assert run_check(sample_copy, CheckOptions(), store=False).summary.n_accepted == 0


def test_accepting_an_unknown_key_is_not_found(sample_copy: Bind) -> None:
    run_check(sample_copy, CheckOptions())

    with pytest.raises(NotFound):
        accept_finding(sample_copy, "0000000000000000", reason="x", accepted_by="y")


def test_stored_report_is_served_until_the_data_changes(sample_copy: Bind) -> None:
    stored = run_check(sample_copy, CheckOptions())

    again = current_report(sample_copy, CheckOptions())

    assert again.report_id == stored.report_id
    assert set(again.findings["key"]) == set(stored.findings["key"])


def test_public_view_names_no_people_and_no_addresses(sample_db: Bind) -> None:
    result = public_view(run_check(sample_db, CheckOptions(max_targets=1), store=False))

    assert "person_overloaded" not in set(result.findings["rule"])
    unassigned = result.findings[result.findings["rule"] == "address_unassigned"]
    assert all(len(codes) <= 1 for codes in unassigned["codes"])
    assert "person_overloaded" not in result.summary.by_rule


def test_address_far_from_every_building_is_listed_with_its_distance(
    sample_copy: Bind, tmp_path
) -> None:
    import geopandas as gpd

    from geogrid.services.imports import ImportOptions, import_features
    from geogrid.store import areas as area_store
    from geogrid.store import links as link_store
    from geogrid.store.engine import session_scope

    code = "620899001001001"
    with session_scope(sample_copy) as session:
        grid = area_store.areas_frame(session, level="grid", codes=[code])
        buildings = link_store.buildings_frame(session)
    metric = grid.estimate_utm_crs()
    outline = grid.to_crs(metric).geometry.iloc[0]
    # A door point in the grid but 40 m or more from every building.
    free = outline.buffer(-5).difference(
        buildings.to_crs(metric).buffer(40).union_all()
    )
    spot = gpd.GeoSeries([free.representative_point()], crs=metric).to_crs(4326)[0]
    (tmp_path / "far.csv").write_text(
        f"code,text,lon,lat\nFAR-1,东大街999号,{spot.x},{spot.y}\n", encoding="utf-8"
    )
    import_features(
        sample_copy,
        tmp_path / "far.csv",
        layer="addresses",
        options=ImportOptions(crs="EPSG:4326"),
    )

    result = run_check(sample_copy, CheckOptions(), store=False)

    far = result.findings[result.findings["rule"] == "address_far_from_building"]
    assert [tuple(c) for c in far["codes"]] == [("FAR-1",)]
    assert far["measure"].iloc[0]["distance_m"] >= 40
    assert far["community_code"].iloc[0] == code[:12]
    # A warning: the address has its grid, a planner should still look at it.
    assert far["severity"].iloc[0] == "warning"


def _stored(db: Bind, report_id: int) -> pd.DataFrame:
    from geogrid.store import coverage as coverage_store

    with session_scope(db) as session:
        frame = coverage_store.report_findings(session, report_id)
    frame["wkb"] = frame.geometry.to_wkb()
    frame["measure"] = frame["measure"].map(lambda m: json.dumps(m, sort_keys=True))
    columns = ["key", "rule", "severity", "codes", "measure", "is_accepted", "wkb"]
    return pd.DataFrame(frame[columns]).sort_values("key").reset_index(drop=True)


def _n_stored(db: Bind) -> int:
    from sqlalchemy import text

    with session_scope(db) as session:
        return int(session.scalar(text("SELECT count(*) FROM coverage_finding")))


def _row_ids(db: Bind) -> set[int]:
    from sqlalchemy import text

    with session_scope(db) as session:
        return set(session.scalars(text("SELECT id FROM coverage_finding")))


def _assert_stored_as_a_fresh_run(db: Bind, report_id: int) -> None:
    stored = _stored(db, report_id)
    fresh = run_check(db, CheckOptions(), store=False).findings
    expected = fresh.assign(
        wkb=fresh.geometry.to_wkb(),
        codes=fresh["codes"].map(tuple),
        measure=fresh["measure"].map(lambda m: json.dumps(m, sort_keys=True)),
    )[stored.columns]
    expected = expected.sort_values("key").reset_index(drop=True)
    pd.testing.assert_frame_equal(stored, pd.DataFrame(expected), check_dtype=False)


def test_a_new_report_hands_over_what_is_unchanged_and_the_table_does_not_grow(
    sample_copy: Bind,
) -> None:
    """Each run stored every finding again: a city's table grew by 217,000 rows a run."""
    first = run_check(sample_copy, CheckOptions())
    n_first = _n_stored(sample_copy)
    overlap = first.findings[first.findings["rule"] == "overlap"].iloc[0]
    accept_finding(sample_copy, overlap["key"], reason="共管", accepted_by="规划科")

    second = run_check(sample_copy, CheckOptions())
    assert second.report_id is not None
    _assert_stored_as_a_fresh_run(sample_copy, second.report_id)
    assert _stored(sample_copy, second.report_id)["is_accepted"].sum() == 1
    ids = _row_ids(sample_copy)
    third = run_check(sample_copy, CheckOptions())
    assert third.report_id is not None
    _assert_stored_as_a_fresh_run(sample_copy, third.report_id)

    assert _row_ids(sample_copy) == ids  # nothing changed: nothing rewritten
    assert _n_stored(sample_copy) == n_first
    assert _stored(sample_copy, second.report_id).empty  # only the newest is read


def test_a_finding_at_its_target_is_stored_by_reference_and_read_at_its_outline(
    sample_copy: Bind,
) -> None:
    """A city's 200,000 role vacancies each stored a copy of a building's outline."""
    from sqlalchemy import text

    result = run_check(sample_copy, CheckOptions())
    assert result.report_id is not None
    vacant = result.findings[result.findings["rule"] == "role_vacant"]
    assert len(vacant)
    assert vacant.geometry.notna().all()

    with session_scope(sample_copy) as session:
        copies = session.scalar(
            text(
                "SELECT count(*) FROM coverage_finding"
                " WHERE rule = 'role_vacant' AND geom IS NOT NULL"
            )
        )
    stored = _stored(sample_copy, result.report_id)

    assert copies == 0
    expected = vacant.sort_values("key").geometry.to_wkb().tolist()
    assert stored[stored["rule"] == "role_vacant"]["wkb"].tolist() == expected


def test_a_plan_preview_reads_its_communities_and_foresees_as_the_city_would(
    sample_db: Bind, monkeypatch: pytest.MonkeyPatch
) -> None:
    """check_with_grids read the whole city (twice over) for one community's plan."""
    from geogrid.services import coverage
    from geogrid.store import areas as area_store

    scope = ["620899001004"]  # vacant roles: findings before and after
    with session_scope(sample_db) as session:
        areas = area_store.areas_frame(session)
    grids = areas[(areas["level"] == "grid") & areas["parent_code"].isin(scope)]
    # The plan: the first two grids merged into one.
    first, second = grids.iloc[0], grids.iloc[1]
    planned = gpd.GeoDataFrame(
        {
            "code": [first["code"], *grids["code"].iloc[2:]],
            "name": [first["name"], *grids["name"].iloc[2:]],
            "parent_code": scope[0],
        },
        geometry=[first.geometry.union(second.geometry), *grids.geometry.iloc[2:]],
        crs=4326,
    )
    read: list[object] = []
    load = coverage._load

    def spy(session: object, options: CheckOptions, **kwargs: object) -> object:
        read.append(kwargs.get("communities"))
        return load(session, options, **kwargs)

    monkeypatch.setattr(coverage, "_load", spy)
    scoped = coverage.check_with_grids(sample_db, CheckOptions(), scope, planned)
    monkeypatch.setattr(
        coverage, "_load", lambda session, options, **_: load(session, options)
    )
    city = coverage.check_with_grids(sample_db, CheckOptions(), scope, planned)

    assert read == [scope]
    for mine, whole in ((scoped.before, city.before), (scoped.after, city.after)):
        assert len(whole)
        pd.testing.assert_frame_equal(_comparable(mine), _comparable(whole))
    assert set(scoped.removed["key"]) == set(city.removed["key"])
