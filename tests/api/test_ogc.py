"""``/ogc``: OGC API - Features over the sample county, and GDAL's own OAPIF driver reading it."""

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

import shapely
from shapely.geometry import box, shape

from geogrid.api.app import create_app
from geogrid.config import Settings
from geogrid.store.engine import Bind

GRID = "620899001001001"
BUILDING = "620899001001-B0001"
N_GRIDS = 51
N_BUILDINGS = 2747
COLLECTIONS = {
    "districts",
    "streets",
    "communities",
    "grids",
    "estates",
    "buildings",
    "coverage-defects",
}
BBOX = (107.35, 35.32, 107.36, 35.33)
CHINA = box(73, 18, 135, 54)  # lon/lat; swapped coordinates fall outside


def _all(client: TestClient, collection: str, **params: Any) -> dict[str, Any]:
    response = client.get(
        f"/ogc/collections/{collection}/items", params={"limit": 10_000, **params}
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def _rels(body: dict[str, Any]) -> dict[str, dict[str, str]]:
    for link in body["links"]:
        assert {"rel", "type", "href"} <= set(link), link
    return {link["rel"]: link for link in body["links"]}


def assert_rfc7946(collection: dict[str, Any]) -> None:
    """A FeatureCollection as RFC 7946 wants it: no crs, lon/lat, right-hand rings."""
    assert collection["type"] == "FeatureCollection"
    assert "crs" not in collection
    for feature in collection["features"]:
        assert feature["type"] == "Feature"
        assert "crs" not in feature
        assert isinstance(feature["id"], str)
        assert isinstance(feature["properties"], dict)
        if feature["geometry"] is None:
            continue
        geom = shape(feature["geometry"])
        assert geom.is_valid, feature["id"]
        assert CHINA.contains(geom), feature["id"]
        for polygon in getattr(geom, "geoms", [geom]):
            if polygon.geom_type == "Polygon":
                assert polygon.exterior.is_ccw, feature["id"]
                assert not any(ring.is_ccw for ring in polygon.interiors)


def test_landing_page_links_the_api_conformance_and_collections(
    client: TestClient,
) -> None:
    response = client.get("/ogc")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    rels = _rels(response.json())
    assert rels["service-desc"]["href"].endswith("/openapi.json")
    assert rels["service-desc"]["type"].startswith("application/vnd.oai.openapi+json")
    assert rels["conformance"]["href"].endswith("/ogc/conformance")
    assert rels["data"]["href"].endswith("/ogc/collections")
    assert rels["self"]["href"].endswith("/ogc")


def test_conformance_declares_core_and_geojson_as_the_openapi_is(
    client: TestClient,
) -> None:
    body = client.get("/ogc/conformance").json()

    base = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
    assert {base + c for c in ("core", "geojson")} <= set(body["conformsTo"])
    # oas30 would claim an OpenAPI 3.0 definition; FastAPI writes 3.1.
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
    assert base + "oas30" not in body["conformsTo"]
    assert _rels(body)["self"]


def test_collections_have_links_and_an_extent_from_their_data(
    client: TestClient,
) -> None:
    body = client.get("/ogc/collections").json()

    _rels(body)
    found = {c["id"]: c for c in body["collections"]}
    assert set(found) == COLLECTIONS
    for collection in found.values():
        rels = _rels(collection)
        assert rels["items"]["type"] == "application/geo+json"
        assert rels["items"]["href"].endswith(
            f"/ogc/collections/{collection['id']}/items"
        )
    grids = found["grids"]
    features = _all(client, "grids")["features"]
    bounds = shapely.total_bounds([shape(f["geometry"]) for f in features])
    assert grids["extent"]["spatial"]["bbox"][0] == pytest.approx(
        list(bounds), abs=1e-6
    )
    assert grids["extent"]["spatial"]["crs"].endswith("/OGC/1.3/CRS84")
    assert grids["extent"]["temporal"]["interval"][0][1] is None


def test_one_collection(client: TestClient) -> None:
    body = client.get("/ogc/collections/buildings").json()

    assert body["id"] == "buildings"
    assert body["itemType"] == "feature"
    assert _rels(body)["self"]["href"].endswith("/ogc/collections/buildings")


@pytest.mark.parametrize(
    ("collection", "n", "limit"),
    [("grids", N_GRIDS, 20), ("buildings", N_BUILDINGS, 1000)],
    ids=["grids", "buildings"],
)
def test_items_page_through_next_links(
    client: TestClient, collection: str, n: int, limit: int
) -> None:
    url: str | None = f"/ogc/collections/{collection}/items?limit={limit}"
    ids: list[str] = []
    pages = 0
    while url:
        response = client.get(url)
        body = response.json()
        assert response.headers["content-type"].startswith("application/geo+json")
        assert body["numberMatched"] == n
        assert body["numberReturned"] == len(body["features"]) <= limit
        assert body["timeStamp"].endswith("Z")
        rels = _rels(body)
        assert rels["collection"]["href"].endswith(f"/ogc/collections/{collection}")
        assert ("prev" in rels) == (pages > 0)
        ids += [f["id"] for f in body["features"]]
        url = rels["next"]["href"] if "next" in rels else None
        pages += 1

    assert pages == -(-n // limit)
    assert len(ids) == len(set(ids)) == n


def test_items_offset_and_default_limit(client: TestClient) -> None:
    first = client.get("/ogc/collections/buildings/items").json()
    later = client.get("/ogc/collections/buildings/items?offset=100&limit=5").json()
    beyond = client.get("/ogc/collections/grids/items?offset=1000").json()

    assert first["numberReturned"] == 100
    assert [f["id"] for f in later["features"]] == [
        f["id"] for f in _all(client, "buildings")["features"][100:105]
    ]
    assert beyond["numberReturned"] == 0
    assert beyond["numberMatched"] == N_GRIDS


def test_an_offset_past_every_database_limit_is_an_empty_page(
    client: TestClient,
) -> None:
    response = client.get(f"/ogc/collections/buildings/items?offset={10**30}")

    assert response.status_code == 200
    assert response.json()["numberReturned"] == 0


def test_a_limit_above_the_maximum_is_lowered_not_refused(client: TestClient) -> None:
    body = client.get("/ogc/collections/buildings/items?limit=50000").json()

    assert body["numberReturned"] == N_BUILDINGS
    assert "next" not in _rels(body)


def test_bbox_keeps_exactly_the_features_that_meet_it(client: TestClient) -> None:
    everything = _all(client, "buildings")["features"]
    inside = _all(client, "buildings", bbox=",".join(map(str, BBOX)))

    expected = {
        f["id"] for f in everything if shape(f["geometry"]).intersects(box(*BBOX))
    }
    assert 0 < inside["numberMatched"] < N_BUILDINGS
    assert {f["id"] for f in inside["features"]} == expected
    assert inside["numberMatched"] == len(expected)


def test_bbox_with_heights_is_read_as_lon_lat(client: TestClient) -> None:
    flat = _all(client, "grids", bbox="107.35,35.32,107.36,35.33")
    tall = _all(client, "grids", bbox="107.35,35.32,0,107.36,35.33,100")

    assert flat["numberMatched"] == tall["numberMatched"] > 0


@pytest.mark.parametrize("collection", sorted(COLLECTIONS))
def test_every_feature_collection_is_rfc7946(
    client: TestClient, collection: str
) -> None:
    body = _all(client, collection)

    assert body["features"]
    assert_rfc7946(body)


def test_buildings_carry_only_public_attributes(client: TestClient) -> None:
    feature = client.get(f"/ogc/collections/buildings/items/{BUILDING}").json()

    assert set(feature["properties"]) == {
        "code",
        "name",
        "number",
        "estate",
        "floors",
        "households",
        "grid_code",
    }
    assert isinstance(feature["properties"]["households"], int)


def test_public_coverage_defects_name_no_people(client: TestClient) -> None:
    features = _all(client, "coverage-defects")["features"]

    rules = {f["properties"]["rule"] for f in features}
    assert "gap" in rules
    assert not rules & {"person_overloaded", "assignment_orphan"}
    for feature in features:
        assert feature["id"] == feature["properties"]["key"]
        assert isinstance(json.loads(feature["properties"]["measure"]), dict)
        assert isinstance(feature["properties"]["codes"], str)


def test_single_features_by_code_and_key(client: TestClient) -> None:
    grid = client.get(f"/ogc/collections/grids/items/{GRID}")
    key = _all(client, "coverage-defects")["features"][0]["id"]
    defect = client.get(f"/ogc/collections/coverage-defects/items/{key}")

    assert grid.status_code == defect.status_code == 200
    assert grid.headers["content-type"].startswith("application/geo+json")
    body = grid.json()
    assert body["id"] == GRID
    assert body["properties"]["name"] == "东街社区第1网格"
    assert body["properties"]["level"] == "grid"
    assert body["geometry"]["type"] == "MultiPolygon"
    assert _rels(body)["collection"]["href"].endswith("/ogc/collections/grids")
    assert defect.json()["id"] == key


def test_datetime_picks_the_generation_valid_then(client: TestClient) -> None:
    before = _all(client, "grids", datetime="2000-01-01T00:00:00Z")
    later = _all(client, "grids", datetime="2999-01-01")

    assert before["numberMatched"] == 0
    assert later["numberMatched"] == N_GRIDS


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/ogc/collections/parks", "collection_not_found"),
        ("/ogc/collections/parks/items", "collection_not_found"),
        ("/ogc/collections/parks/items/1", "collection_not_found"),
        ("/ogc/collections/grids/items/620899009999999", "feature_not_found"),
        ("/ogc/collections/buildings/items/nowhere", "feature_not_found"),
        ("/ogc/collections/coverage-defects/items/0000", "feature_not_found"),
        ("/ogc/collections/streets/items/" + GRID, "feature_not_found"),
    ],
    ids=[
        "collection",
        "items-of-unknown",
        "item-of-unknown",
        "grid",
        "building",
        "defect",
        "grid-code-in-streets",
    ],
)
def test_unknown_collections_and_features_are_404(
    client: TestClient, path: str, code: str
) -> None:
    response = client.get(path)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code
    assert response.json()["detail_en"]


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"bbox": "107.35,35.32"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "107.36,35.32,107.35,35.33"}, "bbox"),
        ({"bbox": "35.32,107.35,35.33,107.36"}, "bbox"),
        ({"bbox": "107.35,35.32,inf,35.33"}, "bbox"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"datetime": "yesterday"}, "datetime"),
        ({"datetime": "2030-01-01T00:00:00Z/2020-01-01T00:00:00Z"}, "datetime"),
        ({"f": "html"}, "f"),
        ({"bbox-crs": "EPSG:4490"}, "bbox-crs"),  # a URI is required
        ({"crs": "http://www.opengis.net/def/crs/EPSG/0/3857"}, "crs"),
        ({"foo": "1"}, "foo"),
    ],
    ids=[
        "bbox-short",
        "bbox-text",
        "bbox-min-above-max",
        "bbox-lat-lon",
        "bbox-infinite",
        "limit-zero",
        "limit-text",
        "offset-negative",
        "datetime-text",
        "datetime-interval-backwards",
        "f-html",
        "bbox-crs",
        "crs-unlisted",
        "unknown",
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    client: TestClient, params: dict[str, str], parameter: str
) -> None:
    response = client.get("/ogc/collections/grids/items", params=params)

    body = response.json()
    assert response.status_code == 400, body
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["params"]["parameter"] == parameter
    assert parameter in body["detail"]
    assert parameter in body["detail_en"]


