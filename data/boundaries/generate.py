"""Generate the bundled sample county 安和县 (fictional) for geogrid.

The county seat lies near 107.36°E 35.33°N on the loess plateau, on the north
bank of a river. One street (城关街道) holds 8 communities (社区) and 51 grids
(网格), with estates (小区), buildings (楼栋), lanes (弄巷), one address per
dwelling (标准地址), service centres and the people holding the roles of the
三长三员一民警 scheme. Every name and phone number is invented.

A few defects are seeded on purpose and listed in ``defects.json``, so that
coverage checks can be tested against a known answer: everything else is
clean by construction and asserted so before any file is written.

Usage::

    python data/boundaries/generate.py [--seed 20261123] [--out DIR]

The same seed writes byte-identical files (with the same GEOS and PROJ).
"""

import argparse
import csv
import io
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sample_areas import build_areas
from sample_layout import lay_out
from sample_model import (
    ADDRESS_PREFIX,
    CENTRE_LONLAT,
    COMMUNITIES,
    COUNTY_CODE,
    COUNTY_NAME,
    GRID_BAND,
    METRIC_CRS,
    PRECISION,
    SEED,
    STREET_CODE,
    STREET_NAME,
    Building,
    County,
)
from sample_people import People, build_people

import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry


def main(argv: Sequence[str] | None = None) -> int:
    """Generate the sample county and write it to a folder.

    Args:
        argv: command-line arguments without the program name.

    Returns:
        The exit status, 0 on success.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED, help="random seed")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent, help="folder"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    county = build_areas(rng)
    lay_out(county, rng)
    people = build_people(county, rng)
    sizes = write_county(county, people, args.out, seed=args.seed)
    for name, size in sizes.items():
        print(f"{name:18} {size:>10,} bytes")
    print(f"{'total':18} {sum(sizes.values()):>10,} bytes")
    print(f"generated in {time.perf_counter() - started:.1f} s into {args.out}")
    return 0


def _lonlat_transform() -> Callable[[np.ndarray], np.ndarray]:
    to_lonlat = Transformer.from_crs(METRIC_CRS, "EPSG:4326", always_xy=True)

    def convert(xy: np.ndarray) -> np.ndarray:
        lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
        return np.round(np.column_stack([lon, lat]), PRECISION)

    return convert


def write_county(
    county: County, people: People, out: Path, *, seed: int
) -> dict[str, int]:
    """Write every file of the sample into ``out``.

    Args:
        county: the generated county, in metres relative to the centre.
        people: the role-holders.
        out: the folder to write into (created if missing).
        seed: the seed, recorded in ``defects.json``.

    Returns:
        The size in bytes of each file written, by file name.
    """
    out.mkdir(parents=True, exist_ok=True)
    to_metric = Transformer.from_crs("EPSG:4326", METRIC_CRS, always_xy=True)
    ox, oy = to_metric.transform(*CENTRE_LONLAT)
    convert = _lonlat_transform()

    def lonlat(geom: BaseGeometry) -> BaseGeometry:
        moved = shapely.transform(geom, lambda xy: convert(xy + np.array([ox, oy])))
        moved = shapely.orient_polygons(shapely.remove_repeated_points(moved))
        if not moved.is_valid:
            raise RuntimeError("rounding to 7 decimals made a geometry invalid")
        return moved

    files: dict[str, bytes] = {}
    street = lonlat(county.street)
    files["district.geojson"] = _geojson(
        [({"code": COUNTY_CODE, "name": COUNTY_NAME}, street)]
    )
    files["street.geojson"] = _geojson(
        [
            (
                {"code": STREET_CODE, "name": STREET_NAME, "parent_code": COUNTY_CODE},
                street,
            )
        ]
    )
    files["community.geojson"] = _geojson(
        [
            (
                {"code": code, "name": spec.name, "parent_code": STREET_CODE},
                lonlat(geom),
            )
            for code, spec, geom in zip(
                county.community_codes, COMMUNITIES, county.communities, strict=True
            )
        ]
    )
    files["grid.geojson"] = _geojson(
        [
            (
                {"code": g.code, "name": g.name, "parent_code": g.code[:12]},
                lonlat(g.geom),
            )
            for g in county.grids
        ]
    )
    files["estate.geojson"] = _geojson(
        [
            (
                {"code": e["code"], "name": e["name"], "parent_code": e["grid"]},
                lonlat(e["geom"]),
            )
            for e in county.estates
        ]
    )
    files["buildings.geojson"] = _geojson(
        [(_building_props(b), lonlat(b.geom)) for b in county.buildings]
    )
    files["lanes.geojson"] = _geojson(
        [
            ({"code": x["code"], "name": x["name"]}, lonlat(x["geom"]))
            for x in county.lanes
        ]
    )
    files["centres.geojson"] = _geojson(
        [
            ({k: c[k] for k in ("code", "name", "kind", "radius_m")}, lonlat(c["geom"]))
            for c in county.centres
        ]
    )
    addresses = _addresses(county, lambda xy: convert(xy + np.array([ox, oy])))
    files["addresses.csv"] = _csv(["code", "text", "lon", "lat"], addresses)
    rows = people.rows()
    files["people.csv"] = _csv(list(rows[0]), [list(r.values()) for r in rows])
    files["defects.json"] = _defects(
        county, people, len(addresses), len(rows), seed=seed
    )
    for name, data in files.items():
        (out / name).write_bytes(data)
    return {name: len(data) for name, data in files.items()}


def _building_props(b: Building) -> dict[str, Any]:
    if b.kind == "estate":
        name = f"{b.estate.removesuffix('小区')}{b.number}号楼"
        number = f"{b.number}号楼"
    else:
        name = f"{b.street_name}{b.number}号"
        number = f"{b.number}号"
    return {
        "code": b.code,
        "name": name,
        "number": number,
        "estate": b.estate,
        "floors": b.floors,
        "households": b.households,
        "residents": b.residents,
    }


def _dwellings(b: Building) -> list[tuple[str, float, float]]:
    """Each dwelling's room label and its position as fractions of the footprint."""
    rooms: list[tuple[str, float, float]] = []
    if b.kind == "lane":
        if b.households == 1:
            return [("", 0.0, 0.0)]
        per_floor = 1 if b.households <= 3 else 2
        for i in range(b.households):
            floor, room = i // per_floor + 1, i % per_floor + 1
            u = 0.0 if per_floor == 1 else (room - 1.5) * 0.5
            rooms.append(
                (f"{floor}{room:02d}室", u, (floor / (b.floors + 1) - 0.5) * 0.8)
            )
        return rooms
    for unit in range(1, b.units + 1):
        for floor in range(1, b.floors + 1):
            for room in (1, 2):
                u = ((unit - 0.5) / b.units - 0.5) + (room - 1.5) * 0.4 / b.units
                v = (floor / (b.floors + 1) - 0.5) * 0.8
                label = f"{unit}单元" if b.units > 1 else ""
                rooms.append((f"{label}{floor}{room:02d}室", u, v))
    return rooms


