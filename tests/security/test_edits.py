"""Finding 7 of issue 13: edits name the version they saw, misspelt fields are refused,
and the audit log finds a person by their bare code."""

from fastapi.testclient import TestClient

from tests.security.conftest import PERSON_A, as_user


def test_if_match_star_is_refused_and_nothing_changes(streets: TestClient) -> None:
    a = as_user(streets, "staffa")
    before = streets.get(f"/people/{PERSON_A}", headers=a).json()

    star = streets.patch(
        f"/people/{PERSON_A}",
        json={"organisation": "盲改"},
        headers=a | {"If-Match": "*"},
    )

    assert star.status_code == 428
    assert star.json()["code"] == "precondition_required"
    assert streets.get(f"/people/{PERSON_A}", headers=a).json() == before


def test_unknown_body_fields_are_422_not_ignored(streets: TestClient) -> None:
    a = as_user(streets, "staffa")
    seen = streets.get(f"/people/{PERSON_A}", headers=a)

    typo = streets.patch(
        f"/people/{PERSON_A}",
        json={"phnoe": "13000000000"},
        headers=a | {"If-Match": seen.headers["ETag"]},
    )
    extra = streets.post(
        "/people", json={"code": "PX1", "name": "甲", "street": "x"}, headers=a
    )

    assert typo.status_code == 422
    assert "phnoe" in typo.text
    assert extra.status_code == 422
    assert streets.get(f"/people/{PERSON_A}", headers=a).json() == seen.json()


def test_the_audit_log_finds_a_person_by_bare_code(streets: TestClient) -> None:
    a, admin = as_user(streets, "staffa"), as_user(streets, "admin")
    seen = streets.get(f"/people/{PERSON_A}", headers=a)
    streets.patch(
        f"/people/{PERSON_A}",
        json={"organisation": "东街社区党委"},
        headers=a | {"If-Match": seen.headers["ETag"]},
    )

    bare = streets.get("/audit", params={"target": PERSON_A}, headers=admin).json()
    full = streets.get(
        "/audit", params={"target": f"person:{PERSON_A}"}, headers=admin
    ).json()

    assert bare == full
    assert [(e["actor"], e["action"]) for e in bare] == [("staffa", "person.update")]
    # A code is matched whole: P0014 is not P00148.
    assert streets.get("/audit", params={"target": "P0014"}, headers=admin).json() == []