def test_datetime_on_a_collection_without_history_is_400(client: TestClient) -> None:
    response = client.get("/ogc/collections/buildings/items?datetime=2026-01-01")

    assert response.status_code == 400
    assert response.json()["code"] == "datetime_unsupported"


@pytest.mark.parametrize("path", ["/ogc", "/ogc/collections", "/ogc/conformance"])
def test_metadata_accepts_json_formats_only(client: TestClient, path: str) -> None:
    assert client.get(path, params={"f": "json"}).status_code == 200
    assert client.get(path, params={"f": "geojson"}).status_code == 200
    assert client.get(path, params={"f": "xml"}).status_code == 400
    assert client.get(path, params={"limit": "1"}).status_code == 400


def test_openapi_describes_the_ogc_parameters(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    items = paths["/ogc/collections/{collectionId}/items"]["get"]
    parameters = {p["name"]: p for p in items["parameters"]}
    assert {"collectionId", "limit", "offset", "bbox", "datetime", "f"} <= set(
        parameters
    )
    assert parameters["limit"]["schema"]["maximum"] == 10_000
    assert "/ogc/collections/{collectionId}/items/{featureId}" in paths


# GDAL's driver against a real server ------------------------------------------

# pyogrio keeps the GIL while GDAL fetches pages, so GDAL runs in a child
# process: in this one, it would wait forever for the server thread.
READER = """
import json, sys
import pyogrio

url = sys.argv[1]
out = {"layers": [str(name) for name in pyogrio.list_layers(url)[:, 0]]}
for layer in ("grids", "buildings", "coverage-defects"):
    frame = pyogrio.read_dataframe(url, layer=layer)
    row = frame.iloc[0]
    out[layer] = {
        "n": len(frame),
        "columns": [str(c) for c in frame.columns],
        "crs": frame.crs.to_string(),
        "codes": sorted(frame["code"]) if "code" in frame else [],
        "first": {"code": str(row.get("code")), "name": str(row.get("name"))},
        "bounds": [float(v) for v in frame.total_bounds],
    }
near = pyogrio.read_dataframe(url, layer="buildings", bbox=tuple(map(float, sys.argv[2:])))
out["near"] = sorted(near["code"])
print(json.dumps(out, ensure_ascii=False))
"""


@pytest.fixture
def live_url(sample_db: Bind) -> Iterator[str]:
    """The app served by uvicorn on a free local port, in a thread, stopped afterwards."""
    settings = Settings(_env_file=None, database_url="sqlite:///unused.sqlite")  # type: ignore[call-arg]
    app = create_app(settings, bind=sample_db)
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, ws="none")
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/ogc"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
    assert not thread.is_alive(), "uvicorn did not stop"


