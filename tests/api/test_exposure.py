"""Excessive exposure and BOLA across the whole OpenAPI (越权与过度暴露).

Every GET operation the app documents is called with every parameter it
takes filled with probing values (a phone prefix as search text, a room
address, the whole county as bbox, each format), as the public, a planner and
staff of another street. No answer may hold a private phone number or a
resident's (room-level) address. Staff of the street itself do get both, which
shows the probe can see them when they are there.
"""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from geogrid.api.app import create_app
from geogrid.api.deps import get_caller
from geogrid.config import Settings
from geogrid.domain.access import Caller, Role
from geogrid.store.engine import Bind

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "boundaries"
COMMUNITY, GRID = "620899001001", "620899001001001"
PATH_VALUES = {
    "/areas/{code}": [COMMUNITY, GRID, "620899001000"],
    "/buildings/{code}": ["620899001001-B0003"],
    "/lanes/{code}": ["620899001001-L01"],
    "/roads/{code}": ["R1"],  # the sample has no roads: a 404
    "/centres/{code}": ["620899001001-C1"],
    "/addresses/{code}": ["620899001001-B0001-001"],
    "/people/{code}": ["P00001", "P00148"],
    "/assignments/{assignment_id}": ["1", "2", "200"],
    "/schemes/{name}": ["三长三员一民警"],
    "/maps/public/{code}.html": [COMMUNITY],
    "/maps/staff/{code}.html": [COMMUNITY],
    "/maps/coverage/{code}.html": [COMMUNITY],
    "/maps/cards/{code}.html": [GRID],
    "/maps/cards/{code}/print-all.html": [COMMUNITY],
    # The read-only sample holds no plan (these answer 404); test_plans_api
    # probes a real plan's diff, map and notice as a planner.
    "/plans/{plan_id}": ["1"],
    "/plans/{plan_id}/diff": ["1"],
    "/plans/{plan_id}/map.html": ["1"],
    "/plans/{plan_id}/notice.csv": ["1"],
}
QUERY_VALUES: dict[str, list[str]] = {
    "q": ["1380000", "101室", "何婷", "东大街1号1单元"],
    "address": ["东大街1号1单元101室", "东大街1号"],
    "lon": ["107.368035"],
    "lat": ["35.34172425"],
    "bbox": ["107.0,35.0,108.0,36.0"],
    "parent": [COMMUNITY, GRID],
    "root": ["620899000000"],
    "community": [COMMUNITY],
    "target": ["person:P00001"],
    "target_code": [GRID, "620899001001-B0003"],
    "person_code": ["P00148"],
    "level": ["grid", "building"],
    "geometry": ["true", "false"],
    "f": ["json", "geojson", "html"],
    "limit": ["1000"],
}
CALLERS = {
    "public": None,
    "planner": Caller(Role.PLANNER, "wang"),
    "staff of another street": Caller(Role.STAFF, "zhao", street="620899002000"),
}


@pytest.fixture(scope="module")
def secrets() -> tuple[set[str], list[str]]:
    people = pd.read_csv(SAMPLE / "people.csv", dtype=str)
    addresses = pd.read_csv(SAMPLE / "addresses.csv", dtype=str)
    private = set(people.loc[people["phone_public"] == "false", "phone"])
    public = set(people.loc[people["phone_public"] == "true", "phone"])
    # Room-level address tails (…1单元101室) name a household; the door (东大街1号) does not.
    rooms = sorted({re.sub(r"^.*?号", "", t) for t in addresses["text"]} - {""})
    return private - public, [r for r in rooms if "室" in r]


@pytest.fixture
def client(sample_db: Bind) -> Iterator[TestClient]:
    settings = Settings(_env_file=None, database_url="sqlite:///unused.sqlite")  # type: ignore[call-arg]
    with TestClient(create_app(settings, bind=sample_db)) as test_client:
        yield test_client


def _requests(client: TestClient) -> Iterator[tuple[str, dict[str, str]]]:
    """Every GET operation with each of its parameters filled in turn."""
    spec = client.app.openapi()  # type: ignore[attr-defined]
    collections = [
        c["id"] for c in client.get("/ogc/collections").json().get("collections", [])
    ]
    for path, operations in spec["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        paths = _fill_path(path, collections)
        names = [
            p["name"] for p in operation.get("parameters", []) if p["in"] == "query"
        ]
        for url in paths:
            yield url, {}
            for name in names:
                for value in QUERY_VALUES.get(name, []):
                    yield url, {name: value}
            if {"lon", "lat"} <= set(names):
                yield (
                    url,
                    {"lon": QUERY_VALUES["lon"][0], "lat": QUERY_VALUES["lat"][0]},
                )


def _fill_path(path: str, collections: list[str]) -> list[str]:
    if path in PATH_VALUES:
        key = re.search(r"\{(\w+)\}", path).group(0)  # type: ignore[union-attr]
        return [path.replace(key, v) for v in PATH_VALUES[path]]
    if "{collectionId}" in path:
        filled = [path.replace("{collectionId}", c) for c in collections]
        return [p.replace("{featureId}", GRID) for p in filled]
    assert "{" not in path, f"no probe values for {path}: add them to PATH_VALUES"
    return [path]


def _leaks(body: str, secrets: tuple[set[str], list[str]]) -> list[str]:
    phones, rooms = secrets
    found = [p for p in re.findall(r"(?<![\w.])1\d{10}(?!\w)", body) if p in phones]
    return found + [r for r in rooms if r in body]


@pytest.mark.parametrize("who", list(CALLERS))
def test_no_private_phone_or_room_address_reaches_an_outsider(
    client: TestClient, secrets: tuple[set[str], list[str]], who: str
) -> None:
    caller = CALLERS[who]
    if caller is not None:
        client.app.dependency_overrides[get_caller] = lambda: caller  # type: ignore[attr-defined]
    leaks: dict[str, Any] = {}
    statuses: dict[int, int] = {}
    try:
        for url, params in _requests(client):
            response = client.get(url, params=params)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            assert response.status_code < 500, (url, params, response.text[:300])
            body = response.text
            for value in params.values():  # the caller's own words echoed back
                body = body.replace(value, "")
            if found := _leaks(body, secrets):
                leaks[f"{url} {params}"] = found[:3]
    finally:
        client.app.dependency_overrides.clear()  # type: ignore[attr-defined]

    assert leaks == {}
    assert statuses.get(200, 0) > 50  # the probe really reached the endpoints


def test_staff_of_the_street_do_see_them(
    client: TestClient, secrets: tuple[set[str], list[str]]
) -> None:
    client.app.dependency_overrides[get_caller] = lambda: Caller(  # type: ignore[attr-defined]
        Role.STAFF, "li", street="620899001000"
    )
    try:
        person = client.get("/people/P00148").text
        address = client.get("/addresses/620899001001-B0001-001").text
    finally:
        client.app.dependency_overrides.clear()  # type: ignore[attr-defined]

    assert _leaks(person, secrets)  # 夏超兴's private phone
    assert _leaks(address, secrets)  # a room address
