"""The rules of the coverage check applied to loaded data (检查规则的执行).

Spatial rules come from the engines; this module adds the assignment, role
and load rules, gives every finding a place on the map, and combines them.
"""

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

import geopandas as gpd
import shapely

from geogrid.domain.checks import load_findings, role_findings
from geogrid.domain.findings import FINDING_COLUMNS, RULES
from geogrid.services.assignment import AssignOptions
from geogrid.spatial.assign import AddressReason, assign_addresses, assign_buildings
from geogrid.spatial.coverage import (
    CoverageOptions,
    check_areas,
    lane_findings,
    service_coverage,
    service_findings,
)
from geogrid.spatial.crs import STORAGE_CRS, projected_points

UNASSIGNED = ("outside", "ambiguous", "no_geometry")


@dataclass(frozen=True)
class CheckOptions:
    """Thresholds of the check (检查参数), from settings."""

    coverage: CoverageOptions = field(default_factory=CoverageOptions)
    assign: AssignOptions = field(default_factory=AssignOptions)
    band: tuple[int, int] = (300, 500)
    community_max: int = 3000
    radii_m: dict[str, float] = field(
        default_factory=lambda: {"睦邻中心": 500.0, "社区中心": 1500.0}
    )
    max_targets: int = 10
    max_households: int = 2000
    default_scheme: str = "三长三员一民警"


def compute_findings(data: dict[str, Any], options: CheckOptions) -> gpd.GeoDataFrame:
    """Every finding for the loaded data, in EPSG:4326 (service coverage goes into ``data``)."""
    metric = data["metric"]
    if metric is None:
        return gpd.GeoDataFrame(
            columns=list(FINDING_COLUMNS), geometry="geometry", crs=STORAGE_CRS
        )
    areas_m = data["areas"][["code", "level", "parent_code", "geometry"]].to_crs(metric)
    grids_m = areas_m[areas_m["level"] == "grid"][["code", "geometry"]]
    estates_m = areas_m[areas_m["level"] == "estate"][["code", "geometry"]]
    communities_m = areas_m[areas_m["level"] == "community"][["code", "geometry"]]
    buildings_m = data["buildings"][
        ["code", "households", "residents", "geometry"]
    ].to_crs(metric)
    rule = options.assign
    links = assign_buildings(
        buildings_m[["code", "geometry"]],
        grids_m,
        rule=rule.rule,
        split_share=rule.split_share,
    )
    estate_links = assign_buildings(
        buildings_m[["code", "geometry"]], estates_m, rule=rule.rule
    )
    addresses = data["addresses"]  # code and lon/lat: points made in metres
    addresses_m = gpd.GeoDataFrame(
        {"code": addresses["code"].to_numpy()},
        geometry=projected_points(addresses["x"], addresses["y"], metric),
        index=addresses.index,
        crs=metric,
    )
    address_links = assign_addresses(
        addresses_m,
        buildings_m[["code", "geometry"]].assign(
            grid_code=links["grid_code"].to_numpy()
        ),
        grids_m,
        tolerance_m=rule.tolerance_m,
    )
    homes = buildings_m.assign(geometry=buildings_m.geometry.representative_point())
    data["service"] = service_coverage(
        homes, data["centres"].to_crs(metric), communities_m, radii_m=options.radii_m
    )
    households = _households(data["areas"], buildings_m, links, estate_links)
    parts = [
        _area_findings(areas_m, options.coverage),
        _building_findings(buildings_m, links),
        _address_findings(
            addresses_m,
            buildings_m,
            address_links,
            tolerance_m=rule.tolerance_m,
        ),
        lane_findings(data["lanes"][["code", "geometry"]].to_crs(metric), grids_m),
        service_findings(
            homes,
            data["centres"].to_crs(metric),
            communities_m,
            radii_m=options.radii_m,
        ),
    ]
    # Table findings are drawn at their targets' stored outlines, not at a
    # copy sent to metres and back: a city's 200,000 role vacancies cost a
    # second and a half of projection for nothing.
    placed = [
        role_findings(
            data["scheme"],
            _targets(data["areas"], buildings_m, links, data["lanes"], households),
            data["assignments"][["person_code", "role", "target_level", "target_code"]],
            max_targets=options.max_targets,
            max_households=options.max_households,
        ),
        load_findings(
            _level_loads(data["areas"], households, "grid"),
            _level_loads(data["areas"], households, "community"),
            band=options.band,
            community_max=options.community_max,
        ),
    ]
    parts = [p for p in parts if len(p)]
    placed = [p for p in placed if len(p)]
    frames = []
    if parts:
        spatial = pd.concat(parts, ignore_index=True)
        in_metres = gpd.GeoDataFrame(spatial, geometry="geometry", crs=metric)
        frames.append(in_metres.to_crs(STORAGE_CRS))
    if placed:
        table = pd.concat(placed, ignore_index=True)
        frames.append(
            _with_geometry(table, data["areas"], data["buildings"], data["lanes"])
        )
    if not frames:
        return gpd.GeoDataFrame(
            columns=list(FINDING_COLUMNS), geometry="geometry", crs=STORAGE_CRS
        )
    return gpd.GeoDataFrame(
        pd.concat(frames, ignore_index=True), geometry="geometry", crs=STORAGE_CRS
    )