def _addresses(
    county: County, convert: Callable[[np.ndarray], np.ndarray]
) -> list[list[str]]:
    rows: list[list[str]] = []
    for b in county.buildings:
        rooms = _dwellings(b)
        comm = COMMUNITIES[b.community].name
        if b.kind == "estate":
            place = f"{b.estate_gate}{b.estate}{b.number}号楼"
        else:
            place = f"{b.street_name}{b.number}号"
        xy = convert(b.local_to_xy(np.array([[u, v] for _, u, v in rooms])))
        for k, ((room, _, _), (lon, lat)) in enumerate(
            zip(rooms, xy.tolist(), strict=True)
        ):
            text = f"{ADDRESS_PREFIX}{comm}{place}{room}"
            rows.append([f"{b.code}-{k + 1:03d}", text, repr(lon), repr(lat)])
    return rows


def _geojson(features: list[tuple[dict[str, Any], BaseGeometry]]) -> bytes:
    lines = [
        json.dumps(
            {
                "type": "Feature",
                "properties": props,
                "geometry": shapely.geometry.mapping(geom),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        for props, geom in sorted(features, key=lambda f: f[0]["code"])
    ]
    body = ",\n".join(lines)
    return f'{{"type":"FeatureCollection","features":[\n{body}\n]}}\n'.encode()


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(sorted(rows))
    return buf.getvalue().encode()


def _defects(
    county: County, people: People, n_addresses: int, n_assignments: int, *, seed: int
) -> bytes:
    gap, overlap, vacant = county.gap, county.overlap, county.vacant
    households = sum(b.households for b in county.buildings)
    overloaded = county.overloaded
    gap_building = next(b.code for b in county.buildings if not b.grid)
    doc = {
        "seed": seed,
        "crs": "EPSG:4326 (areas in m² measured in EPSG:4545)",
        "defects": [
            {
                "kind": "gap",
                "level": "grid",
                "community": gap["community"],
                "codes": gap["grids"],
                "shrunk_grid": gap["grids"][0],
                "area_m2": round(gap["area_m2"]),
                "note": "grid shrunk away from its neighbour; the community outline is unchanged",
            },
            {
                "kind": "overlap",
                "level": "grid",
                "community": overlap["community"],
                "codes": overlap["grids"],
                "extended_grid": overlap["grids"][0],
                "area_m2": round(overlap["area_m2"]),
                "note": "grid extended into its neighbour",
            },
            {
                "kind": "building_outside_grids",
                "level": "building",
                "codes": [gap_building],
                "note": "building inside the gap, in no grid",
            },
            *(
                {
                    "kind": "vacant_role",
                    "role": role,
                    "level": "building" if role == "building_head" else "grid",
                    "codes": vacant[role],
                }
                for role in ("grid_worker", "legal_adviser", "building_head")
            ),
            {
                "kind": "overloaded_grid",
                "level": "grid",
                "codes": [overloaded],
                "households": sum(
                    b.households for b in county.buildings if b.grid == overloaded
                ),
                "band": list(GRID_BAND),
            },
            {
                "kind": "service_radius",
                "centre_kind": "睦邻中心",
                "radius_m": 500,
                "community": county.community_codes[county.service_gap[0].community],
                "codes": sorted(b.code for b in county.service_gap),
                "households": sum(b.households for b in county.service_gap),
                "note": "homes farther than 500 m from every 睦邻中心 (包河 15-minute circle)",
            },
        ],
        "xss_probe": county.xss_probe,
        "summary": {
            "districts": 1,
            "streets": 1,
            "communities": len(county.communities),
            "grids": len(county.grids),
            "estates": len(county.estates),
            "buildings": len(county.buildings),
            "lanes": len(county.lanes),
            "addresses": n_addresses,
            "centres": len(county.centres),
            "people": len(people.persons),
            "assignments": n_assignments,
            "households": households,
            "residents": sum(b.residents for b in county.buildings),
        },
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode()


if __name__ == "__main__":
    sys.exit(main())
