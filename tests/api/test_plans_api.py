"""``/plans`` over HTTP: planners draft, edit, compare and publish; admins roll back."""

import pandas as pd
import pytest
from fastapi.testclient import TestClient

import geopandas as gpd
import shapely

from geogrid.services import planning
from geogrid.store.engine import Bind
from tests.api.conftest import login
from tests.conftest import SAMPLE
from tests.plans import COMMUNITY, GRID, NEW, grids_collection, split_line
from tests.plans import current_grids as _grids


@pytest.fixture
def planner(api: TestClient) -> dict[str, str]:
    return login(api, "wang", "plan-pass1")


def _new(api: TestClient, headers: dict[str, str]) -> dict:
    response = api.post("/plans", json={"scope": COMMUNITY}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _split_body(bind: Bind, plan_id: int) -> dict:
    line = split_line(planning.plan_state(bind, plan_id), GRID)
    return {
        "op": "split",
        "params": {
            "grid": GRID,
            "line": line,
            "new": [[GRID, "东街社区第1网格"], [NEW, "东街社区第8网格"]],
        },
    }


def _codes(summary: dict) -> list[str]:
    return sorted(f["properties"]["code"] for f in summary["grids"]["features"])


def test_plans_are_for_planners(api: TestClient) -> None:
    staff = login(api, "li", "staff-pass")

    for headers in ({}, staff):
        assert api.get("/plans", headers=headers).status_code == 403
        refused = api.post("/plans", json={"scope": COMMUNITY}, headers=headers)
        assert refused.status_code == 403
        assert refused.json()["code"] == "forbidden"
    admin = login(api, "admin", "sesame-root-9")
    assert api.get("/plans", headers=admin).status_code == 200


def test_a_planner_splits_publishes_and_rebases_a_stale_plan(
    api: TestClient, planner: dict[str, str], sample_copy: Bind
) -> None:
    first, second = _new(api, planner), _new(api, planner)
    renamed = api.post(
        f"/plans/{second['id']}/edits",
        json={"op": "rename", "params": {"grid": "620899001001003", "name": "三网格"}},
        headers=planner,
    )
    split = api.post(
        f"/plans/{first['id']}/edits",
        json=_split_body(sample_copy, first["id"]),
        headers=planner,
    )
    diff = api.get(f"/plans/{first['id']}/diff", headers=planner)
    published = api.post(f"/plans/{first['id']}/publish", headers=planner)
    stale = api.post(f"/plans/{second['id']}/publish", headers=planner)

    assert first["created_by"] == "wang"
    assert len(first["grids"]["features"]) == 7
    assert renamed.status_code == 200
    assert split.status_code == 200, split.text
    assert NEW in _codes(split.json())
    assert [s["op"] for s in split.json()["steps"]] == ["base", "split"]
    assert diff.status_code == 200
    impact = diff.json()
    assert impact["grids"] == {"added": [NEW], "removed": [], "changed": [GRID]}
    assert {m["to"] for m in impact["moves"]} == {NEW}
    assert impact["coverage"]["introduced"] == []
    assert impact["band"]["outside_after"]
    assert published.status_code == 200, published.text
    assert published.json()["moves"] == len(impact["moves"])
    assert NEW in _grids(sample_copy)
    assert stale.status_code == 409  # the draft, not the request, must change
    assert stale.json()["code"] == "plan_stale"
    assert "rebase" in stale.json()["detail"]
    assert api.get(f"/plans/{second['id']}", headers=planner).json()["is_stale"]
    rebased = api.post(f"/plans/{second['id']}/rebase", headers=planner)
    assert rebased.status_code == 200
    assert NEW in _codes(rebased.json())
    assert not rebased.json()["is_stale"]
    again = api.post(f"/plans/{second['id']}/publish", headers=planner)
    assert again.status_code == 200, again.text
    listed = api.get("/plans", params={"scope": COMMUNITY}, headers=planner).json()
    assert {p["status"] for p in listed["items"]} == {"published"}


def test_undo_and_discard(
    api: TestClient, planner: dict[str, str], sample_copy: Bind
) -> None:
    plan = _new(api, planner)
    url = f"/plans/{plan['id']}"
    api.post(f"{url}/edits", json=_split_body(sample_copy, plan["id"]), headers=planner)

    undone = api.post(f"{url}/undo", headers=planner)
    nothing = api.post(f"{url}/undo", headers=planner)
    discarded = api.delete(url, headers=planner)

    assert undone.status_code == 200
    assert _codes(undone.json()) == _codes(plan)
    assert nothing.status_code == 422
    assert nothing.json()["code"] == "plan_nothing_to_undo"
    assert discarded.status_code == 204
    assert api.get(url, headers=planner).json()["status"] == "discarded"
    late = api.post(f"{url}/undo", headers=planner)
    assert late.json()["code"] == "plan_not_draft"


def test_a_replacement_that_adds_an_overlap_is_not_published(
    api: TestClient, planner: dict[str, str]
) -> None:
    plan = _new(api, planner)
    grids = gpd.GeoDataFrame.from_features(plan["grids"]["features"], crs=4326)
    chosen = grids["code"] == GRID
    grids.loc[chosen, "geometry"] = shapely.buffer(
        grids[chosen].geometry.to_numpy(), 0.001
    )
    features = grids_collection(grids)

    replaced = api.post(
        f"/plans/{plan['id']}/edits",
        json={"op": "replace", "params": {"features": features}},
        headers=planner,
    )
    refused = api.post(f"/plans/{plan['id']}/publish", headers=planner)

    assert replaced.status_code == 200, replaced.text
    assert refused.status_code == 422
    assert refused.json()["code"] == "plan_adds_defects"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"op": "split", "params": {"grid": GRID, "new": [["a", "b"], ["c", "d"]]}},
         "line"),
        ({"op": "rename", "params": {"grid": GRID, "name": ""}}, "name"),
        ({"op": "split", "params": {"grid": GRID, "new": [["a", "b"], ["c", "d"]],
          "line": {"type": "LineString", "coordinates": [[500000, 3900000],
                                                          [500100, 3900000]]}}},
         "line"),
        ({"op": "explode", "params": {}}, "op"),
    ],
    ids=["line-missing", "name-empty", "line-not-lon-lat", "op-unknown"],
)  # fmt: skip
def test_a_bad_edit_is_422_naming_the_field(
    api: TestClient, planner: dict[str, str], body: dict, field: str
) -> None:
    plan = _new(api, planner)

    response = api.post(f"/plans/{plan['id']}/edits", json=body, headers=planner)

    assert response.status_code == 422
    assert response.json()["code"] == "parameter_invalid"
    named = [f"{e['parameter']} {e['message']}" for e in response.json()["errors"]]
    assert any(field in text for text in named), named


