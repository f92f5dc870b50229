"""Point and address lookup latency (谁负责), in-process and over HTTP, per backend.

Builds the sample county into a temporary SpatiaLite file and, given
``--postgres URL`` (or GEOGRID_TEST_POSTGRES_URL), into a scratch PostGIS
database ``geogrid_bench_lookup`` dropped at the end. Measures in-process:
N seeded random points in the grids' bounding box through
``LookupService.point`` (caller STAFF; the snapshot build is timed apart), the
bare ``lookup_point`` engine on the same points (the baseline: the service's
floor) and 2,000 seeded sample addresses through ``LookupService.address``
(the address index build is timed apart). Over HTTP: one uvicorn worker
(``create_app``) on 127.0.0.1, warmed up by one request, loaded by 32
connections from wrk (``lookup_points.lua``) or asyncio + httpx.

Targets (issue text): in-process point median under 1 ms; HTTP p99 under
50 ms with 32 clients on 2 cores; no errors (non-2xx, socket errors, timeouts).

Usage: .venv/bin/python benchmarks/lookup.py [--points 20000] [--seconds 20]
    [--client wrk|python] [--warmup S] [--postgres postgresql+psycopg://u:pw@host/db]
"""

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np
import pandas as pd
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import shapely

from geogrid.domain.access import Role
from geogrid.services.demo import SAMPLE_DIR, build_sample
from geogrid.services.lookup import LookupService
from geogrid.spatial.lookup import lookup_point
from geogrid.store.engine import init_db, make_engine

LUA = Path(__file__).resolve().parent / "lookup_points.lua"
SCRATCH_DB = "geogrid_bench_lookup"
CONCURRENCY = 32
TIMEOUT_S = 10  # a slower answer counts as an error (wrk's default is 2 s)
Row = tuple[str, float, float, float, float, int | None]  # what, p50, p90, p99, /s, err
Box = tuple[float, float, float, float]


def timed(call: Callable[..., Any], items: list[tuple[Any, ...]]) -> list[float]:
    times = []
    for item in items:
        t = time.perf_counter()
        call(*item)
        times.append(time.perf_counter() - t)
    return times


def row(what: str, times: list[float], scale: float, **kw: Any) -> Row:
    p50, p90, p99 = np.percentile(np.asarray(times) * scale, [50, 90, 99])
    rate = kw.get("rate", len(times) / sum(times))
    return what, float(p50), float(p90), float(p99), rate, kw.get("errors")


