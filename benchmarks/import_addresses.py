"""Import N address rows (default 1,000,000) on SpatiaLite and PostGIS; print rows/s.

Baseline, in the same run: GDAL (pyogrio) writing the same points to a
GeoPackage, which is SQLite with an R-tree too, so the gap is what geogrid's
checks and its transaction cost on top of a raw bulk write.

Usage: .venv/bin/python benchmarks/import_addresses.py [--rows N] [--postgres URL]
"""

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import geopandas as gpd
import pyogrio

from geogrid.services.imports import ImportOptions, import_features
from geogrid.store.engine import init_db, make_engine


def make_csv(path: Path, rows: int) -> None:
    rng = np.random.default_rng(1)
    lon = 107.33 + rng.random(rows) * 0.06
    lat = 35.30 + rng.random(rows) * 0.06
    pd.DataFrame(
        {
            "code": [f"A{i:07d}" for i in range(rows)],
            "text": [
                f"安和县城关街道东街社区{i % 400}号楼{i % 6 + 1}单元{i % 30 + 101}室"
                for i in range(rows)
            ],
            "lon": lon.round(7),
            "lat": lat.round(7),
        }
    ).to_csv(path, index=False)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_geogrid(url: str, csv: Path, rows: int) -> tuple[float, float, float]:
    engine = make_engine(url)
    init_db(engine)
    start = time.perf_counter()
    report = import_features(
        engine, csv, layer="addresses", options=ImportOptions(crs="EPSG:4326")
    )
    seconds = time.perf_counter() - start
    engine.dispose()
    assert report.n_written == rows, report
    return seconds, rows / seconds, peak_mb()


def run_baseline(csv: Path, out: Path, rows: int) -> tuple[float, float, float]:
    start = time.perf_counter()
    frame = pd.read_csv(csv, dtype=str)
    points = gpd.GeoDataFrame(
        frame,
        geometry=gpd.points_from_xy(frame.lon.astype(float), frame.lat.astype(float)),
        crs=4326,
    )
    pyogrio.write_dataframe(points, out, layer="addresses")
    seconds = time.perf_counter() - start
    return seconds, rows / seconds, peak_mb()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("GEOGRID_TEST_POSTGRES_URL"),
        help="an empty PostGIS database URL (skipped when absent)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv = folder / "addresses.csv"
        make_csv(csv, args.rows)
        print(f"{args.rows:,} address rows, CSV {csv.stat().st_size / 1e6:.0f} MB")
        print(f"{'what':<34}{'seconds':>10}{'rows/s':>12}{'peak RSS MB':>14}")
        # ru_maxrss only grows, so each figure is the peak up to that step.
        results = [
            (
                "baseline: pyogrio → GeoPackage",
                *run_baseline(csv, folder / "b.gpkg", args.rows),
            )
        ]
        results.append(
            (
                "geogrid import → SpatiaLite",
                *run_geogrid(f"sqlite:///{folder / 'g.sqlite'}", csv, args.rows),
            )
        )
        if args.postgres:
            results.append(
                (
                    "geogrid import → PostGIS",
                    *run_geogrid(args.postgres, csv, args.rows),
                )
            )
        for name, seconds, rate, peak in results:
            print(f"{name:<34}{seconds:>10.1f}{rate:>12,.0f}{peak:>14,.0f}")


if __name__ == "__main__":
    main()
