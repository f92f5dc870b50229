"""Real boundaries through the coverage engine: Taipei 里 and Beijing 街道.

The data README's Beijing figures (62 overlapping pairs, 45,439 m², the largest
文景街道/张家湾镇 26,093 m²; 313 holes, 26 above 100 m², the largest 4,165 m²)
are reproduced exactly in WGS84 / UTM zone 50N (EPSG:32650), across the whole
city at once: pairs of streets whose intersection is at least 1 m², and the
interior rings of the union of all 343 streets (of any size). In the local
Gauss-Krüger zone (EPSG:4548, scale 1 on 117E instead of 0.9996) areas come
out 0.08 % larger; in EPSG:4547 (CM 114E) holes near zero area split or merge
differently (303 instead of 313).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import psycopg
import pytest

import geopandas as gpd
import shapely

from geogrid.spatial.coverage import CoverageOptions, check_areas
from geogrid.spatial.crs import local_crs

pytestmark = pytest.mark.realdata

OPTIONS = CoverageOptions()  # min_area_m2 1, slivers below 100 m² or 2 m wide
UTM50 = 32650


def area_of(found: pd.DataFrame) -> pd.Series:
    return found["measure"].map(lambda m: m["area_m2"])


def polygons_only(geoms: np.ndarray) -> np.ndarray:
    """make_valid as the importer does it: structure method, polygons kept."""
    made = shapely.make_valid(geoms, method="structure", keep_collapsed=False)
    parts, owner = shapely.get_parts(made, return_index=True)
    keep = shapely.get_type_id(parts) == 3
    return shapely.multipolygons(parts[keep], indices=owner[keep])


def test_taipei_villages_tile_without_gap_or_overlap(realdata: Path) -> None:
    path = realdata / "taiwan_villages_g0v" / "taipei_villages_1982.geojson"
    villages = gpd.read_file(path)
    geoms = np.asarray(villages.geometry.array)
    assert len(villages) == 448
    assert (~shapely.is_valid(geoms)).sum() == 1
    villages = villages.set_geometry(polygons_only(geoms), crs=villages.crs)
    villages = villages.to_crs(local_crs(villages))
    # VILLAGEID repeats for 三犁里, drawn as two polygons; VILLAGESN is unique.
    areas = gpd.GeoDataFrame(
        {"code": villages["VILLAGESN"], "level": "里", "parent_code": None},
        geometry=villages.geometry,
    )

    found = check_areas(areas, options=OPTIONS)

    assert found[found["rule"].isin(["gap", "overlap", "invalid_geometry"])].empty
    slivers = found[found["rule"] == "sliver"]
    widths = slivers["measure"].map(lambda m: m["width_m"])
    assert ((area_of(slivers) < 100) | (widths < 2)).all()
    # As shipped, after the one repair: not even a sliver or an unmatched edge.
    assert found.empty


@pytest.fixture(scope="module")
def streets(realdata: Path) -> gpd.GeoDataFrame:
    path = realdata / "beijing_subdistricts" / "beijing_subdistricts.geojson"
    frame = gpd.read_file(path)
    assert len(frame) == 343
    return frame.to_crs(UTM50)


@pytest.fixture(scope="module")
def city_wide(streets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """All 343 streets as siblings with no parent: the README's method."""
    areas = gpd.GeoDataFrame(
        {"code": streets["code"], "level": "street", "parent_code": None},
        geometry=streets.geometry,
    )
    return check_areas(areas, options=OPTIONS)


def test_beijing_city_wide_overlaps_match_the_readme(
    streets: gpd.GeoDataFrame, city_wide: gpd.GeoDataFrame
) -> None:
    overlaps = city_wide[city_wide["rule"] == "overlap"]
    areas = area_of(overlaps)
    largest = overlaps.loc[areas.idxmax(), "codes"]
    names = streets.set_index("code")["Name"]
    assert len(overlaps) == 62
    assert round(areas.sum()) == 45_439
    assert round(areas.max()) == 26_093
    assert sorted(names[list(largest)]) == sorted(["文景街道", "张家湾镇"])


