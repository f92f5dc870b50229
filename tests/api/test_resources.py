"""``/areas``, ``/buildings``, ``/lanes``, ``/centres`` and ``/addresses`` over HTTP, both backends.

Pages, filters and dates; RFC 7946 output; and residents' addresses kept to
staff of their own street.
"""

import itertools
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import geopandas as gpd
from shapely.geometry import box, shape

from geogrid.api.app import create_app
from geogrid.api.deps import get_caller
from geogrid.config import Settings
from geogrid.domain.access import Caller, Role
from geogrid.domain.codes import AreaLevel
from geogrid.services.boundaries import import_boundaries
from geogrid.services.imports import ImportOptions
from geogrid.store.engine import Bind
from tests.conftest import SAMPLE
from tests.services.test_lookup import BUILDING, GRID, LAT, LON

STREET = "620899001000"
COMMUNITY = "620899001001"
ADDRESS = f"{BUILDING}-001"
ROOM = re.compile(r"\d+室")  # room-level text: only ever in a resident's address


def _as(client: TestClient, caller: Caller) -> TestClient:
    client.app.dependency_overrides[get_caller] = lambda: caller  # type: ignore[attr-defined]
    return client


def _staff(client: TestClient, street: str = STREET) -> TestClient:
    return _as(client, Caller(Role.STAFF, "li", street=street))


def _codes(body: dict) -> list[str]:
    return [f["properties"]["code"] for f in body["features"]]


def _link(body: dict, rel: str) -> str | None:
    return next((link["href"] for link in body["links"] if link["rel"] == rel), None)


# ------------------------------------------------------------------ paging


def test_area_pages_count_all_grids_and_next_links_reach_them(
    client: TestClient,
) -> None:
    first = client.get("/areas", params={"level": "grid", "limit": 20})

    body = first.json()
    assert first.status_code == 200
    assert first.headers["content-type"].startswith("application/geo+json")
    assert (body["numberMatched"], body["numberReturned"]) == (51, 20)
    assert _link(body, "prev") is None
    codes, pages = _codes(body), [body]
    while (href := _link(pages[-1], "next")) is not None:
        pages.append(client.get(href).json())
        codes += _codes(pages[-1])
    assert [p["numberReturned"] for p in pages] == [20, 20, 11]
    assert len(set(codes)) == 51
    assert codes == sorted(codes)
    assert "offset=0" in (_link(pages[1], "prev") or "")


def test_page_without_geometry_has_null_geometries_and_the_same_count(
    client: TestClient,
) -> None:
    body = client.get("/buildings", params={"geometry": "false", "limit": 1000}).json()

    assert body["numberMatched"] == 2747
    assert body["numberReturned"] == 1000
    assert {f["geometry"] is None for f in body["features"]} == {True}


# ----------------------------------------------------------------- filters


def test_bbox_keeps_only_what_meets_it(client: TestClient) -> None:
    frame = box(LON - 0.0003, LAT - 0.0003, LON + 0.0003, LAT + 0.0003)
    bbox = ",".join(str(v) for v in frame.bounds)

    grids = client.get("/areas", params={"level": "grid", "bbox": bbox}).json()
    buildings = client.get("/buildings", params={"bbox": bbox}).json()

    assert GRID in _codes(grids)
    assert 0 < grids["numberMatched"] < 51
    assert BUILDING in _codes(buildings)
    assert 0 < buildings["numberMatched"] < 50
    for body in (grids, buildings):
        assert all(shape(f["geometry"]).intersects(frame) for f in body["features"])