def _area_findings(
    areas_m: gpd.GeoDataFrame, options: CoverageOptions
) -> gpd.GeoDataFrame:
    """Gaps, overlaps and the rest per parent, without the noise two rules would add.

    Estates (小区) sit inside grids without tiling them, so the land between
    them is no gap. And an overlap makes its two edges "not quite meet" too:
    those edge findings say nothing the overlap does not.
    """
    findings = check_areas(areas_m, options=options)
    levels = dict(zip(areas_m["code"], areas_m["level"], strict=True))
    under_grid = findings["parent_code"].map(lambda p: levels.get(p) == "grid")
    findings = findings[~(findings["rule"].isin(["gap", "sliver"]) & under_grid)]
    explained = {
        (parent, code)
        for rule, parent, codes in zip(
            findings["rule"], findings["parent_code"], findings["codes"], strict=True
        )
        if rule in ("overlap", "gap", "sliver")
        for code in codes
    }
    edge = findings["rule"] == "edge_mismatch"
    covered = [
        (parent, codes[0]) in explained
        for parent, codes in zip(
            findings["parent_code"], findings["codes"], strict=True
        )
    ]
    return findings[~(edge & pd.Series(covered, index=findings.index))]


def _building_findings(
    buildings_m: gpd.GeoDataFrame, links: pd.DataFrame
) -> gpd.GeoDataFrame:
    rows: list[tuple[str, tuple[str, ...], str | None, dict[str, float], Any]] = []
    for code, grid, split, share, split_share, geom in zip(
        links["code"],
        links["grid_code"],
        links["split_grid_code"],
        links["grid_share"],
        links["split_share"],
        buildings_m.geometry,
        strict=True,
    ):
        if not isinstance(grid, str):
            rows.append(("building_no_grid", (code,), None, {}, geom))
        elif isinstance(split, str):
            measure = {
                "grid_share": round(float(share), 3),
                "split_share": round(float(split_share), 3),
            }
            rows.append(("building_split", (code, grid, split), grid, measure, geom))
    return _geo(rows, buildings_m.crs)


def _address_findings(
    addresses_m: gpd.GeoDataFrame,
    buildings_m: gpd.GeoDataFrame,
    links: pd.DataFrame,
    *,
    tolerance_m: float,
) -> gpd.GeoDataFrame:
    """One finding per building whose addresses are unassigned, else per address."""
    bad = links[links["reason"].isin(UNASSIGNED)].join(addresses_m.geometry)
    footprint = dict(zip(buildings_m["code"], buildings_m.geometry, strict=True))
    rows = []
    for building, group in bad.groupby(bad["building_code"].fillna(""), sort=True):
        reasons = sorted(set(group["reason"]))
        if building:
            measure = {
                "reason": "、".join(reasons),
                "addresses": len(group),
                "building": building,
            }
            rows.append(
                (
                    "address_unassigned",
                    (building, *sorted(group["code"])),
                    None,
                    measure,
                    footprint.get(building),
                )
            )
            continue
        for a in group.itertuples():
            rows.append(
                (
                    "address_unassigned",
                    (a.code,),
                    None,
                    {"reason": a.reason, "addresses": 1},
                    a.geometry,
                )
            )
    rows += _far_from_buildings(addresses_m, buildings_m, links, tolerance_m)
    return _geo(rows, addresses_m.crs)