def test_beijing_city_wide_holes_match_the_readme(
    streets: gpd.GeoDataFrame, city_wide: gpd.GeoDataFrame
) -> None:
    union = shapely.union_all(np.asarray(streets.geometry.array))
    rings = [ring for part in shapely.get_parts(union) for ring in part.interiors]
    holes = shapely.area(shapely.polygons(rings))
    # The README counts every interior ring of the union.
    assert len(holes) == 313
    assert (holes > 100).sum() == 26
    assert round(holes.max()) == 4_165
    # Every ring is reported, even below min_area_m2 (55 are under 1 m²).
    pieces = city_wide[city_wide["rule"].isin(["gap", "sliver"])]
    assert len(pieces) == len(holes) == 313
    assert area_of(pieces).sum() == pytest.approx(holes.sum(), rel=1e-9)
    assert (area_of(pieces) > 100).sum() == 26
    assert (pieces["rule"] == "gap").sum() == 12  # >= 100 m² and >= 2 m wide
    assert not pieces["codes"].map(len).eq(0).any()  # every hole has neighbours


def district_outlines(streets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Each district as the union of its streets plus the holes NO street covers.

    Filling every hole would swallow enclaves: 朝阳区's 首都机场街道 lies inside
    顺义区 and would be a 10.6 km² "gap" of 顺义 and an overlap of the two.
    Not filling holes at all would leave no gap to find inside a district.
    """
    geoms = np.asarray(streets.geometry.array)
    city = shapely.union_all(geoms)
    codes = np.unique(streets["parentCode"])
    outlines = []
    for code in codes:  # 16 districts
        own = shapely.union_all(geoms[streets["parentCode"].to_numpy() == code])
        shells = shapely.get_exterior_ring(shapely.get_parts(own))
        filled = shapely.union_all(shapely.polygons(shells))
        outlines.append(shapely.union(own, shapely.difference(filled, city)))
    return gpd.GeoDataFrame(
        {"code": codes, "level": "district", "parent_code": None},
        geometry=outlines,
        crs=streets.crs,
    )


@pytest.fixture(scope="module")
def by_district(streets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    children = gpd.GeoDataFrame(
        {
            "code": streets["code"],
            "level": "street",
            "parent_code": streets["parentCode"],
        },
        geometry=streets.geometry,
    )
    areas = pd.concat([district_outlines(streets), children], ignore_index=True)
    return check_areas(areas, options=OPTIONS)


def test_beijing_streets_checked_under_their_district_outlines(
    by_district: gpd.GeoDataFrame, city_wide: gpd.GeoDataFrame
) -> None:
    inner = by_district[by_district["parent_code"].notna()]  # streets in a district
    outer = by_district[by_district["parent_code"].isna()]  # districts, no parent
    counts = by_district.groupby(["rule", by_district["parent_code"].isna()]).size()
    assert counts.drop("edge_mismatch").to_dict() == {
        ("gap", False): 11,
        ("gap", True): 1,
        ("overlap", False): 24,
        ("overlap", True): 12,
        ("sliver", False): 23,
        ("sliver", True): 255,
    }
    assert inner[inner["rule"].isin(["outside_parent", "invalid_geometry"])].empty
    # Every hole of the city of 1 m² or more is found once: inside one district,
    # or between them. Smaller rings on a district line are covered by both
    # outlines (built by filling), so that count differs by construction.
    holes = area_of(by_district[by_district["rule"].isin(["gap", "sliver"])])
    city_holes = area_of(city_wide[city_wide["rule"].isin(["gap", "sliver"])])
    assert (holes >= 1).sum() == (city_holes >= 1).sum() == 258
    assert holes[holes >= 1].sum() == pytest.approx(
        city_holes[city_holes >= 1].sum(), rel=1e-6
    )
    # Pairs of streets of one district, then of districts: together the city's.
    pairs = inner[inner["rule"] == "overlap"]
    districts = outer[outer["rule"] == "overlap"]
    assert round(area_of(pairs).sum()) == 41_357
    assert round(area_of(districts).sum()) == 4_082
    total = area_of(pairs).sum() + area_of(districts).sum()
    assert total == pytest.approx(45_439, rel=1e-4)
    edges = by_district[by_district["rule"] == "edge_mismatch"]
    assert len(edges) > 0
    assert (edges["measure"].map(lambda m: m["length_m"]) > 0).all()


@pytest.mark.postgis
def test_beijing_figures_match_postgis(
    streets: gpd.GeoDataFrame,
    city_wide: gpd.GeoDataFrame,
    by_district: gpd.GeoDataFrame,
    postgis_admin_url: str,
) -> None:
    lonlat = streets.to_crs(4326)
    url = postgis_admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute(
            "CREATE TEMP TABLE bj (code text, district text, geom geometry(Geometry, 4326))"
        )
        wkb = shapely.to_wkb(np.asarray(lonlat.geometry.array), hex=True)
        with conn.cursor().copy("COPY bj (code, district, geom) FROM STDIN") as copy:
            for row in zip(lonlat["code"], lonlat["parentCode"], wkb, strict=True):
                copy.write_row(row)
        # The same method in the same metric SRID, projected by PostGIS itself.
        conn.execute(
            f"CREATE TEMP TABLE t AS SELECT code, district, ST_Transform(geom, {UTM50}) AS g FROM bj"
        )
        conn.execute("CREATE TEMP TABLE city AS SELECT ST_Union(g) AS g FROM t")
        holes = conn.execute(
            "SELECT ST_Area(ring.geom) FROM city"
            " CROSS JOIN LATERAL ST_Dump(city.g) AS part"
            " CROSS JOIN LATERAL ST_DumpRings(part.geom) AS ring"
            " WHERE ring.path[1] > 0"
        ).fetchall()
        pairs = conn.execute(
            "SELECT area FROM (SELECT ST_Area(ST_Intersection(a.g, b.g)) AS area"
            " FROM t a JOIN t b ON a.code < b.code AND ST_Intersects(a.g, b.g)) AS p"
            " WHERE area >= 1"
        ).fetchall()
        # Gaps inside districts: holes of each district's union no street covers.
        inside = conn.execute(
            "WITH d AS (SELECT district, ST_Union(g) AS g FROM t GROUP BY district)"
            " SELECT area FROM (SELECT ST_Area(piece.geom) AS area FROM d CROSS JOIN city"
            " CROSS JOIN LATERAL ST_Dump(d.g) AS part"
            " CROSS JOIN LATERAL ST_DumpRings(part.geom) AS ring"
            " CROSS JOIN LATERAL ST_Dump(ST_Difference(ring.geom, city.g)) AS piece"
            " WHERE ring.path[1] > 0) AS p WHERE area >= 1"
        ).fetchall()
    holes, pairs, inside = (
        np.array([r[0] for r in rows]) for rows in (holes, pairs, inside)
    )

    assert (len(holes), (holes >= 1).sum(), (holes > 100).sum()) == (313, 258, 26)
    ours = area_of(city_wide[city_wide["rule"].isin(["gap", "sliver"])])
    assert len(ours) == len(holes)
    assert ours.sum() == pytest.approx(holes.sum(), rel=1e-3)
    assert ours.max() == pytest.approx(holes.max(), rel=1e-3)
    ours = area_of(city_wide[city_wide["rule"] == "overlap"])
    assert len(ours) == len(pairs) == 62
    assert ours.sum() == pytest.approx(pairs.sum(), rel=1e-3)
    assert ours.max() == pytest.approx(pairs.max(), rel=1e-3)
    found = by_district[by_district["parent_code"].notna()]
    ours = area_of(found[found["rule"].isin(["gap", "sliver"])])
    ours = ours[ours >= 1]  # the query keeps the same pieces
    assert len(ours) == len(inside) == 32
    assert ours.sum() == pytest.approx(inside.sum(), rel=1e-3)
