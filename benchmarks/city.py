"""A city through the real commands (城市规模): every row of issue 15's table.

Generates a city as files — by default 1,000 grids in 50 communities and 8
streets of one district, 100,000 buildings, 150 service centres, 2,000 lanes
and 1,000,000 addresses (the generators of ``assign.py``, in EPSG:4545) — and
for each backend (SpatiaLite in a temporary file; PostGIS in a scratch
database on ``--postgres`` or GEOGRID_TEST_POSTGRES_URL) imports it with the
``geogrid`` CLI, one process per command as a user runs them, and times:

- ``import addresses`` next to pyogrio writing the same rows to a GeoPackage;
- ``assign`` next to geopandas ``sjoin`` of buildings and addresses into the
  grids plus pyogrio writing the links (read from the same files);
- ``import addresses`` of 10 addresses scattered over the city (re-linking
  included), next to ``geogrid --help`` (the CLI's start-up floor);
- ``check`` and ``check --community``;
- ``serve``: the first address lookup after start and after a write, and
  point and address lookups at 32 connections (asyncio + httpx, bounded,
  loopback) with their p99 and errors, and the worker's peak RSS.

Every command's peak RSS comes from ``/usr/bin/time``. Ratios are to the
baseline measured in the same run. Nothing here is asserted: the table is
the result.

Usage: .venv/bin/python benchmarks/city.py [--addresses 1000000 [N ...]]
    [--grids 1000] [--buildings 100000] [--seconds 20] [--backend spatialite|postgis]
    [--postgres URL] [--keep DIR]
"""

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np
import pandas as pd

# Run as a script, benchmarks/ is on sys.path: reuse the generators.
from assign import CRS, make_addresses, make_buildings, make_grids
from coverage import group_by_seeds
from lookup import backends, first_answer

import geopandas as gpd
import pyogrio
import shapely

GEOGRID = str(Path(sys.executable).with_name("geogrid"))
CONCURRENCY = 32
DISTRICT = "620899000000"
SCRATCH_DB = "geogrid_bench_city"


@dataclass
class Row:
    """One line of the table: ours, the baseline, the target."""

    what: str
    seconds: float
    rss_mb: float | None = None
    baseline: float | None = None
    target: str = ""
    note: str = ""

    def show(self) -> str:
        base = f"{self.baseline:9.2f}" if self.baseline is not None else " " * 9
        ratio = f"{self.seconds / self.baseline:7.2f}×" if self.baseline else " " * 8
        rss = f"{self.rss_mb:8.0f}" if self.rss_mb is not None else " " * 8
        return (
            f"{self.what:<44}{self.seconds:9.2f}{rss}{base}{ratio}  "
            f"{self.target:<18}{self.note}"
        )


HEADER = (
    f"{'what':<44}{'s':>9}{'RSS MB':>8}{'base s':>9}{'ratio':>8}  {'target':<18}note"
)


# --- the city as files -------------------------------------------------------

SYLLABLES = "金银和平安康富贵华新锦绣翠碧春秋明光福瑞祥云海山湖泉松竹梅兰菊桂荷枫柳杨林森晨曦星月虹霞丽雅静怡美佳"
SUFFIXES = ("花园", "家园", "小区", "苑", "公寓", "新村", "嘉园", "雅居")


def estate_names(n: int) -> np.ndarray:
    """``n`` distinct estate names (两字 + 花园/家园/…), the same for every run."""
    names = [
        f"{a}{b}{suffix}"
        for suffix in SUFFIXES
        for a in SYLLABLES
        for b in SYLLABLES
        if a != b
    ]
    assert n <= len(names), f"at most {len(names)} estates"
    return np.asarray(names[:n], dtype=object)