def test_the_diff_map_and_the_notice(
    api: TestClient, planner: dict[str, str], sample_copy: Bind
) -> None:
    plan = _new(api, planner)
    url = f"/plans/{plan['id']}"
    api.post(f"{url}/edits", json=_split_body(sample_copy, plan["id"]), headers=planner)

    page = api.get(f"{url}/map.html", headers=planner)
    notice = api.get(f"{url}/notice.csv", headers=planner)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "网格调整方案对比图" in page.text
    assert api.get(f"{url}/static/leaflet/leaflet.js").status_code == 200
    assert notice.status_code == 200
    assert notice.headers["content-type"].startswith("text/csv")
    assert "东街社区第8网格" in notice.content.decode("utf-8-sig")
    assert api.get("/plans/999/map.html", headers=planner).status_code == 404


def test_a_planner_reads_no_private_phone_in_the_impact(
    api: TestClient, planner: dict[str, str]
) -> None:
    plan = _new(api, planner)
    grids = gpd.GeoDataFrame.from_features(plan["grids"]["features"], crs=4326)
    shapes = grids.set_index("code").geometry
    a, b = next(
        (x, y)
        for x in shapes.index
        for y in shapes.index
        if x < y and shapes[x].buffer(1e-7).intersection(shapes[y]).area > 0
    )
    url = f"/plans/{plan['id']}"
    merge = {"op": "merge", "params": {"grids": [a, b], "code": a, "name": "合并"}}
    assert api.post(f"{url}/edits", json=merge, headers=planner).status_code == 200

    bodies = [
        api.get(f"{url}/{part}", headers=planner).text
        for part in ("diff", "map.html", "notice.csv")
    ]

    people = pd.read_csv(SAMPLE / "people.csv", dtype=str)
    private = set(people.loc[people["phone_public"] == "false", "phone"]) - set(
        people.loc[people["phone_public"] == "true", "phone"]
    )
    assert a in bodies[2]  # the notice names the grid its buildings join
    for body in bodies:
        assert not [p for p in private if p in body]


def test_only_admins_roll_back(
    api: TestClient, planner: dict[str, str], sample_copy: Bind
) -> None:
    plan = _new(api, planner)
    before = plan["steps"][0]["at"]
    url = f"/plans/{plan['id']}"
    api.post(f"{url}/edits", json=_split_body(sample_copy, plan["id"]), headers=planner)
    api.post(f"{url}/publish", headers=planner)
    body = {"scope": COMMUNITY, "to": before}

    refused = api.post("/plans/rollback", json=body, headers=planner)
    admin = login(api, "admin", "sesame-root-9")
    done = api.post("/plans/rollback", json=body, headers=admin)

    assert refused.status_code == 403
    assert done.status_code == 200, done.text
    assert NEW not in _grids(sample_copy)
