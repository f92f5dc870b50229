"""The roster over HTTP: logins, street scope, ETag/If-Match, and the audit log."""

from fastapi.testclient import TestClient

from geogrid.api.deps import get_caller
from geogrid.domain.access import Caller, Role
from geogrid.services import accounts
from geogrid.store.engine import Bind
from tests.api.conftest import STREET, login
from tests.services.test_lookup import LAT, LON

GRID = "620899001001001"


def test_login_and_who_am_i(api: TestClient) -> None:
    staff = login(api, "li", "staff-pass")

    assert api.get("/auth/me").json()["role"] == "public"
    assert api.get("/auth/me", headers=staff).json() == {
        "role": "staff",
        "username": "li",
        "street": STREET,
    }
    wrong = api.post("/auth/token", data={"username": "li", "password": "nope-nope"})
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"] == "Bearer"
    assert wrong.json()["code"] == "login_failed"
    bad = api.get("/auth/me", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401


def test_api_keys_for_scripts(api: TestClient, sample_copy: Bind) -> None:
    key = accounts.create_api_key(sample_copy, "li", name="sync")

    assert api.get("/auth/me", headers={"X-API-Key": key}).json()["username"] == "li"
    assert api.get("/auth/me", headers={"X-API-Key": "ggk_wrong"}).status_code == 401


def test_only_staff_read_the_roster(api: TestClient) -> None:
    planner = login(api, "wang", "plan-pass1")

    assert api.get("/people").status_code == 403
    assert api.get("/people/P00001").status_code == 403
    assert api.get("/people", headers=planner).status_code == 403
    staff = login(api, "li", "staff-pass")
    page = api.get("/people", params={"q": "何婷"}, headers=staff).json()
    assert all("何婷" in p["name"] for p in page["items"])
    first = next(p for p in page["items"] if p["code"] == "P00001")
    assert first["phone"] == "13800009756"
    assert page["number_matched"] == len(page["items"]) > 1  # a common name


def test_staff_of_another_street_see_no_one(api: TestClient) -> None:
    api.app.dependency_overrides[get_caller] = lambda: Caller(  # type: ignore[attr-defined]
        Role.STAFF, "zhao", street="620899002000"
    )
    try:
        listed = api.get("/people")
        one = api.get("/people/P00001")
        assign = api.post(
            "/assignments",
            json={"person_code": "P00001", "role": "grid_worker", "target_code": GRID},
        )
    finally:
        api.app.dependency_overrides.clear()  # type: ignore[attr-defined]

    assert listed.json() == {"number_matched": 0, "items": []}
    assert one.status_code == 404  # not 403: nothing is learnt about other streets
    assert assign.status_code == 403


def test_a_stale_write_gets_412_and_changes_nothing(api: TestClient) -> None:
    staff = login(api, "li", "staff-pass")
    first = api.get("/people/P00001", headers=staff)
    etag = first.headers["ETag"]

    ok = api.patch(
        "/people/P00001",
        json={"organisation": "东街社区党委"},
        headers=staff | {"If-Match": etag},
    )
    stale = api.patch(
        "/people/P00001",
        json={"organisation": "过时的修改"},
        headers=staff | {"If-Match": etag},
    )
    missing = api.patch("/people/P00001", json={"name": "无版本"}, headers=staff)
    now = api.get("/people/P00001", headers=staff)

    assert ok.status_code == 200
    assert ok.headers["ETag"] != etag
    assert stale.status_code == 412
    assert stale.json()["code"] == "version_conflict"
    assert missing.status_code == 428
    assert now.json()["organisation"] == "东街社区党委"
    assert now.json()["name"] == "何婷"
    assert now.headers["ETag"] == ok.headers["ETag"]


def test_assignments_are_added_changed_and_ended(api: TestClient) -> None:
    staff = login(api, "li", "staff-pass")
    person = api.post(
        "/people",
        json={"code": "PN001", "name": "新网格员", "phone": "13900000001"},
        headers=staff,
    )
    added = api.post(
        "/assignments",
        json={"person_code": "PN001", "role": "grid_worker", "target_code": GRID},
        headers=staff,
    )
    wrong_role = api.post(
        "/assignments",
        json={
            "person_code": "PN001",
            "role": "grid_worker",
            "target_code": "620899001001-B0001",
            "target_level": "building",
        },
        headers=staff,
    )
    moved = api.patch(
        f"/assignments/{added.json()['id']}",
        json={"target_code": "620899001001002"},
        headers=staff | {"If-Match": added.headers["ETag"]},
    )
    old = api.get(f"/assignments/{added.json()['id']}", headers=staff)
    ended = api.post(
        f"/assignments/{moved.json()['id']}/end",
        headers=staff | {"If-Match": moved.headers["ETag"]},
    )
    again = api.post(
        f"/assignments/{moved.json()['id']}/end",
        headers=staff | {"If-Match": moved.headers["ETag"]},
    )

    assert person.status_code == added.status_code == 201
    assert wrong_role.status_code == 422
    assert wrong_role.json()["code"] == "target_level_wrong"
    assert moved.status_code == 200
    assert moved.json()["target_code"] == "620899001001002"
    assert old.json()["valid_to"] is not None  # history kept, not overwritten
    assert ended.status_code == 200
    assert ended.json()["valid_to"] is not None
    assert again.status_code == 412


def test_admins_read_who_changed_what(api: TestClient) -> None:
    staff = login(api, "li", "staff-pass")
    admin = login(api, "admin", "sesame-root-9")
    etag = api.get("/people/P00001", headers=staff).headers["ETag"]
    api.patch(
        "/people/P00001",
        json={"phone_public": False},
        headers=staff | {"If-Match": etag},
    )

    log = api.get("/audit", params={"target": "person:P00001"}, headers=admin)

    assert api.get("/audit", headers=staff).status_code == 403
    assert log.status_code == 200
    entry = log.json()[0]
    assert (entry["actor"], entry["action"]) == ("li", "person.update")
    assert entry["before"]["visibility"]["phone"] == "public"
    assert entry["after"]["visibility"]["phone"] == "private"


def test_an_edit_reaches_the_public_lookup_at_once(api: TestClient) -> None:
    staff = login(api, "li", "staff-pass")
    before = api.get("/lookup", params={"lon": LON, "lat": LAT}).json()
    etag = api.get("/people/P00001", headers=staff).headers["ETag"]
    api.patch(
        "/people/P00001",
        json={"phone_public": False},
        headers=staff | {"If-Match": etag},
    )
    after = api.get("/lookup", params={"lon": LON, "lat": LAT}).json()

    def grid_head_phone(answer: dict) -> str:
        grid = next(level for level in answer["chain"] if level["level"] == "grid")
        return next(h for h in grid["holders"] if h["role"] == "grid_head")["phone"]

    assert grid_head_phone(before) == "13800009756"
    assert grid_head_phone(after) == "138****9756"


def test_schemes_are_public_and_only_admins_store_them(api: TestClient) -> None:
    from geogrid.domain.roles import load_preset

    admin = login(api, "admin", "sesame-root-9")
    staff = login(api, "li", "staff-pass")
    names = {s["name"] for s in api.get("/schemes").json()}
    one = api.get("/schemes/三长")
    definition = load_preset("三长").model_dump(mode="json") | {"name": "浦城三长"}

    refused = api.put("/schemes", json=definition, headers=staff)
    stored = api.put("/schemes", json=definition, headers=admin)
    broken = api.put("/schemes", json={"name": "坏方案", "roles": "x"}, headers=admin)

    assert {"三长三员一民警", "三长", "五级网格"} <= names
    assert [r["title"] for r in one.json()["roles"]][:1] == ["片区长"]
    assert api.get("/schemes/没有这个").status_code == 404
    assert refused.status_code == 403
    assert stored.status_code == 200
    assert broken.status_code == 422
    active = [s for s in api.get("/schemes").json() if s["active"]]
    assert [s["name"] for s in active] == ["浦城三长"]


def test_assignments_list_by_target(api: TestClient) -> None:
    staff = login(api, "li", "staff-pass")

    page = api.get("/assignments", params={"target_code": GRID}, headers=staff).json()

    roles = {a["role"] for a in page["items"]}
    assert {"grid_head", "grid_worker", "police"} <= roles
    assert api.get("/assignments").status_code == 403


def test_a_write_is_seen_by_the_very_next_lookup(api: TestClient) -> None:
    # Only the write's own signal may refresh the lookups here: their periodic
    # check of the data version is pushed an hour away.
    api.app.state.lookup.recheck_s = 3600  # type: ignore[attr-defined]
    staff = login(api, "li", "staff-pass")
    api.get("/lookup", params={"lon": LON, "lat": LAT}, headers=staff)
    held = api.get("/assignments", params={"target_code": GRID}, headers=staff).json()[
        "items"
    ]
    code = next(a["person_code"] for a in held if a["role"] == "grid_worker")
    person = api.get(f"/people/{code}", headers=staff)

    changed = api.patch(
        f"/people/{code}",
        json={"phone": "13912345678"},
        headers=staff | {"If-Match": person.headers["ETag"]},
    )
    answer = api.get("/lookup", params={"lon": LON, "lat": LAT}, headers=staff).json()

    assert changed.status_code == 200
    grid = next(level for level in answer["chain"] if level["level"] == "grid")
    phones = {c["role"]: c["phone"] for c in grid["holders"]}
    assert phones["grid_worker"] == "13912345678"
