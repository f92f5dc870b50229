"""Tiny hand-made input files for tests (one helper per kind of file)."""

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import box, mapping

# Around the sample county (107.36E 35.33N): 0.01 degree is about 900 x 1100 m.
X0, Y0 = 107.30, 35.30


def square(col: int, row: int, size: float = 0.01) -> shapely.Polygon:
    """A square cell of a regular lattice near the sample county."""
    return box(
        X0 + col * size, Y0 + row * size, X0 + (col + 1) * size, Y0 + (row + 1) * size
    )


def write_geojson(
    path: Path,
    features: Sequence[tuple[dict[str, Any], Any]],
    *,
    crs: str | None = "EPSG:4326",
) -> Path:
    """Write features (properties, geometry-or-GeoJSON-dict) as a FeatureCollection."""
    collection: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": props,
                "geometry": geom
                if isinstance(geom, dict) or geom is None
                else mapping(geom),
            }
            for props, geom in features
        ],
    }
    if crs is not None and crs != "EPSG:4326":
        collection["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


COMMUNITY = "620899001001"


def community_file(path: Path) -> Path:
    """One community made of a 2 x 2 block of cells."""
    return write_geojson(
        path,
        [({"code": COMMUNITY, "name": "东街社区"}, box(X0, Y0, X0 + 0.02, Y0 + 0.02))],
    )


def grid_file(
    path: Path, cells: Sequence[tuple[int, int]] = ((0, 0), (1, 0), (0, 1), (1, 1))
) -> Path:
    """Grids of the community, one per cell, numbered 001, 002…"""
    return write_geojson(
        path,
        [
            (
                {"code": f"{COMMUNITY}{i + 1:03d}", "name": f"东街社区第{i + 1}网格"},
                square(c, r),
            )
            for i, (c, r) in enumerate(cells)
        ],
    )
