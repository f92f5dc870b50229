"""The bundled sample county (安和县): reproducible, and clean except its seeded defects."""

import importlib
import itertools
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pytest

import geopandas as gpd
import shapely

DATA = Path(__file__).resolve().parents[1] / "data" / "boundaries"
METRIC_CRS = "EPSG:4545"  # CGCS2000 / 3-degree Gauss-Kruger CM 108E
LAYERS = (
    "district",
    "street",
    "community",
    "grid",
    "estate",
    "buildings",
    "lanes",
    "centres",
)
XSS_PROBE = "<img src=x onerror=alert(1)>"
GRID_ROLES = ("grid_head", "grid_worker", "health_worker", "legal_adviser", "police")
BUILDING_ROLES = ("building_head", "floor_head")
GENERATOR_MODULES = (
    "generate",
    "sample_model",
    "sample_areas",
    "sample_layout",
    "sample_people",
)


@pytest.fixture(scope="module")
def defects() -> dict[str, Any]:
    return json.loads((DATA / "defects.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def layers() -> dict[str, gpd.GeoDataFrame]:
    return {name: gpd.read_file(DATA / f"{name}.geojson") for name in LAYERS}


@pytest.fixture(scope="module")
def metric(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    return {name: frame.to_crs(METRIC_CRS) for name, frame in layers.items()}


@pytest.fixture(scope="module")
def addresses() -> pd.DataFrame:
    return pd.read_csv(DATA / "addresses.csv", dtype={"code": str, "text": str})


@pytest.fixture(scope="module")
def people() -> pd.DataFrame:
    return pd.read_csv(DATA / "people.csv", dtype=str, keep_default_na=False)


def _defect(
    defects: dict[str, Any], kind: str, role: str | None = None
) -> dict[str, Any]:
    [found] = [
        d for d in defects["defects"] if d["kind"] == kind and d.get("role") == role
    ]
    return found


def _grid_of_buildings(metric: dict[str, gpd.GeoDataFrame]) -> pd.Series:
    """The grid holding each building's point-on-surface (NaN when none)."""
    points = metric["buildings"].set_geometry(
        metric["buildings"].geometry.representative_point()
    )
    joined = points.sjoin(metric["grid"][["code", "geometry"]], predicate="within")
    joined = joined.rename(columns={"code_left": "building", "code_right": "grid"})
    if joined["building"].duplicated().any():
        raise AssertionError("a building point lies in two grids")
    return joined.set_index("building")["grid"].reindex(metric["buildings"]["code"])


@pytest.fixture
def generator(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    # generate.py imports its sibling modules, as it does when run as a script.
    monkeypatch.syspath_prepend(str(DATA))
    try:
        yield importlib.import_module("generate")
    finally:
        for name in GENERATOR_MODULES:
            sys.modules.pop(name, None)


def test_regenerating_with_the_same_seed_gives_identical_files(
    tmp_path: Path, generator: ModuleType
) -> None:
    assert generator.main(["--out", str(tmp_path)]) == 0

    written = sorted(p.name for p in tmp_path.iterdir())
    shipped = sorted(
        p.name for p in DATA.iterdir() if p.suffix in {".geojson", ".csv", ".json"}
    )
    assert written == shipped
    for name in written:
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes(), name


def test_counts_match_the_summary(
    defects: dict[str, Any],
    layers: dict[str, gpd.GeoDataFrame],
    addresses: pd.DataFrame,
    people: pd.DataFrame,
) -> None:
    summary = defects["summary"]
    counted = {
        "districts": len(layers["district"]),
        "streets": len(layers["street"]),
        "communities": len(layers["community"]),
        "grids": len(layers["grid"]),
        "estates": len(layers["estate"]),
        "buildings": len(layers["buildings"]),
        "lanes": len(layers["lanes"]),
        "addresses": len(addresses),
        "centres": len(layers["centres"]),
        "people": people["person_code"].nunique(),
        "assignments": len(people),
        "households": int(layers["buildings"]["households"].sum()),
        "residents": int(layers["buildings"]["residents"].sum()),
    }
    assert counted == summary
    assert summary["households"] == summary["addresses"]
    assert 20_000 <= summary["addresses"] <= 40_000


def test_codes_have_nbs_lengths_and_parent_prefixes(
    layers: dict[str, gpd.GeoDataFrame],
) -> None:
    [county] = layers["district"]["code"]
    [street] = layers["street"].itertuples()
    assert (county, street.code, street.parent_code) == (
        "620899000000",
        "620899001000",
        "620899000000",
    )
    for level, length, parent_length in (
        ("community", 12, None),
        ("grid", 15, 12),
        ("estate", 18, 15),
    ):
        frame = layers[level]
        assert frame["code"].str.fullmatch(rf"\d{{{length}}}").all(), level
        assert frame["code"].is_unique, level
        if parent_length is None:
            assert (frame["parent_code"] == street.code).all()
            assert frame["code"].str.startswith(street.code[:9]).all()
        else:
            assert (frame["code"].str[:parent_length] == frame["parent_code"]).all(), (
                level
            )
    assert set(layers["grid"]["parent_code"]) == set(layers["community"]["code"])
    assert set(layers["estate"]["parent_code"]) <= set(layers["grid"]["code"])
    communities = set(layers["community"]["code"])
    for level, pattern in (
        ("buildings", r"\d{12}-B\d{4}"),
        ("lanes", r"\d{12}-L\d{2}"),
    ):
        codes = layers[level]["code"]
        assert codes.str.fullmatch(pattern).all(), level
        assert codes.is_unique, level
        assert set(codes.str[:12]) <= communities, level


def test_grid_names_number_within_their_community(
    layers: dict[str, gpd.GeoDataFrame],
) -> None:
    names = dict(
        zip(layers["community"]["code"], layers["community"]["name"], strict=True)
    )
    for grid in layers["grid"].itertuples():
        assert grid.name == f"{names[grid.parent_code]}第{int(grid.code[12:])}网格"
    per_community = layers["grid"].groupby("parent_code").size()
    assert per_community.between(5, 8).all()


def test_grids_partition_their_community_except_the_seeded_gap_and_overlap(
    defects: dict[str, Any], metric: dict[str, gpd.GeoDataFrame]
) -> None:
    gap, overlap = _defect(defects, "gap"), _defect(defects, "overlap")
    grids = metric["grid"]
    for community in metric["community"].itertuples():
        mine = grids[grids["parent_code"] == community.code]
        union = shapely.union_all(mine.geometry.values)
        assert union.difference(community.geometry).area < 0.01
        missing = community.geometry.area - union.area
        expected_gap = gap["area_m2"] if community.code == gap["community"] else 0
        assert missing == pytest.approx(expected_gap, abs=1.0), community.code
        overlaps = {}
        for a, b in itertools.combinations(mine.itertuples(), 2):
            area = a.geometry.intersection(b.geometry).area
            if area > 0.01:
                overlaps[tuple(sorted((a.code, b.code)))] = area
        expected = {}
        if community.code == overlap["community"]:
            expected = {
                tuple(sorted(overlap["codes"])): pytest.approx(
                    overlap["area_m2"], abs=1.0
                )
            }
        assert overlaps == expected, community.code


def test_gap_and_overlap_have_the_seeded_size(defects: dict[str, Any]) -> None:
    assert 200 * 30 * 0.8 <= _defect(defects, "gap")["area_m2"] <= 200 * 30 * 1.2
    assert 150 * 20 * 0.8 <= _defect(defects, "overlap")["area_m2"] <= 150 * 20 * 1.2


def test_shared_edges_are_identical(
    defects: dict[str, Any], layers: dict[str, gpd.GeoDataFrame]
) -> None:
    assert shapely.coverage_is_valid(layers["community"].geometry.values)
    street = layers["street"].geometry.iloc[0]
    communities = shapely.union_all(layers["community"].geometry.values)
    assert shapely.equals(street, communities)
    assert shapely.equals(street, layers["district"].geometry.iloc[0])
    overlap = _defect(defects, "overlap")
    for code, grids in layers["grid"].groupby("parent_code"):
        is_valid = shapely.coverage_is_valid(grids.geometry.values)
        assert is_valid == (code != overlap["community"]), code


def test_households_stay_in_band_except_the_overloaded_grid(
    defects: dict[str, Any], metric: dict[str, gpd.GeoDataFrame]
) -> None:
    buildings = metric["buildings"].assign(grid=_grid_of_buildings(metric).to_numpy())
    per_grid = buildings.groupby("grid")["households"].sum()
    overloaded = _defect(defects, "overloaded_grid")
    [code] = overloaded["codes"]
    assert set(per_grid.index) == set(metric["grid"]["code"])
    assert 600 <= per_grid[code] <= 700
    assert per_grid[code] == overloaded["households"]
    assert per_grid.drop(code).between(300, 500).all()
    per_community = buildings.groupby(buildings["code"].str[:12])["households"].sum()
    assert (per_community < 3000).all()


def test_every_building_but_the_seeded_one_lies_in_exactly_one_grid(
    defects: dict[str, Any], metric: dict[str, gpd.GeoDataFrame]
) -> None:
    buildings, grids = metric["buildings"], metric["grid"]
    pairs = buildings.sjoin(grids[["code", "geometry"]], predicate="intersects")
    hits = pairs.groupby("code_left")["code_right"].agg(list)
    outside = sorted(set(buildings["code"]) - set(hits.index))
    assert outside == _defect(defects, "building_outside_grids")["codes"]
    assert (hits.str.len() == 1).all()
    inside = buildings.set_index("code").loc[hits.index].geometry
    grid_geom = grids.set_index("code").geometry.loc[hits.str[0]]
    share = inside.intersection(grid_geom.set_axis(inside.index)).area / inside.area
    assert (share >= 0.9).all()
    assert (_grid_of_buildings(metric).loc[hits.index] == hits.str[0]).all()
    assert (hits.index.str[:12] == hits.str[0].str[:12]).all()


def test_buildings_do_not_overlap_and_have_sane_figures(
    metric: dict[str, gpd.GeoDataFrame],
) -> None:
    buildings = metric["buildings"]
    pairs = buildings.sjoin(buildings[["geometry"]], predicate="intersects")
    assert (pairs.index == pairs["index_right"]).all()
    assert buildings["floors"].between(2, 18).all()
    assert (buildings["households"] >= 1).all()
    ratio = buildings["residents"].sum() / buildings["households"].sum()
    assert 2.3 <= ratio <= 2.9


def test_estates_and_lanes_lie_inside_their_grids(
    metric: dict[str, gpd.GeoDataFrame],
) -> None:
    grids = metric["grid"].set_index("code").geometry
    for estate in metric["estate"].itertuples():
        assert estate.geometry.within(grids[estate.parent_code]), estate.code
    estates = metric["estate"].set_index("name").geometry
    for building in metric["buildings"].itertuples():
        if building.estate:
            assert building.geometry.within(estates[building.estate]), building.code
    lanes = metric["lanes"]
    in_grid = lanes.sjoin(metric["grid"][["code", "geometry"]], predicate="within")
    assert in_grid["code_left"].is_unique
    assert len(in_grid) == len(lanes)
    assert set(lanes.geom_type) == {"LineString"}


def test_addresses_lie_in_their_building(
    metric: dict[str, gpd.GeoDataFrame], addresses: pd.DataFrame
) -> None:
    assert addresses["code"].is_unique
    assert addresses["text"].is_unique
    assert addresses["text"].str.startswith("甘肃省平凉市安和县城关街道").all()
    buildings = metric["buildings"].set_index("code")
    owner = addresses["code"].str.rsplit("-", n=1).str[0]
    points = gpd.GeoSeries(
        gpd.points_from_xy(addresses["lon"], addresses["lat"]), crs="EPSG:4326"
    ).to_crs(METRIC_CRS)
    distance = points.distance(buildings.geometry.loc[owner].set_axis(points.index))
    assert (distance <= 3.0).all()
    per_building = owner.value_counts().reindex(buildings.index, fill_value=0)
    assert (per_building == buildings["households"]).all()


def test_centres_have_their_kind_radius_and_community(
    metric: dict[str, gpd.GeoDataFrame],
) -> None:
    centres = metric["centres"]
    radius = {"社区中心": 1500, "睦邻中心": 500, "警务室": 1000}
    assert (centres["radius_m"] == centres["kind"].map(radius)).all()
    kinds = (
        centres.groupby([centres["code"].str[:12], "kind"]).size().unstack(fill_value=0)
    )
    assert len(kinds) == len(metric["community"])
    assert (kinds["社区中心"] == 1).all()
    assert (kinds["睦邻中心"] >= 1).all()
    communities = metric["community"].set_index("code").geometry
    for centre in centres.itertuples():
        assert centre.geometry.within(communities[centre.code[:12]]), centre.code


def test_every_home_is_within_500_m_of_a_neighbourhood_centre_but_the_seeded_hole(
    metric: dict[str, gpd.GeoDataFrame], defects: dict[str, Any]
) -> None:
    centres = metric["centres"]
    neighbourhood = centres[centres["kind"] == "睦邻中心"].geometry
    homes = metric["buildings"].set_index("code").geometry.representative_point()
    nearest = homes.apply(lambda p: neighbourhood.distance(p).min())
    hole = next(d for d in defects["defects"] if d["kind"] == "service_radius")
    assert sorted(nearest[nearest > 500].index) == hole["codes"]
    assert (nearest[hole["codes"]] > 520).all()


def test_people_attributes_are_fake_and_consistent(people: pd.DataFrame) -> None:
    attributes = [
        "name",
        "phone",
        "phone_public",
        "organisation",
        "is_party_member",
        "employment",
    ]
    per_person = people.groupby("person_code")[attributes].nunique()
    assert (per_person == 1).all().all()
    phones = people.drop_duplicates("person_code")["phone"]
    assert phones.str.fullmatch(r"1380000\d{4}").all()
    assert phones.is_unique
    assert people["person_code"].str.fullmatch(r"P\d{5}").all()
    assert set(people["phone_public"]) | set(people["is_party_member"]) <= {
        "true",
        "false",
    }
    assert set(people["employment"]) <= {"full_time", "part_time"}
    assert (people["valid_from"] == "2026-01-01").all()
    assert not people.duplicated(["role", "target_code"]).any()


def test_roles_are_held_everywhere_except_the_seeded_vacancies(
    defects: dict[str, Any], layers: dict[str, gpd.GeoDataFrame], people: pd.DataFrame
) -> None:
    assert set(people["role"]) == set(GRID_ROLES) | set(BUILDING_ROLES)
    is_grid_role = people["role"].isin(GRID_ROLES)
    assert (people.loc[is_grid_role, "target_level"] == "grid").all()
    assert (people.loc[~is_grid_role, "target_level"] == "building").all()
    targets = {"grid": layers["grid"]["code"], "building": layers["buildings"]["code"]}
    for role in (*GRID_ROLES, *BUILDING_ROLES):
        level = "grid" if role in GRID_ROLES else "building"
        held = set(people.loc[people["role"] == role, "target_code"])
        assert held <= set(targets[level]), role
        vacant = sorted(set(targets[level]) - held)
        expected = [d for d in defects["defects"] if d.get("role") == role]
        assert vacant == (expected[0]["codes"] if expected else []), role
    load = people.groupby(["person_code", "role"]).size().unstack()
    assert load["police"].dropna().between(2, 3).all()
    assert load["building_head"].dropna().between(1, 4).all()
    assert (load["floor_head"].dropna() == 1).all()


def test_the_xss_probe_person_holds_one_floor_head_role(
    defects: dict[str, Any], people: pd.DataFrame
) -> None:
    probe = people[people["name"] == XSS_PROBE]
    assert len(probe) == 1
    row = probe.iloc[0]
    assert {
        "person_code": row.person_code,
        "role": row.role,
        "target_code": row.target_code,
    } == (defects["xss_probe"])
    assert row.role == "floor_head"


@pytest.mark.parametrize("name", LAYERS)
def test_geojson_follows_rfc7946(
    name: str, layers: dict[str, gpd.GeoDataFrame]
) -> None:
    text = (DATA / f"{name}.geojson").read_text(encoding="utf-8")
    document = json.loads(text)
    assert set(document) == {"type", "features"}
    assert not re.search(r"\d\.\d{8,}", text)
    codes = [f["properties"]["code"] for f in document["features"]]
    assert codes == sorted(codes)
    geoms = layers[name].geometry
    assert geoms.is_valid.all()
    polygons = geoms[geoms.geom_type == "Polygon"]
    assert shapely.is_ccw(polygons.exterior.values).all()
    lon, lat = np.concatenate([shapely.get_coordinates(g) for g in geoms]).T
    assert (abs(lon - 107.36) < 0.05).all()
    assert (abs(lat - 35.33) < 0.05).all()
