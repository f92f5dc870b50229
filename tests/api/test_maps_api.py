"""``/maps`` over HTTP: the public page for anyone, the staff and coverage pages for staff only."""

import pytest
from fastapi.testclient import TestClient

from geogrid.api.deps import get_caller
from geogrid.domain.access import Caller, Role
from geogrid.store.engine import Bind
from tests.services.test_lookup import FLOOR_HEAD_PRIVATE_PHONE

ORGANISATION = "城关街道东街社区居委会"  # on staff cards only


def test_public_map_page_and_its_assets_are_served(client: TestClient) -> None:
    page = client.get("/maps/public/620899001001.html")
    script = client.get("/maps/public/static/leaflet/leaflet.js")

    assert page.status_code == script.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "东街社区第1网格" in page.text
    assert client.get("/maps/public/static/geogrid/geogrid.js").status_code == 200
    assert FLOOR_HEAD_PRIVATE_PHONE not in page.text
    assert len(script.content) > 100_000


@pytest.mark.parametrize("path", ["/maps/public/", "/maps/public/index.html"])
def test_the_public_index_is_served_with_its_search(
    client: TestClient, sample_db: Bind, path: str
) -> None:
    """A resident opening the maps' address finds every community and one search box."""
    from geogrid.maps.public import index_page
    from geogrid.services.publishing import site_index

    page = client.get(path)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "geogrid.searchSite(" in page.text
    assert "href='620899001001.html'" in page.text  # relative, beside the pages
    assert page.text == index_page(site_index(sample_db))
    # What the page loads resolves from where it is served.
    assert client.get("/maps/public/static/geogrid/geogrid.js").status_code == 200
    assert FLOOR_HEAD_PRIVATE_PHONE not in page.text


@pytest.mark.parametrize(
    ("path", "status"),
    [("/maps/public/620899001099.html", 404), ("/maps/public/bad%20code.html", 422)],
    ids=["unknown", "malformed"],
)
def test_public_map_of_a_bad_community(
    client: TestClient, path: str, status: int
) -> None:
    response = client.get(path)

    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("kind", ["staff", "coverage"])
def test_staff_pages_refuse_the_public(client: TestClient, kind: str) -> None:
    response = client.get(f"/maps/{kind}/620899001001.html")

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert "工作人员" in response.json()["detail"]


def test_staff_pages_for_a_staff_caller(client: TestClient) -> None:
    client.app.dependency_overrides[get_caller] = lambda: Caller(  # type: ignore[attr-defined]
        Role.STAFF, "li", street="620899001000"
    )
    try:
        staff = client.get("/maps/staff/620899001001.html")
        coverage = client.get("/maps/coverage/620899001006.html")
        script = client.get("/maps/staff/static/geogrid/geogrid.js")
    finally:
        client.app.dependency_overrides.clear()  # type: ignore[attr-defined]

    assert staff.status_code == coverage.status_code == script.status_code == 200
    assert ORGANISATION in staff.text
    assert FLOOR_HEAD_PRIVATE_PHONE in staff.text
    assert "geogrid-finding" in coverage.text
