"""Bad input over HTTP: a clear 4xx in problem+json, never a 5xx, and the database untouched.

Every request here is wrong in one way: malformed JSON or GeoJSON, wrong
types, out-of-range or swapped coordinates, an unknown CRS, a body over the
size limit. Each must be answered with a 4xx problem+json (Chinese ``detail``
with ``detail_en``) that names what was wrong, and a checksum of every table
must be the same before and after the whole battery. Write operations are
read from the app's OpenAPI, so endpoints added later are covered too.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, update

from shapely.geometry import box, mapping

from geogrid.api.app import create_app
from geogrid.config import Settings
from geogrid.store.models import Building
from tests.checksums import table_checksums
from tests.services.test_lookup import BUILDING, LAT, LON

TWO_MB = b"x" * 2_000_000
WRITE_METHODS = ("post", "put", "patch", "delete")
# Refused at the door (auth), not found, too large or invalid: all fine for
# a bad write, so long as it is a 4xx and nothing is written.
WRITE_REFUSALS = {400, 401, 403, 404, 405, 412, 413, 415, 422, 428}


@dataclass(frozen=True)
class Bad:
    """One bad request and what its answer must say."""

    method: str
    url: str
    status: int
    code: str
    names: str | None = None
    """A word the answer must contain: the parameter at fault."""
    params: dict[str, Any] = field(default_factory=dict)
    json: object = None
    content: bytes | None = None


def _lookup(code: str, names: str | None, **params: object) -> Bad:
    return Bad("GET", "/lookup", 422, code, names, params)


def _within(status: int, code: str, names: str | None = None, **kw: Any) -> Bad:
    return Bad("POST", "/lookup/within", status, code, names, **kw)


def _polygon(ring: list[list[object]]) -> dict[str, object]:
    return {"type": "Polygon", "coordinates": [ring]}


def _chunks() -> Iterator[bytes]:
    # No Content-Length: the limit must count the bytes as they stream in.
    for _ in range(200):
        yield b"x" * 10_000


SQUARE = mapping(box(LON - 0.0002, LAT - 0.0002, LON + 0.0002, LAT + 0.0002))
MALFORMED = b'{"type": "Polygon", "coordinates": [[[107.3, 35.3],'

BAD: dict[str, Bad] = {
    "lon-text": _lookup("parameter_invalid", "lon", lon="abc", lat=LAT),
    "lat-text": _lookup("parameter_invalid", "lat", lon=LON, lat="北纬35"),
    "lon-range": _lookup("parameter_invalid", "lon", lon=500, lat=LAT),
    "lat-range": _lookup("parameter_invalid", "lat", lon=LON, lat=-500),
    "swapped": _lookup("latlon_swapped", None, lon=LAT, lat=LON),
    "crs-epsg": _lookup(
        "crs_unknown", "EPSG:999999", lon=LON, lat=LAT, crs="EPSG:999999"
    ),
    "crs-foo": _lookup("crs_unknown", "foo", lon=LON, lat=LAT, crs="foo"),
    "date": _lookup("parameter_invalid", "date", address="东街", date="2026-13-01"),
    "nothing-asked": _lookup("lookup_query_missing", None, lat=LAT),
    "coverage-community": Bad(
        "GET",
        "/coverage",
        422,
        "parameter_invalid",
        "community",
        {"community": "'; drop table area; --"},
    ),
    "map-code": Bad("GET", "/maps/public/a b.html", 422, "parameter_invalid", "code"),
    "no-route": Bad("GET", "/nowhere", 404, "route_not_found", "/nowhere"),
    "wrong-method": Bad("DELETE", "/lookup", 405, "method_not_allowed", "DELETE"),
    "within-malformed-json": _within(
        422, "parameter_invalid", "body", content=MALFORMED
    ),
    "within-empty-body": _within(422, "parameter_invalid", "body", content=b""),
    "within-json-array": _within(422, "parameter_invalid", "body", json=[LON, LAT]),
    "within-point": _within(
        422, "geometry_type_wrong", json={"type": "Point", "coordinates": [LON, LAT]}
    ),
    "within-no-geometry": _within(
        422, "geometry_missing", json={"type": "Feature", "geometry": None}
    ),
    "within-open-ring": _within(
        422,
        "ring_not_closed",
        json=_polygon([[LON, LAT], [LON + 0.001, LAT], [LON, LAT + 0.001]]),
    ),
    "within-text-coordinates": _within(
        422,
        "geojson_invalid",
        json=_polygon([["东", "北"], [LON, LAT], [LON, LAT + 0.001], ["东", "北"]]),
    ),
    "within-self-crossing": _within(
        422,
        "geometry_invalid",
        json=_polygon(
            [
                [LON, LAT],
                [LON + 0.001, LAT + 0.001],
                [LON + 0.001, LAT],
                [LON, LAT + 0.001],
                [LON, LAT],
            ]
        ),
    ),
    "within-whole-world": _within(
        422, "shape_too_large", json=mapping(box(-180, -90, 180, 90))
    ),
    "within-whole-country": _within(
        422, "shape_too_large", json=mapping(box(73, 18, 135, 53))
    ),
    "within-swapped": _within(
        422, "latlon_swapped", json=mapping(box(LAT, LON, LAT + 0.001, LON + 0.001))
    ),
    "within-out-of-range": _within(
        422, "coordinate_out_of_range", json=mapping(box(500, 0, 501, 1))
    ),
    "within-infinite": _within(
        422,
        "geometry_invalid",
        content=b'{"type": "Polygon", "coordinates": [[[1e999, 0], [1, 0], [1, 1], [1e999, 0]]]}',
    ),
    "within-crs-unknown": _within(
        422, "crs_unknown", "EPSG:999999", json=SQUARE, params={"crs": "EPSG:999999"}
    ),
    "within-crs-foo": _within(
        422, "crs_unknown", "foo", json=SQUARE, params={"crs": "foo"}
    ),
    "within-2mb": _within(413, "payload_too_large", "1000000", content=TWO_MB),
}


def _settings() -> Settings:
    return Settings(_env_file=None, database_url="sqlite:///unused.sqlite")  # type: ignore[call-arg]


@pytest.fixture
def writable(sample_copy: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(), bind=sample_copy)) as client:
        yield client


def _send(client: TestClient, bad: Bad) -> Any:
    headers = {"content-type": "application/json"} if bad.content is not None else {}
    return client.request(
        bad.method,
        bad.url,
        params=bad.params,
        json=bad.json,
        content=bad.content,
        headers=headers,
    )


def _assert_problem(response: Any, status: int | set[int]) -> dict[str, Any]:
    statuses = {status} if isinstance(status, int) else status
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    assert body["code"]
    assert body["detail"]
    assert body["detail_en"]
    assert "Traceback" not in response.text
    return body


def _write_operations(client: TestClient) -> list[tuple[str, str]]:
    """Every POST/PUT/PATCH/DELETE in the OpenAPI, path parameters filled in."""
    operations = []
    for path, item in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        for method in item:
            if method in WRITE_METHODS:
                url = path
                for parameter in item[method].get("parameters", []):
                    if parameter["in"] == "path":
                        url = url.replace("{" + parameter["name"] + "}", "1")
                operations.append((method.upper(), url))
    return operations


def test_bad_requests_are_clear_4xx_and_change_nothing(
    writable: TestClient, sample_copy: Engine, subtests: pytest.Subtests
) -> None:
    before = table_checksums(sample_copy)

    for name, bad in BAD.items():
        with subtests.test(msg=name):
            body = _assert_problem(_send(writable, bad), bad.status)
            assert body["code"] == bad.code
            if bad.names:
                assert bad.names in str(body)
    chunked = writable.post(
        "/lookup/within",
        content=_chunks(),
        headers={"content-type": "application/json"},
    )
    with subtests.test(msg="within-2mb-chunked"):
        assert _assert_problem(chunked, 413)["code"] == "payload_too_large"
    for method, url in _write_operations(writable):
        for label, content in (("malformed", MALFORMED), ("2mb", TWO_MB)):
            with subtests.test(msg=f"{method} {url} {label}"):
                response = writable.request(
                    method,
                    url,
                    content=content,
                    headers={"content-type": "application/json"},
                )
                _assert_problem(response, WRITE_REFUSALS)

    assert table_checksums(sample_copy) == before


def test_the_battery_reaches_every_write_operation(writable: TestClient) -> None:
    operations = _write_operations(writable)

    assert ("POST", "/lookup/within") in operations


def test_body_limit_is_a_setting(sample_copy: Engine) -> None:
    settings = _settings().model_copy(update={"max_body_bytes": 500})
    with TestClient(create_app(settings, bind=sample_copy)) as client:
        within = client.post("/lookup/within", json=SQUARE)
        over = client.post("/lookup/within", json=SQUARE | {"pad": "x" * 500})

    assert within.status_code == 200
    body = _assert_problem(over, 413)
    assert "500" in body["detail"]
    assert "500" in body["detail_en"]


def test_the_checksum_sees_a_moved_building(sample_copy: Engine) -> None:
    before = table_checksums(sample_copy)
    with sample_copy.begin() as conn:
        conn.execute(
            update(Building)
            .where(Building.code == BUILDING)
            .values(geom=func.ST_Translate(Building.geom, 0.00001, 0, 0))
        )

    after = table_checksums(sample_copy)
    assert before["building"][0] > 0
    assert after["building"] != before["building"]
    assert {k: v for k, v in after.items() if k != "building"} == {
        k: v for k, v in before.items() if k != "building"
    }