def test_parent_filters_areas_by_parent_and_features_by_links_or_location(
    client: TestClient,
) -> None:
    grids = client.get("/areas", params={"parent": COMMUNITY}).json()
    in_grid = client.get("/buildings", params={"parent": GRID, "limit": 1000}).json()
    in_community = client.get("/buildings", params={"parent": COMMUNITY}).json()
    in_street = client.get("/buildings", params={"parent": STREET}).json()
    centres = client.get("/centres", params={"parent": COMMUNITY}).json()

    assert 5 <= grids["numberMatched"] <= 7
    assert {f["properties"]["parent_code"] for f in grids["features"]} == {COMMUNITY}
    assert BUILDING in _codes(in_grid)
    assert {f["properties"]["grid_code"] for f in in_grid["features"]} == {GRID}
    assert (
        in_grid["numberMatched"]
        < in_community["numberMatched"]
        < in_street["numberMatched"]
        <= 2747
    )
    assert centres["numberMatched"] > 0
    assert all(c.startswith(COMMUNITY) for c in _codes(centres))
    assert client.get("/lanes", params={"parent": "nowhere"}).json()[
        "numberMatched"
    ] == (0)


def test_q_finds_text_in_names_and_codes(client: TestClient) -> None:
    by_name = client.get("/areas", params={"q": "东街", "geometry": "false"}).json()
    by_code = client.get("/buildings", params={"q": BUILDING}).json()
    lanes = client.get("/lanes", params={"q": "巷", "limit": 1000}).json()

    assert by_name["numberMatched"] >= 1 + 5  # the community and its grids
    assert all("东街" in f["properties"]["name"] for f in by_name["features"])
    assert _codes(by_code) == [BUILDING]
    assert all("巷" in f["properties"]["name"] for f in lanes["features"])


# ------------------------------------------------------------ dates, tree


def test_a_date_before_the_first_generation_finds_nothing(client: TestClient) -> None:
    old = {"date": "2000-01-01"}

    assert client.get("/areas", params=old).json()["numberMatched"] == 0
    assert client.get("/areas/tree", params=old).json()["roots"] == []
    assert client.get(f"/areas/{GRID}", params=old).status_code == 404


@pytest.fixture
def redrawn(sample_copy: Bind, tmp_path: Path) -> Iterator[TestClient]:
    """The sample with grid 001 of 东街社区 merged into 002 from the day after tomorrow."""
    grids = gpd.read_file(SAMPLE / "grid.geojson")
    grids = grids[grids["parent_code"] == COMMUNITY].set_index("code")
    grids.loc[f"{COMMUNITY}002", "geometry"] = grids.geometry[
        [f"{COMMUNITY}001", f"{COMMUNITY}002"]
    ].union_all()
    grids.drop(index=f"{COMMUNITY}001").reset_index().to_file(
        tmp_path / "redraw.geojson"
    )
    import_boundaries(
        sample_copy,
        tmp_path / "redraw.geojson",
        level=AreaLevel.GRID,
        options=ImportOptions(
            parent_field="parent_code",
            valid_from=_utc_today() + timedelta(days=2),
            is_replace=True,
        ),
        tolerance_m=5.0,
    )
    settings = Settings(_env_file=None, database_url="sqlite:///unused.sqlite")  # type: ignore[call-arg]
    with TestClient(create_app(settings, bind=sample_copy)) as test_client:
        yield test_client


def _utc_today() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, hour=0, minute=0, second=0)


def test_date_chooses_the_generation_after_a_redraw(redrawn: TestClient) -> None:
    today = _utc_today().date().isoformat()
    later = (_utc_today() + timedelta(days=3)).date().isoformat()
    gone = f"{COMMUNITY}001"

    def grids(**params: str) -> int:
        return redrawn.get("/areas", params={"level": "grid", **params}).json()[
            "numberMatched"
        ]

    assert grids(date=today) == 51
    assert grids(date=later) == grids() == 50
    old = redrawn.get(f"/areas/{gone}", params={"date": today})
    assert old.status_code == 200
    assert old.json()["properties"]["valid_to"].startswith(later[:8])
    assert redrawn.get(f"/areas/{gone}", params={"date": later}).status_code == 404
    community = redrawn.get(f"/areas/{COMMUNITY}", params={"date": today}).json()
    assert gone in {c["code"] for c in community["properties"]["children"]}