def in_process(url: str, n: int, seed: int) -> tuple[list[Row], dict[str, float], Box]:
    engine = make_engine(url)
    service = LookupService(engine)
    t0 = time.perf_counter()
    snap = service.snapshot()
    extra = {"snapshot build, s": time.perf_counter() - t0}
    index = snap.index
    box = grid_box(service)
    rng = np.random.default_rng(seed)
    xs = rng.uniform(box[0], box[2], n).tolist()
    ys = rng.uniform(box[1], box[3], n).tolist()
    points = list(zip(xs, ys, strict=True))
    staff_point = partial(service.point, caller=Role.STAFF)
    staff_point(*points[0])  # warm-up: transformers, caches
    found = [staff_point(*p).found for p in points[: max(n // 10, 1)]]
    extra["points inside an area, %"] = 100 * sum(found) / len(found)
    bare = partial(lookup_point, index)
    rows = [
        row("point, service (ms)", timed(staff_point, points), 1e3),
        row("point, bare engine (µs)", timed(bare, points), 1e6),
    ]
    sample = [(t,) for t in address_texts(2000, seed)]
    t0 = time.perf_counter()
    service.address(*sample[0])
    extra["address index build (1st call), s"] = time.perf_counter() - t0
    rows.append(row("address, service (ms)", timed(service.address, sample), 1e3))
    engine.dispose()
    return rows, extra, box


def wrk_run(
    base: str,
    script: Path,
    script_args: list[str],
    seconds: int,
    *,
    what: str = "HTTP point, wrk (ms)",
    threads: int = 1,
) -> Row:
    """One wrk run of ``seconds`` at CONCURRENCY connections; its p50/p90/p99 and errors.

    Errors are non-2xx answers (counted by the script, which prints "non2xx N")
    plus socket errors (connect, read, write, timeout).
    """
    cmd = ["wrk", f"-t{threads}", f"-c{CONCURRENCY}", f"-d{seconds}s"]
    cmd += [f"--timeout={TIMEOUT_S}s", "--latency", "-s", str(script), base]
    out = subprocess.run(
        [*cmd, "--", *script_args], capture_output=True, text=True, check=True
    ).stdout
    unit = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}

    def find(pattern: str) -> re.Match[str]:
        match = re.search(pattern, out, re.M)
        assert match, f"{pattern!r} not in wrk output:\n{out}"
        return match

    p50, p90, p99 = (find(rf"^\s+{p}%\s+([\d.]+)(us|ms|s|m)\s*$") for p in (50, 90, 99))
    socket_errors = re.search(r"Socket errors:(.*)", out)  # absent when none
    errors = sum(map(int, re.findall(r"\d+", socket_errors[1]))) if socket_errors else 0
    errors += int(find(r"^non2xx (\d+)")[1])
    ms = [float(m[1]) * unit[m[2]] for m in (p50, p90, p99)]
    rate = float(find(r"Requests/sec:\s+([\d.]+)")[1])
    return (what, *ms, rate, errors)  # type: ignore[return-value]


async def python_run(base: str, box: Box, seconds: int, seed: int, cap: int) -> Row:
    rng = np.random.default_rng(seed)
    times: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=CONCURRENCY)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        while time.perf_counter() < deadline and len(times) < cap:
            lon, lat = rng.uniform(box[0], box[2]), rng.uniform(box[1], box[3])
            t = time.perf_counter()
            try:
                r = await client.get("/lookup", params={"lon": lon, "lat": lat})
                errors += not r.is_success
            except httpx.HTTPError:
                errors += 1
            times.append(time.perf_counter() - t)

    start = time.perf_counter()
    client = httpx.AsyncClient(base_url=base, limits=limits, timeout=TIMEOUT_S)
    async with client:
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENCY)))
    rate = len(times) / (time.perf_counter() - start)
    return row("HTTP point, httpx (ms)", times, 1e3, rate=rate, errors=errors)


def load(base: str, box: Box, seconds: int, args: argparse.Namespace) -> Row:
    if args.client == "wrk":
        return wrk_run(base, LUA, [*map(str, box), str(args.seed)], seconds)
    return asyncio.run(python_run(base, box, seconds, args.seed, args.max_requests))


@contextmanager
def serve(url: str, *, workers: int = 1) -> Iterator[str]:
    """Run the app in uvicorn on 127.0.0.1; yield its base URL; always stop it.

    One worker by default: on two cores the load tool needs the other one.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "uvicorn", "geogrid.api.app:create_app", "--factory"]
    cmd += ["--host", "127.0.0.1", f"--port={port}", f"--workers={workers}"]
    cmd += ["--log-level=warning", "--no-access-log"]
    env = os.environ | {"GEOGRID_DATABASE_URL": url}
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start")
                try:  # any answer will do: without lon/lat it is a quick 4xx
                    httpx.get(f"{base}/lookup", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            yield base
        except Exception:
            log.seek(0)
            print(log.read()[-3000:], file=sys.stderr)
            raise
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()


def first_answer(base: str, params: dict[str, Any], *, timeout: float = 60) -> float:
    """Seconds until the first lookup answers (it builds the snapshot or index)."""
    t0 = time.perf_counter()
    httpx.get(f"{base}/lookup", params=params, timeout=timeout).raise_for_status()
    return time.perf_counter() - t0


def over_http(url: str, box: Box, args: argparse.Namespace) -> tuple[Row, float]:
    """Start the server, time its first answer, load it; always stop it."""
    with serve(url) as base:
        centre = {"lon": (box[0] + box[2]) / 2, "lat": (box[1] + box[3]) / 2}
        first = first_answer(base, centre)
        if args.warmup:  # optional: discarded load, so worker threads exist
            load(base, box, args.warmup, args)
        return load(base, box, args.seconds, args), first


def build(url: str) -> float:
    """Migrate and build the sample county into ``url``; seconds taken."""
    engine = make_engine(url)
    init_db(engine)
    t0 = time.perf_counter()
    build_sample(engine, SAMPLE_DIR, tolerance_m=5.0)
    built = time.perf_counter() - t0
    engine.dispose()
    return built


def grid_box(service: LookupService) -> Box:
    """The bounding box of the snapshot's grids (网格), where points are drawn."""
    index = service.snapshot().index
    x0, y0, x1, y1 = shapely.total_bounds(index.area_geoms[index.area_level == "grid"])
    return float(x0), float(y0), float(x1), float(y1)


