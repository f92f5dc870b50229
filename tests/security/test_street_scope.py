"""Finding 1 of issue 13: staff of one street cannot take over another's people (BOLA)."""

import pytest
from fastapi.testclient import TestClient

from tests.security.conftest import GRID_A, GRID_B, PERSON_A, as_user


def _assign(client: TestClient, headers: dict, person: str, grid: str):
    return client.post(
        "/assignments",
        json={"person_code": person, "role": "grid_worker", "target_code": grid},
        headers=headers,
    )


def test_staff_of_b_cannot_claim_read_or_rewrite_a_person_of_a(
    streets: TestClient,
) -> None:
    admin, b = as_user(streets, "admin"), as_user(streets, "staffb")
    before = streets.get(f"/people/{PERSON_A}", headers=admin).json()

    claimed = _assign(streets, b, PERSON_A, GRID_B)
    read = streets.get(f"/people/{PERSON_A}", headers=b)
    rewritten = streets.patch(
        f"/people/{PERSON_A}",
        json={"phone": "13000000000"},
        headers=b | {"If-Match": f'"{before["version"]}"'},
    )

    assert claimed.status_code == 403
    assert claimed.json()["code"] == "person_other_street"
    assert read.status_code == 404  # learns nothing, not even that it exists
    assert rewritten.status_code == 404
    after = streets.get(f"/people/{PERSON_A}", headers=admin).json()
    assert after == before  # no assignment added, no phone changed
    listed = streets.get("/assignments", params={"person_code": PERSON_A}, headers=b)
    assert listed.json()["number_matched"] == 0


def test_every_person_of_a_is_out_of_reach_of_b(streets: TestClient) -> None:
    b = as_user(streets, "staffb")
    assert streets.get("/people", headers=b).json()["number_matched"] == 0
    codes = [f"P{i:05d}" for i in range(1, 400, 7)]  # codes are sequential
    assert {streets.get(f"/people/{c}", headers=b).status_code for c in codes} == {404}
    assert {_assign(streets, b, c, GRID_B).status_code for c in codes} == {403}


def test_staff_place_their_own_new_people_and_admins_place_across_streets(
    streets: TestClient,
) -> None:
    a, b = as_user(streets, "staffa"), as_user(streets, "staffb")
    admin = as_user(streets, "admin")
    made = streets.post(
        "/people", json={"code": "PB001", "name": "东城网格员", "phone": "13900000009"},
        headers=b,
    )  # fmt: skip
    placed = _assign(streets, b, "PB001", GRID_B)
    # Street A cannot take B's new person either, once placed.
    taken = _assign(streets, a, "PB001", GRID_A)
    # An admin may give a person of A a role in B too; B then sees them, but
    # only an admin changes a person who serves two streets.
    shared = _assign(streets, admin, PERSON_A, GRID_B)
    seen = streets.get(f"/people/{PERSON_A}", headers=b)
    patched_b = streets.patch(
        f"/people/{PERSON_A}",
        json={"phone": "13000000001"},
        headers=b | {"If-Match": seen.headers["ETag"]},
    )
    patched_a = streets.patch(
        f"/people/{PERSON_A}",
        json={"phone": "13000000002"},
        headers=a | {"If-Match": seen.headers["ETag"]},
    )

    assert (made.status_code, placed.status_code) == (201, 201)
    assert taken.status_code == 403
    assert shared.status_code == 201
    assert seen.status_code == 200
    assert (patched_b.status_code, patched_a.status_code) == (403, 403)


def test_a_person_whose_roles_ended_stays_with_their_last_street(
    streets: TestClient,
) -> None:
    a, b = as_user(streets, "staffa"), as_user(streets, "staffb")
    streets.post("/people", json={"code": "PA900", "name": "甲"}, headers=a)
    placed = _assign(streets, a, "PA900", GRID_A)
    ended = streets.post(
        f"/assignments/{placed.json()['id']}/end",
        headers=a | {"If-Match": placed.headers["ETag"]},
    )

    claimed = _assign(streets, b, "PA900", GRID_B)
    again = _assign(streets, a, "PA900", GRID_A)

    assert ended.status_code == 200
    assert claimed.status_code == 403
    assert again.status_code == 201


def _routes(client: TestClient, admin: dict) -> list[tuple[str, str, dict, dict]]:
    """Every roster write, aimed at street A: (method, path, body, extra headers)."""
    person = client.get(f"/people/{PERSON_A}", headers=admin)
    first = person.json()["assignments"][0]
    assignment = client.get(f"/assignments/{first['id']}", headers=admin)
    return [
        ("POST", "/people", {"code": "PZ999", "name": "冒名"}, {}),
        (
            "PATCH",
            f"/people/{PERSON_A}",
            {"phone": "13000000000"},
            {"If-Match": person.headers["ETag"]},
        ),
        (
            "POST",
            "/assignments",
            {"person_code": PERSON_A, "role": "grid_worker", "target_code": GRID_B},
            {},
        ),
        (
            "PATCH",
            f"/assignments/{first['id']}",
            {"target_code": GRID_B},
            {"If-Match": assignment.headers["ETag"]},
        ),
        (
            "POST",
            f"/assignments/{first['id']}/end",
            {},
            {"If-Match": assignment.headers["ETag"]},
        ),
    ]


@pytest.mark.parametrize("who", ["anonymous", "planner", "staffb"])
def test_no_role_outside_street_a_changes_street_a_through_any_route(
    streets: TestClient, who: str
) -> None:
    admin = as_user(streets, "admin")
    headers = {} if who == "anonymous" else as_user(streets, who)
    before = streets.get(f"/people/{PERSON_A}", headers=admin).json()
    audit_before = streets.get("/audit", headers=admin).json()

    for method, path, body, extra in _routes(streets, admin):
        if method == "POST" and path == "/people" and who == "staffb":
            continue  # staff may add people; placing them is what is guarded
        answer = streets.request(method, path, json=body, headers=headers | extra)
        assert answer.status_code in (401, 403, 404), (method, path, answer.text)

    assert streets.get(f"/people/{PERSON_A}", headers=admin).json() == before
    assert streets.get("/audit", headers=admin).json() == audit_before