def test_tree_runs_district_street_communities_grids(client: TestClient) -> None:
    response = client.get("/areas/tree")

    roots = response.json()["roots"]
    assert response.status_code == 200
    assert [(r["code"], r["level"]) for r in roots] == [("620899000000", "district")]
    (street,) = roots[0]["children"]
    communities = street["children"]
    assert street["code"] == STREET
    assert len(communities) == 8
    assert {c["level"] for c in communities} == {"community"}
    grids = [g for c in communities for g in c["children"]]
    assert len(grids) == 51
    assert {g["level"] for g in grids} == {"grid"}
    assert "geometry" not in response.text


def test_tree_from_a_root_and_an_unknown_root(client: TestClient) -> None:
    (root,) = client.get("/areas/tree", params={"root": COMMUNITY}).json()["roots"]
    missing = client.get("/areas/tree", params={"root": "620899009999"})

    assert root["code"] == COMMUNITY
    assert 5 <= len(root["children"]) <= 7
    assert missing.status_code == 404
    assert missing.json()["code"] == "area_not_found"


def test_single_area_has_its_parent_and_children(client: TestClient) -> None:
    response = client.get(f"/areas/{COMMUNITY}")

    feature = response.json()
    props = feature["properties"]
    assert response.headers["content-type"].startswith("application/geo+json")
    assert (feature["type"], feature["id"]) == ("Feature", COMMUNITY)
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert props["parent"] == {"code": STREET, "name": "城关街道", "level": "street"}
    assert GRID in {c["code"] for c in props["children"]}
    assert {c["level"] for c in props["children"]} == {"grid"}


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/areas/620899001099", "area_not_found"),
        ("/buildings/nope", "building_not_found"),
        ("/lanes/nope", "lane_not_found"),
        ("/centres/nope", "centre_not_found"),
    ],
    ids=["area", "building", "lane", "centre"],
)
def test_unknown_code_is_404_problem_json(
    client: TestClient, path: str, code: str
) -> None:
    response = client.get(path)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


def test_single_features_by_code(client: TestClient) -> None:
    building = client.get(f"/buildings/{BUILDING}").json()
    lane = client.get("/lanes/620899001001-L01").json()
    centre = client.get("/centres/620899001001-C1").json()

    assert building["properties"]["grid_code"] == GRID
    assert building["properties"]["households"] > 0
    assert lane["geometry"]["type"] == "MultiLineString"
    assert centre["geometry"]["type"] == "Point"
    assert centre["properties"]["radius_m"] > 0


# ---------------------------------------------------------------- RFC 7946


def _positions(coords: list) -> Iterator[list[float]]:
    if coords and isinstance(coords[0], int | float):
        yield coords
        return
    for part in coords:
        yield from _positions(part)


def _exteriors_and_holes(geometry: dict) -> Iterator[tuple[list, bool]]:
    polygons = (
        [geometry["coordinates"]]
        if geometry["type"] == "Polygon"
        else geometry["coordinates"]
    )
    for rings in polygons:
        yield rings[0], True
        for hole in rings[1:]:
            yield hole, False


def _signed_area(ring: list) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring))


@pytest.mark.parametrize(
    "path",
    [
        "/areas?limit=1000",
        "/buildings?limit=1000",
        "/lanes",
        "/centres",
        "/areas/" + COMMUNITY,
    ],
)
def test_geometry_is_rfc7946(client: TestClient, path: str) -> None:
    response = client.get(path)

    body = response.json()
    features = body.get("features", [body])
    assert "crs" not in response.text
    assert features
    for feature in features:
        geometry = feature["geometry"]
        for x, y in _positions(geometry["coordinates"]):
            assert 73 < x < 136
            assert 3 < y < 54
            assert round(x, 7) == x
            assert round(y, 7) == y
        if geometry["type"] in ("Polygon", "MultiPolygon"):
            for ring, is_exterior in _exteriors_and_holes(geometry):
                assert (_signed_area(ring) > 0) is is_exterior  # right-hand rule


# ----------------------------------------------------------------- privacy


def test_addresses_are_403_for_the_public(client: TestClient) -> None:
    listing = client.get("/addresses")
    single = client.get(f"/addresses/{ADDRESS}")

    for response in (listing, single):
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["code"] == "forbidden"
        assert not ROOM.search(response.text)


