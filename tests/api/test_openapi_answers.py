"""``/openapi.json`` documents what the lookups answer, and the answers match it."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema_rs import Draft202012Validator

from tests.api.conftest import login
from tests.plans import COMMUNITY
from tests.services.test_lookup import LAT, LON


def _spec(client: TestClient) -> dict[str, Any]:
    return client.app.openapi()  # type: ignore[attr-defined,no-any-return]


def _success_schema(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    responses = spec["paths"][path][method]["responses"]
    ok = next(v for k, v in responses.items() if k.startswith("2"))
    (content,) = ok["content"].values()  # application/json or application/geo+json
    return content["schema"]  # type: ignore[no-any-return]


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator resolving ``#/components/...`` against the whole document."""
    return Draft202012Validator({**schema, "components": spec["components"]})


@pytest.mark.parametrize(
    ("path", "method", "models"),
    [
        ("/lookup", "get", {"PointAnswer", "AddressAnswer"}),
        ("/lookup/within", "post", {"WithinAnswer"}),
        ("/coverage", "get", {"CoverageReport"}),
        ("/plans", "get", {"PlanList"}),
        ("/plans/{plan_id}", "get", {"PlanSummary"}),
        ("/buildings", "get", {"BuildingsPage"}),
        ("/addresses", "get", {"AddressesPage"}),
        ("/areas", "get", {"AreasPage"}),
        ("/coverage.geojson", "get", {"FindingCollection"}),
    ],
)
def test_lookup_answers_are_documented(
    client: TestClient, path: str, method: str, models: set[str]
) -> None:
    spec = _spec(client)
    schema = _success_schema(spec, path, method)

    refs = {s["$ref"].rsplit("/", 1)[1] for s in schema.get("anyOf", [schema])}
    assert refs == models
    schemas = spec["components"]["schemas"]
    assert {"role", "title", "name", "phone", "duties"} <= set(
        schemas["ContactCard"]["properties"]
    )
    assert "key" in schemas["FindingProperties"]["properties"]


def test_answers_validate_against_their_schema(client: TestClient) -> None:
    spec = _spec(client)
    lookup = _validator(spec, _success_schema(spec, "/lookup", "get"))
    within = _validator(spec, _success_schema(spec, "/lookup/within", "post"))
    square = {
        "type": "Polygon",
        "coordinates": [
            [
                [LON - 0.002, LAT - 0.002],
                [LON + 0.002, LAT - 0.002],
                [LON + 0.002, LAT + 0.002],
                [LON - 0.002, LAT + 0.002],
                [LON - 0.002, LAT - 0.002],
            ]
        ],
    }

    point = client.get("/lookup", params={"lon": LON, "lat": LAT}).json()
    address = client.get("/lookup", params={"address": "商业局家属院2号楼"}).json()
    inside = client.post("/lookup/within", json=square).json()

    for body in (point, address):
        lookup.validate(body)
    within.validate(inside)
    assert point["chain"][-1]["holders"], "the building's people are in the answer"
    assert inside["grids"]
    assert inside["grids"][0]["holders"], "each grid says whom to call"


def test_coverage_report_validates_against_its_schema(client: TestClient) -> None:
    spec = _spec(client)
    report = _validator(spec, _success_schema(spec, "/coverage", "get"))

    body = client.get("/coverage").json()

    report.validate(body)
    assert body["findings"], "the sample county has seeded defects"
    assert body["summary"]["service"], "and the 15-minute circle's shares"


def test_plan_answers_validate_against_their_schemas(api: TestClient) -> None:
    spec = _spec(api)
    planner = login(api, "wang", "plan-pass1")
    created = api.post("/plans", json={"scope": COMMUNITY}, headers=planner)

    assert created.status_code == 201
    _validator(spec, _success_schema(spec, "/plans", "post")).validate(created.json())
    listed = api.get("/plans", headers=planner).json()
    _validator(spec, _success_schema(spec, "/plans", "get")).validate(listed)
    assert listed["items"][0]["id"] == created.json()["id"]
    assert created.json()["grids"]["features"], "the draft starts from the grids"


@pytest.mark.parametrize("layer", ["buildings", "lanes", "centres"])
def test_feature_pages_validate_against_their_schema(
    client: TestClient, layer: str
) -> None:
    spec = _spec(client)
    page = _validator(spec, _success_schema(spec, f"/{layer}", "get"))
    one = _validator(spec, _success_schema(spec, f"/{layer}/{{code}}", "get"))

    body = client.get(f"/{layer}", params={"limit": 5}).json()

    page.validate(body)
    assert body["features"], f"the sample county has {layer}"
    code = body["features"][0]["id"]
    one.validate(client.get(f"/{layer}/{code}").json())
    light = client.get(f"/{layer}", params={"limit": 5, "geometry": "false"}).json()
    page.validate(light)  # geometry null is documented too


def test_area_pages_and_defects_validate_against_their_schemas(
    client: TestClient,
) -> None:
    spec = _spec(client)
    areas = client.get("/areas", params={"limit": 20}).json()
    code = areas["features"][1]["id"]  # a street: it has a parent and children
    one = client.get(f"/areas/{code}").json()
    defects = client.get("/coverage.geojson").json()

    _validator(spec, _success_schema(spec, "/areas", "get")).validate(areas)
    _validator(spec, _success_schema(spec, "/areas/{code}", "get")).validate(one)
    _validator(spec, _success_schema(spec, "/coverage.geojson", "get")).validate(
        defects
    )
    assert one["properties"]["parent"] is not None
    assert one["properties"]["children"]
    assert defects["features"]
