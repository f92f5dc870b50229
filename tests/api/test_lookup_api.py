"""``/lookup`` over HTTP: answers, problem+json errors, and nothing private for the public."""

import pytest
from fastapi.testclient import TestClient

from shapely.geometry import box, mapping

from tests.services.test_lookup import BUILDING, FLOOR_HEAD_PRIVATE_PHONE, LAT, LON


def test_lookup_by_point(client: TestClient) -> None:
    response = client.get("/lookup", params={"lon": LON, "lat": LAT})

    assert response.status_code == 200
    chain = response.json()["chain"]
    assert [level["level"] for level in chain] == [
        "district",
        "street",
        "community",
        "grid",
        "building",
    ]
    assert chain[-1]["code"] == BUILDING


def test_lookup_by_address_and_date(client: TestClient) -> None:
    response = client.get(
        "/lookup", params={"address": "商业局家属院2号楼", "date": "2026-06-01"}
    )

    assert response.status_code == 200
    assert response.json()["found"]


def test_public_lookup_hides_private_phone(client: TestClient) -> None:
    body = client.get("/lookup", params={"lon": LON, "lat": LAT}).text

    assert FLOOR_HEAD_PRIVATE_PHONE not in body
    assert "138****8017" in body


@pytest.mark.parametrize(
    ("params", "code", "parameter"),
    [
        ({"lon": 200, "lat": 35}, "parameter_invalid", "query.lon"),
        ({"lon": "east", "lat": 35}, "parameter_invalid", "query.lon"),
        ({"lat": 35}, "lookup_query_missing", None),
        ({"lon": 107.3, "lat": 35.3, "crs": "EPSG:99999999"}, "crs_unknown", None),
        ({"lon": 35.3, "lat": 107.3}, "latlon_swapped", None),
        ({"lon": 107.3, "lat": 200}, "parameter_invalid", "query.lat"),
        ({"address": "x", "date": "2026-13-01"}, "parameter_invalid", "query.date"),
    ],
    ids=["lon-range", "lon-text", "missing", "crs", "swapped", "lat-range", "date"],
)
def test_bad_parameters_are_problem_json_naming_the_parameter(
    client: TestClient, params: dict, code: str, parameter: str | None
) -> None:
    response = client.get("/lookup", params=params)

    body = response.json()
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["code"] == code
    assert body["detail"]
    assert body["detail_en"]
    if parameter:
        assert parameter in {e["parameter"] for e in body["errors"]}


def test_within_over_http(client: TestClient) -> None:
    shape = mapping(box(LON - 0.0002, LAT - 0.0002, LON + 0.0002, LAT + 0.0002))

    response = client.post("/lookup/within", json=shape)

    assert response.status_code == 200
    assert response.json()["n_addresses"] > 0
    assert response.json()["addresses"] is None  # residents never see addresses


def test_within_with_a_broken_body_is_422(client: TestClient) -> None:
    response = client.post(
        "/lookup/within",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 422
    assert response.json()["code"] == "parameter_invalid"


def test_openapi_document_builds(client: TestClient) -> None:
    response = client.get("/openapi.json")

    assert response.status_code == 200
    assert {"/lookup", "/lookup/within", "/coverage", "/coverage.geojson"} <= set(
        response.json()["paths"]
    )


def test_coverage_report_and_geojson(client: TestClient) -> None:
    report = client.get("/coverage")
    layer = client.get("/coverage.geojson", params={"community": "620899001006"})

    assert report.status_code == layer.status_code == 200
    assert report.json()["summary"]["by_rule"]["gap"] == 1
    assert layer.headers["content-type"].startswith("application/geo+json")
    assert {f["properties"]["community_code"] for f in layer.json()["features"]} == {
        "620899001006"
    }


def test_public_coverage_names_no_people_or_addresses(client: TestClient) -> None:
    body = client.get("/coverage").json()

    rules = {f["properties"]["rule"] for f in body["findings"]}
    assert not rules & {"person_overloaded", "assignment_orphan"}
    assert "-001" not in str([f["properties"]["codes"] for f in body["findings"]])


def test_coverage_of_an_unknown_community_is_404(client: TestClient) -> None:
    response = client.get("/coverage", params={"community": "620899001099"})

    assert response.status_code == 404
    assert response.json()["code"] == "area_not_found"