def test_staff_see_the_addresses_of_their_own_street(client: TestClient) -> None:
    staff = _staff(client)

    page = staff.get("/addresses", params={"parent": GRID, "limit": 5}).json()
    single = staff.get(f"/addresses/{ADDRESS}")

    assert page["numberMatched"] > 5
    assert page["numberReturned"] == 5
    assert {f["properties"]["grid_code"] for f in page["features"]} == {GRID}
    assert single.status_code == 200
    assert ROOM.search(single.json()["properties"]["text"])
    assert single.json()["properties"]["building_code"] == BUILDING


def test_staff_of_another_street_see_no_addresses(client: TestClient) -> None:
    staff = _staff(client, "620899002000")

    page = staff.get("/addresses", params={"q": "室"}).json()
    single = staff.get(f"/addresses/{ADDRESS}")

    assert (page["numberMatched"], page["features"]) == (0, [])
    assert single.status_code == 404
    assert not ROOM.search(single.text)


def test_admins_see_every_address(client: TestClient) -> None:
    admin = _as(client, Caller(Role.ADMIN, "root"))
    staff = _staff(client)

    everything = admin.get("/addresses", params={"limit": 1}).json()["numberMatched"]
    assert everything == staff.get("/addresses").json()["numberMatched"] > 20_000


@pytest.mark.parametrize(
    "path",
    [
        "/areas?limit=1000",
        "/buildings?limit=1000&q=号",
        f"/buildings/{BUILDING}",
        "/lanes",
        "/centres",
        "/areas/tree",
    ],
)
def test_public_pages_hold_no_address_and_no_head_count(
    client: TestClient, path: str
) -> None:
    body = client.get(path).text

    assert not ROOM.search(body)
    assert "residents" not in body
    assert "单元" not in body


def test_staff_of_the_street_also_see_residents_of_its_buildings(
    client: TestClient,
) -> None:
    props = _staff(client).get(f"/buildings/{BUILDING}").json()["properties"]
    other = _staff(client, "620899002000").get(f"/buildings/{BUILDING}").json()

    assert props["residents"] > 0
    assert "residents" not in other["properties"]


# ------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "bbox",
    ["1,2,3", "a,b,c,d", "nan,35,107,36", "108,35,107,36", "107,35,108,95", ""],
    ids=["three", "text", "nan", "min-after-max", "lat-range", "empty"],
)
@pytest.mark.parametrize("path", ["/areas", "/buildings", "/lanes"])
def test_bad_bbox_is_422_naming_bbox(client: TestClient, path: str, bbox: str) -> None:
    response = client.get(path, params={"bbox": bbox})

    body = response.json()
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["code"] == "value_invalid"
    assert body["params"]["field"] == "bbox"
    assert "bbox" in body["detail"]
    assert "bbox" in body["detail_en"]


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/areas", {"limit": 5000}, "query.limit"),
        ("/areas", {"offset": -1}, "query.offset"),
        ("/areas", {"level": "planet"}, "query.level"),
        ("/areas", {"date": "2026-02-30"}, "query.date"),
        ("/buildings", {"geometry": "perhaps"}, "query.geometry"),
        ("/areas/tree", {"date": "yesterday"}, "query.date"),
    ],
    ids=["limit", "offset", "level", "date", "geometry", "tree-date"],
)
def test_bad_parameters_are_422_naming_them(
    client: TestClient, path: str, params: dict, parameter: str
) -> None:
    response = client.get(path, params=params)

    assert response.status_code == 422
    assert parameter in {e["parameter"] for e in response.json()["errors"]}


def test_openapi_lists_the_resource_endpoints(client: TestClient) -> None:
    paths = set(client.get("/openapi.json").json()["paths"])

    assert {
        "/areas",
        "/areas/tree",
        "/areas/{code}",
        "/buildings",
        "/buildings/{code}",
        "/lanes",
        "/lanes/{code}",
        "/centres",
        "/centres/{code}",
        "/addresses",
        "/addresses/{code}",
    } <= paths
