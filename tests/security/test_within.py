"""Finding 2 of issue 13: POST /lookup/within takes what the CLI takes, never a 500."""

import re

import pytest
from fastapi.testclient import TestClient

from geogrid.store import people as people_store
from geogrid.store.engine import Bind, session_scope

SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [
            [107.36, 35.33],
            [107.37, 35.33],
            [107.37, 35.34],
            [107.36, 35.34],
            [107.36, 35.33],
        ]
    ],
}


def _feature(geometry: dict) -> dict:
    return {"type": "Feature", "properties": {"name": "片区"}, "geometry": geometry}


def private_phones(bind: Bind) -> set[str]:
    with session_scope(bind) as session:
        people = people_store.people_table(session)
    private = people["visibility"].map(lambda v: (v or {}).get("phone") != "public")
    return set(people.loc[private, "phone"].dropna()) - {""}


@pytest.mark.parametrize(
    "body",
    [
        SQUARE,
        _feature(SQUARE),
        {"type": "FeatureCollection", "features": [_feature(SQUARE)]},
        _feature({"type": "GeometryCollection", "geometries": [SQUARE]}),
    ],
    ids=["polygon", "feature", "feature-collection", "geometry-collection"],
)
def test_every_shape_the_cli_reads_is_answered_with_whom_to_call(
    client: TestClient, sample_db: Bind, body: dict
) -> None:
    answer = client.post("/lookup/within", json=body)

    assert answer.status_code == 200, answer.text
    grids = answer.json()["grids"]
    assert [g["code"] for g in grids][:2] == ["620899001001001", "620899001001002"]
    heads = [h["name"] for h in grids[0]["holders"] if h["role"] == "grid_head"]
    assert heads == ["何婷"]
    # Anonymous callers get posted phones only: no private one gets out.
    assert not private_phones(sample_db) & set(re.findall(r"1\d{10}", answer.text))


def test_two_features_are_one_area(client: TestClient) -> None:
    east = {
        "type": "Polygon",
        "coordinates": [
            [
                [107.37, 35.33],
                [107.38, 35.33],
                [107.38, 35.34],
                [107.37, 35.34],
                [107.37, 35.33],
            ]
        ],
    }
    one = client.post("/lookup/within", json=SQUARE).json()
    both = client.post(
        "/lookup/within",
        json={
            "type": "FeatureCollection",
            "features": [_feature(SQUARE), _feature(east)],
        },
    ).json()
    assert both["area_m2"] == pytest.approx(2 * one["area_m2"], rel=0.01)
    assert {g["code"] for g in one["grids"]} < {g["code"] for g in both["grids"]}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"type": "Topology", "objects": {}, "arcs": []}, "geojson_type_unsupported"),
        ({"type": "FeatureCollection", "features": []}, "geometry_missing"),
        (
            _feature({"type": "Point", "coordinates": [107.36, 35.33]}),
            "geometry_type_wrong",
        ),
        ({"type": "Polygon", "coordinates": [[[1, 2]]]}, "geojson_invalid"),
    ],
    ids=["topology", "empty-collection", "point", "broken-ring"],
)
def test_anything_else_is_a_422_naming_it(
    client: TestClient, body: dict, code: str
) -> None:
    answer = client.post("/lookup/within", json=body)
    assert answer.status_code == 422
    assert answer.json()["code"] == code