def address_texts(n: int, seed: int) -> list[str]:
    """``n`` seeded sample addresses (地址) of the sample county, as typed."""
    texts = pd.read_csv(SAMPLE_DIR / "addresses.csv", dtype=str)["text"]
    return texts.sample(n, random_state=seed).tolist()


def bench(name: str, url: str, args: argparse.Namespace) -> list[Row]:
    built = build(url)
    rows, extra, box = in_process(url, args.points, args.seed)
    http, first = over_http(url, box, args)
    rows.append(http)
    extra["first HTTP request (snapshot build), s"] = first
    print(f"\n== {name}: sample built in {built:.1f} s; grids' bbox {box}")
    for key, value in extra.items():
        print(f"   {key}: {value:,.3f}")
    print(f"{'what':<26}{'p50':>9}{'p90':>9}{'p99':>9}{'per s':>10}{'errors':>8}")
    for what, p50, p90, p99, rate, err in rows:
        errs = "" if err is None else str(err)
        print(f"{what:<26}{p50:>9.3f}{p90:>9.3f}{p99:>9.3f}{rate:>10,.0f}{errs:>8}")
    return rows


def backends(postgres: str | None, tmp: str, scratch: str) -> Iterator[tuple[str, str]]:
    """(name, URL) of SpatiaLite in ``tmp``, then of a scratch PostGIS database.

    The scratch database is recreated on the ``postgres`` server and dropped
    when the iteration ends; an unreachable server is reported and skipped.
    """
    yield "SpatiaLite", f"sqlite:///{tmp}/g.sqlite"
    if not postgres:
        return
    admin = create_engine(postgres, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"))
            c.execute(text(f"CREATE DATABASE {scratch}"))
    except Exception as exc:  # noqa: BLE001 - unreachable: say so and skip
        print(f"PostGIS skipped: {str(exc).splitlines()[0]}")
        admin.dispose()
        return
    try:
        url = make_url(postgres).set(database=scratch)
        yield "PostGIS", url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {scratch} WITH (FORCE)"))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--client", choices=["wrk", "python"], default="wrk")
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--warmup", type=int, default=0, help="unmeasured load, s")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("GEOGRID_TEST_POSTGRES_URL"),
        help="a PostGIS server URL (superuser); a scratch database is made on it",
    )
    args = parser.parse_args()
    if args.client == "wrk" and shutil.which("wrk") is None:
        print("wrk is not on PATH (apt-get install wrk): using the Python client")
        args.client = "python"
    print(
        f"{args.points:,} points, 2,000 addresses; HTTP: {CONCURRENCY} connections "
        f"for {args.seconds} s after {args.warmup} s unmeasured, client {args.client}"
    )
    results: dict[str, list[Row]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, url in backends(args.postgres, tmp, SCRATCH_DB):
            results[name] = bench(name, url, args)
    print("\n== targets")
    for name, rows in results.items():
        median, http = rows[0][1], rows[-1]
        for what, ok in [
            (f"in-process point median < 1 ms ({median:.3f} ms)", median < 1.0),
            (f"HTTP p99 < 50 ms ({http[3]:.1f} ms)", http[3] < 50.0),
            (f"HTTP errors = 0 ({http[5]})", http[5] == 0),
        ]:
            print(f"   {name:<11}{'met' if ok else 'MISSED':<8}{what}")


if __name__ == "__main__":
    main()
