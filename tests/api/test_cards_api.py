"""``/maps/cards``: a grid's printable contact card over HTTP, public contacts only."""

import pytest
from fastapi.testclient import TestClient

GRID = "620899001001001"


def test_card_of_a_grid_is_served(client: TestClient) -> None:
    response = client.get(f"/maps/cards/{GRID}.html")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>东街社区第1网格</h1>" in response.text
    assert "13800009756" in response.text  # 何婷, 网格长, phone public
    # No base URL configured: the QR points back at this server's public map.
    assert (
        f"http://testserver/maps/public/620899001001.html#grid={GRID}" in response.text
    )


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/maps/cards/620899001001099.html", 404),
        ("/maps/cards/620899001001.html", 404),  # a community, not a grid
        ("/maps/cards/bad%20code.html", 422),
    ],
    ids=["unknown", "community", "malformed"],
)
def test_card_of_a_bad_grid(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)

    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")


def test_every_card_of_a_community_is_served_to_print_at_once(
    client: TestClient,
) -> None:
    response = client.get("/maps/cards/620899001001/print-all.html")

    assert response.status_code == 200
    assert response.text.count("<main class=sheet>") == response.text.count(
        "620899001001.html#grid="
    )
    assert "<h1>东街社区第1网格</h1>" in response.text
    assert (
        f"http://testserver/maps/public/620899001001.html#grid={GRID}" in response.text
    )
    assert client.get("/maps/cards/620899001099/print-all.html").status_code == 404