def generate(folder: Path, n_grids: int, n_buildings: int, n_addresses: int) -> dict:
    """Write the city's files into ``folder``; return their paths and a few facts."""
    rng = np.random.default_rng(20240601)
    grids, origin = make_grids(rng, n_grids)
    buildings, shape = make_buildings(rng, n_buildings, origin)
    geoms = np.asarray(grids.geometry.array)
    in_community, communities = group_by_seeds(rng, geoms, 50, "C")
    in_street, streets = group_by_seeds(
        rng, np.asarray(communities.geometry.array), 8, "S"
    )
    # NBS-shaped codes (区划代码): street 9+3, community 12, grid 15 digits.
    street_codes = np.array(
        [f"620899{k + 1:03d}000" for k in range(len(streets))], dtype=object
    )
    community_codes = np.empty(len(communities), dtype=object)
    for s in range(len(streets)):
        members = np.flatnonzero(in_street == s)
        for k, c in enumerate(members):
            community_codes[c] = f"{street_codes[s][:9]}{k + 1:03d}"
    grid_codes = np.empty(len(grids), dtype=object)
    for c in range(len(communities)):
        members = np.flatnonzero(in_community == c)
        for k, g in enumerate(members):
            grid_codes[g] = f"{community_codes[c]}{k + 1:03d}"
    district = shapely.coverage_union_all(np.asarray(streets.geometry.array))
    levels = {
        "district": gpd.GeoDataFrame(
            {"code": [DISTRICT], "name": ["城市区"]}, geometry=[district], crs=CRS
        ),
        "street": streets.assign(
            code=street_codes, name=[f"第{k + 1}街道" for k in range(len(streets))]
        ),
        "community": communities.assign(
            code=community_codes,
            name=[f"{c[-3:]}社区" for c in community_codes],
        ),
        "grid": grids.assign(
            code=grid_codes, name=[f"{c[-6:-3]}社区第{c[-3:]}网格" for c in grid_codes]
        ),
    }
    paths: dict[str, Any] = {}
    for level, frame in levels.items():
        paths[level] = folder / f"{level}.gpkg"
        pyogrio.write_dataframe(frame[["code", "name", "geometry"]], paths[level])

    # Distinct estate names, as a city has: 40 buildings each. (Names such as
    # 城市花园N区 would all be zones of one estate, 城市花园, to the matcher.)
    estates = estate_names(n_buildings // 40 + 1)[np.arange(n_buildings) // 40]
    numbers = np.arange(n_buildings) % 40 + 1
    names = [f"{e}{n}号楼" for e, n in zip(estates, numbers, strict=True)]
    buildings = buildings.assign(
        name=names,
        number=[f"{n}号楼" for n in numbers],
        estate=estates,
        households=rng.integers(1, 80, n_buildings),
    )
    paths["buildings"] = folder / "buildings.gpkg"
    pyogrio.write_dataframe(buildings, paths["buildings"])

    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    kinds = np.array(["睦邻中心"] * 100 + ["社区中心"] * 50)
    centres = gpd.GeoDataFrame(
        {
            "code": [f"Z{i:03d}" for i in range(len(kinds))],
            "name": [f"{k}{i}" for i, k in enumerate(kinds)],
            "kind": kinds,
            "radius_m": np.where(kinds == "社区中心", 1500.0, 500.0),
        },
        geometry=shapely.points(
            rng.uniform(x0, x1, len(kinds)), rng.uniform(y0, y1, len(kinds))
        ),
        crs=CRS,
    )
    paths["centres"] = folder / "centres.gpkg"
    pyogrio.write_dataframe(centres, paths["centres"])

    n_lanes = 2_000
    start = np.c_[rng.uniform(x0, x1, n_lanes), rng.uniform(y0, y1, n_lanes)]
    turn, length = rng.uniform(0, 2 * np.pi, n_lanes), rng.uniform(50, 400, n_lanes)
    end = start + np.c_[np.cos(turn), np.sin(turn)] * length[:, None]
    lanes = gpd.GeoDataFrame(
        {
            "code": [f"L{i:05d}" for i in range(n_lanes)],
            "name": [f"{i}弄" for i in range(n_lanes)],
        },
        geometry=shapely.linestrings(np.stack([start, end], axis=1)),
        crs=CRS,
    )
    paths["lanes"] = folder / "lanes.gpkg"
    pyogrio.write_dataframe(lanes, paths["lanes"])

    addresses = make_addresses(rng, n_addresses, shape, origin, with_building=True)
    of = addresses.pop("building").to_numpy()
    unit, room = rng.integers(1, 7, n_addresses), rng.integers(1, 31, n_addresses)
    building_names = np.asarray(names, dtype=object)[of]
    addresses["text"] = [
        f"{b}{u}单元{(r // 2 + 1) * 100 + r % 2 + 1}室"
        for b, u, r in zip(building_names, unit, room, strict=True)
    ]
    paths["addresses"] = folder / "addresses.gpkg"
    pyogrio.write_dataframe(addresses, paths["addresses"])

    # Ten new addresses spread over the whole city (a batch's bounding box
    # is then the city: what a re-link by bounding box would redo).
    picks = rng.choice(n_buildings, 10, replace=False)
    scattered = gpd.GeoDataFrame(
        {
            "code": [f"N{i:02d}" for i in range(10)],
            "text": [f"{names[b]}9单元901室" for b in picks],
        },
        geometry=buildings.geometry.iloc[picks].representative_point().to_numpy(),
        crs=CRS,
    )
    paths["scattered"] = folder / "scattered.gpkg"
    pyogrio.write_dataframe(scattered, paths["scattered"])
    # The server's write must be new to it: other codes and texts.
    later = scattered.assign(
        code=[f"M{i:02d}" for i in range(10)],
        text=[f"{names[b]}8单元801室" for b in picks],
    )
    paths["later_text"] = later["text"].iloc[0]
    paths["later"] = folder / "later.gpkg"
    pyogrio.write_dataframe(later, paths["later"])

    grids_ll = levels["grid"].to_crs(4326)
    paths["box"] = tuple(float(v) for v in grids_ll.total_bounds)
    paths["one_community"] = str(community_codes[0])
    paths["sample_texts"] = addresses["text"].sample(2_000, random_state=1).tolist()
    paths["n_addresses"] = n_addresses
    return paths


# --- running commands --------------------------------------------------------


def run(args: list[str], url: str, *, check: bool = True) -> tuple[float, float, str]:
    """Run one command as a user would; its wall seconds, peak RSS (MB) and output."""
    with tempfile.NamedTemporaryFile("r") as stats:
        env = os.environ | {"GEOGRID_DATABASE_URL": url, "COLUMNS": "120"}
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%e %M", "-o", stats.name, *args],
            env=env,
            capture_output=True,
            text=True,
        )
        wall, kb = stats.read().split()[-2:]
    if check and done.returncode not in (0, 1):  # check exits 1 on findings
        raise RuntimeError(
            f"{args} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )
    return float(wall), int(kb) / 1024, done.stdout


def geogrid(url: str, *args: str) -> tuple[float, float, str]:
    return run([GEOGRID, *args], url)


def timed(func: Any) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def baseline_import(paths: dict, folder: Path) -> float:
    """pyogrio writing the addresses to a GeoPackage (read untimed)."""
    frame = pyogrio.read_dataframe(paths["addresses"])
    return timed(lambda: pyogrio.write_dataframe(frame, folder / "copy.gpkg"))


def baseline_assign(paths: dict, folder: Path) -> float:
    """Read buildings, addresses and grids; sjoin both into the grids; write the links."""

    def work() -> None:
        grids = pyogrio.read_dataframe(paths["grid"], columns=["code"])
        buildings = pyogrio.read_dataframe(paths["buildings"], columns=["code"])
        addresses = pyogrio.read_dataframe(paths["addresses"], columns=["code"])
        grids = grids.rename(columns={"code": "grid_code"})
        inner = buildings.set_geometry(buildings.representative_point())
        for name, frame in (("b", inner), ("a", addresses)):
            links = gpd.sjoin(frame, grids, predicate="within", how="left")
            out = pd.DataFrame(links[["code", "grid_code"]])
            pyogrio.write_dataframe(out, folder / f"links_{name}.gpkg")

    return timed(work)


# --- the server --------------------------------------------------------------


@contextmanager
def serve(url: str) -> Iterator[tuple[str, int]]:
    """``geogrid serve`` (its default workers) on a free loopback port; (base URL, pid)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = os.environ | {"GEOGRID_DATABASE_URL": url}
    cmd = [GEOGRID, "serve", "--host", "127.0.0.1", "--port", str(port)]
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while True:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"the server did not start:\n{log.read()}")
                try:
                    httpx.get(f"{base}/openapi.json", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.2)
            yield base, server.pid
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()


def peak_rss_mb(pid: int) -> float:
    """The high-water mark of a process and its children (uvicorn may fork)."""
    total = 0.0
    for p in [pid, *_children(pid)]:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total = max(total, int(line.split()[1]) / 1024)
    return total


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def admin_key(url: str) -> str:
    """An API key of a new admin login (staff see address records, the public not)."""
    env = os.environ | {"GEOGRID_DATABASE_URL": url}
    subprocess.run(
        [GEOGRID, "users", "add", "timer", "--role", "admin", "--password-stdin"],
        input="Qz7-lantern-orbit-58\n",
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    out = subprocess.run(
        [GEOGRID, "users", "key", "timer"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.split()[-1]


def visible_after(base: str, key: str, text: str, code: str, start: float) -> float:
    """Seconds from ``start`` until an address lookup of ``text`` finds ``code``."""
    while time.perf_counter() - start < 600:
        answer = httpx.get(
            f"{base}/lookup",
            params={"address": text},
            headers={"X-API-Key": key},
            timeout=60,
        ).json()
        candidates = answer.get("candidates") or [{}]
        if candidates[0].get("code") == code:
            return time.perf_counter() - start
        time.sleep(0.2)
    return float("nan")


async def _load(base: str, params: list[dict[str, Any]], seconds: float) -> tuple:
    """32 connections asking ``params`` in rotation for ``seconds``; p99 ms, errors, n."""
    times: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=CONCURRENCY)
    counter = iter(range(10**9))

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            query = params[next(counter) % len(params)]
            start = time.perf_counter()
            try:
                answer = await client.get("/lookup", params=query)
                errors += not answer.is_success
            except httpx.HTTPError:
                errors += 1
            times.append(time.perf_counter() - start)

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
    return float(np.percentile(times, 99) * 1e3), errors, len(times)


def http_rows(url: str, paths: dict, seconds: float) -> list[Row]:
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = paths["box"]
    points = [
        {"lon": float(x), "lat": float(y)}
        for x, y in zip(
            rng.uniform(x0, x1, 5_000), rng.uniform(y0, y1, 5_000), strict=True
        )
    ]
    texts = [{"address": t} for t in paths["sample_texts"]]
    rows = []
    key = admin_key(url)
    with serve(url) as (base, pid):
        first = first_answer(base, texts[0], timeout=300)
        rows.append(
            Row("serve: first address lookup after start", first, target="< 1 s")
        )
        point_first = first_answer(base, points[0], timeout=300)
        rows.append(Row("serve: first point lookup after that", point_first))
        after = geogrid(url, "import", "addresses", str(paths["later"]))[0]
        start = time.perf_counter()
        write = first_answer(base, texts[1], timeout=300)
        rows.append(
            Row(
                "serve: first address lookup after a write",
                write,
                target="< 1 s",
                note=f"(the write, a CLI import: {after:.1f} s)",
            )
        )
        seen = visible_after(base, key, paths["later_text"], "M00", start)
        rows.append(
            Row(
                "serve: the write seen by lookups after",
                seen,
                note="rebuilt in the background",
            )
        )
        # An exact stored text is answered before the address index exists;
        # a text in another form waits for it. The load measures the server
        # as it runs, so it starts once the index is there.
        typed = {"address": paths["sample_texts"][4] + "附近"}
        ready = time.perf_counter()
        first_answer(base, typed, timeout=300)
        rows.append(
            Row(
                "serve: address index ready after that",
                time.perf_counter() - ready,
                note="the load below runs after it",
            )
        )
        for kind, queries in (("point", points), ("address", texts)):
            p99, errors, n = asyncio.run(_load(base, queries, seconds))
            rows.append(
                Row(
                    f"HTTP p99 at {CONCURRENCY} connections, {kind} (ms)",
                    p99,
                    target="< 50 ms, 0 errors",
                    note=f"{n:,} requests, {errors} errors",
                )
            )
        rows.append(
            Row("serve: worker peak RSS (MB)", peak_rss_mb(pid), target="< 500")
        )
    with serve(url) as (base, _):  # the snapshot the last one saved, loaded
        again = first_answer(base, texts[2], timeout=300)
    rows.append(
        Row(
            "serve: first address lookup after a restart",
            again,
            target="< 1 s",
            note="snapshot cache (GEOGRID_CACHE_DIR)",
        )
    )
    return rows


def bench(name: str, url: str, paths: dict, folder: Path, args: Any) -> list[Row]:
    print(f"\n== {name}: importing the city", flush=True)
    geogrid(url, "init")
    for level in ("district", "street", "community", "grid"):
        geogrid(url, "import", "boundaries", str(paths[level]), "--level", level)
    for layer in ("buildings", "lanes", "centres"):
        geogrid(url, "import", layer, str(paths[layer]))
    n = paths["n_addresses"]
    rows: list[Row] = []

    seconds, rss, _ = geogrid(url, "import", "addresses", str(paths["addresses"]))
    rows.append(
        Row(f"import addresses, {n:,} rows", seconds, rss,
            baseline_import(paths, folder), "≤ 1.5× pyogrio GPKG")
    )  # fmt: skip
    seconds, rss, _ = geogrid(url, "assign")
    rows.append(
        Row("assign", seconds, rss, baseline_assign(paths, folder),
            "≤ 1.0× sjoin + write")
    )  # fmt: skip
    floor = run([GEOGRID, "--help"], url)[0]
    seconds, rss, _ = geogrid(url, "import", "addresses", str(paths["scattered"]))
    rows.append(
        Row("import 10 scattered addresses (re-linked)", seconds, rss, floor,
            "< 1 s", "baseline: geogrid --help")
    )  # fmt: skip
    seconds, rss, _ = geogrid(url, "check")
    rows.append(Row("check", seconds, rss, target="< 10 s"))
    community = paths["one_community"]
    seconds, rss, _ = geogrid(url, "check", "--community", community)
    rows.append(Row(f"check --community {community}", seconds, rss, target="< 1 s"))
    if not args.skip_http:
        rows.extend(http_rows(url, paths, args.seconds))
    print(HEADER)
    for row in rows:
        print(row.show(), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--addresses", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--grids", type=int, default=1_000)
    parser.add_argument("--buildings", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--backend", choices=["spatialite", "postgis"], action="append")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("GEOGRID_TEST_POSTGRES_URL"),
        help="a PostGIS server URL (superuser); a scratch database is made on it",
    )
    parser.add_argument("--keep", type=Path, help="generate into (and keep) DIR")
    args = parser.parse_args()
    chosen = set(args.backend or ["spatialite", "postgis"])
    for n in args.addresses:
        with tempfile.TemporaryDirectory() as tmp:
            folder = args.keep or Path(tmp)
            folder.mkdir(parents=True, exist_ok=True)
            start = time.perf_counter()
            paths = generate(folder, args.grids, args.buildings, n)
            print(
                f"\n# city: {args.grids:,} grids, 50 communities, 8 streets, "
                f"{args.buildings:,} buildings, 150 centres, 2,000 lanes, {n:,} "
                f"addresses (generated in {time.perf_counter() - start:.0f} s); "
                f"{os.cpu_count()} cores"
            )
            postgres = args.postgres if "postgis" in chosen else None
            for name, url in backends(postgres, tmp, SCRATCH_DB):
                if name.lower() in chosen:
                    bench(name, url, paths, folder, args)
            if args.keep is None:
                shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