def _far_from_buildings(
    addresses_m: gpd.GeoDataFrame,
    buildings_m: gpd.GeoDataFrame,
    links: pd.DataFrame,
    tolerance_m: float,
) -> list[tuple[Any, ...]]:
    """Addresses that took a grid only because no building was near enough.

    Such a point is often a mis-geocoded door or a building missing from the
    footprints: it is assigned, but a planner should look at it. Without any
    buildings the rule says nothing: every address would be "far".
    """
    far = links[links["reason"] == AddressReason.IN_GRID.value]
    if not len(far) or not len(buildings_m):
        return []
    points = addresses_m.geometry.loc[far.index].to_numpy()
    tree = shapely.STRtree(buildings_m.geometry.to_numpy())
    (pi, bj), dist = tree.query_nearest(points, return_distance=True, all_matches=False)
    # IN_GRID also covers a point between buildings of two grids: not far.
    keep = dist > tolerance_m
    pi, bj, dist = pi[keep], bj[keep], dist[keep]
    nearest_code = buildings_m["code"].to_numpy(dtype=object)
    return [
        (
            "address_far_from_building",
            (code,),
            grid,
            {"distance_m": round(float(d), 1), "nearest_building": nearest_code[j]},
            points[i],
        )
        for i, j, d, code, grid in zip(
            pi,
            bj,
            dist,
            far["code"].to_numpy()[pi],
            far["grid_code"].to_numpy()[pi],
            strict=True,
        )
    ]


def _geo(rows: list[tuple[Any, ...]], crs: Any) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(
        rows, columns=["rule", "codes", "parent_code", "measure", "geometry"]
    )
    frame["severity"] = [RULES[r].severity.value for r in frame["rule"]]
    return gpd.GeoDataFrame(frame[list(FINDING_COLUMNS)], geometry="geometry", crs=crs)


def _households(
    areas: pd.DataFrame,
    buildings_m: gpd.GeoDataFrame,
    links: pd.DataFrame,
    estate_links: pd.DataFrame,
) -> dict[tuple[str, str], int]:
    """Households of every target, from the buildings assigned now."""
    h = buildings_m["households"].to_numpy()
    out: dict[tuple[str, str], int] = {}
    grid = pd.Series(h).groupby(links["grid_code"].to_numpy()).sum()
    estate = pd.Series(h).groupby(estate_links["grid_code"].to_numpy()).sum()
    out.update({("grid", str(k)): int(v) for k, v in grid.items()})
    out.update({("estate", str(k)): int(v) for k, v in estate.items()})
    out.update(
        {("building", c): int(v) for c, v in zip(buildings_m["code"], h, strict=True)}
    )
    parents = dict(zip(areas["code"], areas["parent_code"], strict=True))
    levels = dict(zip(areas["code"], areas["level"], strict=True))
    for level in ("community", "street", "district"):
        child_level = {
            "community": "grid",
            "street": "community",
            "district": "street",
        }[level]
        for code, parent in parents.items():
            if levels[code] == child_level and isinstance(parent, str):
                key = (level, parent)
                out[key] = out.get(key, 0) + out.get((child_level, code), 0)
    return out


def _level_loads(
    areas: pd.DataFrame, households: dict[tuple[str, str], int], level: str
) -> pd.DataFrame:
    of_level = areas[areas["level"] == level]
    return pd.DataFrame(
        {
            "code": of_level["code"],
            "parent_code": of_level["parent_code"],
            "households": [households.get((level, c), 0) for c in of_level["code"]],
        }
    )


def _targets(
    areas: pd.DataFrame,
    buildings_m: gpd.GeoDataFrame,
    links: pd.DataFrame,
    lanes: pd.DataFrame,
    households: dict[tuple[str, str], int],
) -> pd.DataFrame:
    frames = [
        pd.DataFrame(
            {
                "level": areas["level"],
                "code": areas["code"],
                "parent_code": areas["parent_code"],
            }
        ),
        pd.DataFrame(
            {
                "level": "building",
                "code": buildings_m["code"],
                "parent_code": links["grid_code"].to_numpy(),
            }
        ),
        pd.DataFrame({"level": "lane", "code": lanes["code"], "parent_code": None}),
    ]
    targets = pd.concat(frames, ignore_index=True)
    targets["households"] = [
        households.get((lvl, c), 0)
        for lvl, c in zip(
            targets["level"].tolist(), targets["code"].tolist(), strict=True
        )
    ]
    return targets


def _with_geometry(
    findings: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    lanes: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Place a table finding at its first code's outline (an area, building or lane)."""
    where = {
        **dict(zip(lanes["code"], lanes.geometry, strict=True)),
        **dict(zip(buildings["code"], buildings.geometry, strict=True)),
        **dict(zip(areas["code"], areas.geometry, strict=True)),
    }
    geoms = [
        where.get(codes[0]) if codes else None for codes in findings["codes"].tolist()
    ]
    return gpd.GeoDataFrame(
        findings,
        geometry=gpd.GeoSeries(geoms, index=findings.index, crs=areas.crs),
        crs=areas.crs,
    )
