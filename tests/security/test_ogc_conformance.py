"""Finding 8 of issue 13: OGC API - Features Core's datetime intervals, HEAD, and a
conformance list that agrees with the OpenAPI document."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shapely.geometry import box

from geogrid.domain.codes import AreaLevel
from geogrid.services.boundaries import import_boundaries
from geogrid.services.imports import ImportOptions
from geogrid.store.engine import Bind
from tests.factories import write_geojson
from tests.security.conftest import GRID_A, GRID_B, as_user

ITEMS = "/ogc/collections/grids/items"


def _codes(client: TestClient, when: str) -> list[str]:
    answer = client.get(ITEMS, params={"datetime": when, "limit": 1000})
    assert answer.status_code == 200, answer.text
    return sorted(f["properties"]["code"] for f in answer.json()["features"])


def test_datetime_intervals_find_every_generation_valid_within(
    streets: TestClient, sample_copy: Bind, tmp_path: Path
) -> None:
    # Street B's grid is redrawn: two generations of one code.
    smaller = box(107.3816, 35.32, 107.3916, 35.329)
    path = write_geojson(
        tmp_path / "g.geojson", [({"code": GRID_B, "name": "东城社区第1网格"}, smaller)]
    )
    import_boundaries(
        sample_copy, path, level=AreaLevel.GRID,
        options=ImportOptions(is_keep=True), tolerance_m=5.0,
    )  # fmt: skip

    now = _codes(streets, "2999-01-01T00:00:00Z")
    ever = _codes(streets, "../..")
    since = _codes(streets, "2020-01-01T00:00:00Z/..")
    until = _codes(streets, "../2000-01-01T00:00:00Z")

    assert now.count(GRID_B) == 1
    assert ever.count(GRID_B) == since.count(GRID_B) == 2
    assert until == []
    assert len(ever) == len(now) + 1


@pytest.mark.parametrize(
    "path",
    ["/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/grids", ITEMS],
)
def test_head_answers_like_get_without_a_body(streets: TestClient, path: str) -> None:
    get, head = streets.get(path), streets.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]


def test_the_service_desc_link_names_the_openapi_version_served(
    streets: TestClient,
) -> None:
    links = streets.get("/ogc", headers=as_user(streets, "planner")).json()["links"]
    desc = next(link for link in links if link["rel"] == "service-desc")
    version = streets.get(desc["href"]).json()["openapi"]
    assert desc["type"].endswith(f"version={version[:3]}")


CGCS2000 = "http://www.opengis.net/def/crs/EPSG/0/4490"


def test_items_in_cgcs2000_are_latitude_first_and_say_so(client: TestClient) -> None:
    plain = client.get(ITEMS, params={"limit": 1})
    cgcs = client.get(ITEMS, params={"limit": 1, "crs": CGCS2000})
    one = client.get(f"/ogc/collections/grids/items/{GRID_A}", params={"crs": CGCS2000})

    assert (
        plain.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    )
    assert cgcs.headers["Content-Crs"] == f"<{CGCS2000}>"
    lon, lat = plain.json()["features"][0]["geometry"]["coordinates"][0][0][0]
    assert cgcs.json()["features"][0]["geometry"]["coordinates"][0][0][0] == [lat, lon]
    assert one.status_code == 200
    assert one.json()["geometry"]["coordinates"][0][0][0][0] == lat
    described = client.get("/ogc/collections/grids").json()
    assert CGCS2000 in described["crs"]
    assert described["storageCrs"].endswith("CRS84")
    conformance = client.get("/ogc/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conformance


def test_a_bbox_in_cgcs2000_is_read_latitude_first(client: TestClient) -> None:
    lon_lat = client.get(
        "/ogc/collections/buildings/items", params={"bbox": "107.36,35.33,107.37,35.34"}
    ).json()
    lat_lon = client.get(
        "/ogc/collections/buildings/items",
        params={"bbox": "35.33,107.36,35.34,107.37", "bbox-crs": CGCS2000},
    ).json()
    assert lat_lon["numberMatched"] == lon_lat["numberMatched"] > 0