@pytest.mark.slow
@pytest.mark.backends("spatialite")
def test_gdal_oapif_driver_reads_every_layer(client: TestClient, live_url: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", READER, f"OAPIF:{live_url}", *map(str, BBOX)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    read = json.loads(done.stdout)
    assert set(read["layers"]) == COLLECTIONS
    grids, buildings = read["grids"], read["buildings"]
    assert grids["n"] == N_GRIDS
    assert buildings["n"] == N_BUILDINGS  # 3 pages of 1,000: GDAL followed `next`
    assert {"code", "name", "level", "parent_code"} <= set(grids["columns"])
    assert {"code", "name", "households", "grid_code"} <= set(buildings["columns"])
    assert grids["first"] == {"code": GRID, "name": "东街社区第1网格"}
    assert grids["crs"] in {"EPSG:4326", "OGC:CRS84"}
    assert grids["codes"] == sorted(f["id"] for f in _all(client, "grids")["features"])
    assert read["coverage-defects"]["n"] == len(
        _all(client, "coverage-defects")["features"]
    )
    inside = _all(client, "buildings", bbox=",".join(map(str, BBOX)))["features"]
    assert read["near"] == sorted(f["id"] for f in inside)


@pytest.fixture
def ogrinfo() -> str:
    found = shutil.which("ogrinfo")
    if found is None:
        reason = "ogrinfo not installed (Debian gdal-bin, which scripts/install.sh --test adds)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.mark.backends("spatialite")
def test_ogrinfo_counts_the_grids(ogrinfo: str, live_url: str) -> None:
    done = subprocess.run(
        [ogrinfo, "-ro", "-so", f"OAPIF:{live_url}", "grids"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert f"Feature Count: {N_GRIDS}" in done.stdout
