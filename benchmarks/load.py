"""Load test (压力测试): lookups by point and by address, 32 clients, per backend.

The issue's test: lookups by point and by address at 32 concurrent clients on
loopback for 60 s each, on SpatiaLite and on PostGIS; target 0 errors and p99
under 50 ms. For each backend (SpatiaLite always; PostGIS with ``--postgres
URL`` or GEOGRID_TEST_POSTGRES_URL, in a scratch database dropped at the end)
this builds the sample county, serves it with one uvicorn worker (the load
tool needs the second core; see ``lookup.serve``), asks one point and one
address first (they build the snapshot and the address index, timed apart),
runs an unmeasured warm-up, and then two wrk runs: random points in the grids'
bounding box (``lookup_points.lua``) and seeded sample addresses typed as text,
URL-encoded, in rotation (``lookup_addresses.lua``). Errors are non-2xx
answers plus socket errors (connect, read, write, timeouts over 10 s).

Usage: .venv/bin/python benchmarks/load.py [--seconds 60] [--threads 2]
    [--addresses 3000] [--warmup 5] [--workers 1] [--postgres postgresql+psycopg://u:pw@host/db]
"""

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lookup import (
    CONCURRENCY,
    LUA,
    address_texts,
    backends,
    build,
    first_answer,
    grid_box,
    serve,
    wrk_run,
)

from geogrid.services.lookup import LookupService
from geogrid.store.engine import make_engine

ADDRESS_LUA = Path(__file__).resolve().parent / "lookup_addresses.lua"
SCRATCH_DB = "geogrid_bench_load"
P99_TARGET_MS = 50.0


def run_backend(
    name: str, url: str, args: argparse.Namespace, tmp: Path
) -> list[tuple[Any, ...]]:
    """Build, serve and load one backend; print what was set up; return its rows.

    Each row is wrk's (what, p50, p90, p99, req/s, errors) and the machine's
    1-minute load average when the run ended: on 2 cores, anything above ~2
    means other work competed with the server and wrk.
    """
    built = build(url)
    engine = make_engine(url)
    box = grid_box(LookupService(engine))
    engine.dispose()
    texts = address_texts(args.addresses, args.seed)
    paths = tmp / f"{name}-addresses.txt"
    paths.write_text(
        "".join(f"/lookup?address={quote(t, safe='')}\n" for t in texts),
        encoding="utf-8",
    )
    point_args = [*map(str, box), str(args.seed)]
    address_args = [str(paths), str(args.threads)]
    runs = [
        ("point", LUA, point_args),
        ("address", ADDRESS_LUA, address_args),
    ]
    with serve(url, workers=args.workers) as base:
        centre = {"lon": (box[0] + box[2]) / 2, "lat": (box[1] + box[3]) / 2}
        first_point = first_answer(base, centre)
        first_address = first_answer(base, {"address": texts[0]})
        rows = []
        for what, script, script_args in runs:
            if args.warmup:
                wrk_run(base, script, script_args, args.warmup, threads=args.threads)
            row = wrk_run(
                base, script, script_args, args.seconds, what=what, threads=args.threads
            )
            rows.append((*row, os.getloadavg()[0]))
    print(
        f"{name}: sample built in {built:.1f} s; first point answer "
        f"{first_point:.2f} s (snapshot), first address answer {first_address:.2f} s"
        " (address index)"
    )
    return rows


def print_table(
    results: dict[str, list[tuple[Any, ...]]], args: argparse.Namespace
) -> None:
    print(
        f"\n== /lookup over HTTP: {CONCURRENCY} connections, {args.threads} wrk "
        f"threads, {args.seconds} s per run after {args.warmup} s unmeasured; "
        f"{args.workers} uvicorn worker(s)"
    )
    header = f"{'backend':<12}{'lookup':<9}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
    print(
        f"{header}{'errors':>8}{'load':>6}  "
        f"target (p99 < {P99_TARGET_MS:.0f} ms, 0 errors)"
    )
    for name, rows in results.items():
        for what, p50, _p90, p99, rate, errors, load in rows:
            ok = p99 < P99_TARGET_MS and errors == 0
            print(
                f"{name:<12}{what:<9}{rate:>9,.0f}{p50:>9.2f}{p99:>9.2f}"
                f"{errors:>8}{load:>6.1f}  {'met' if ok else 'MISSED'}"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=60, help="per wrk run")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn workers (they share the cores with wrk)",
    )
    parser.add_argument("--addresses", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured load, s")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("GEOGRID_TEST_POSTGRES_URL"),
        help="a PostGIS server URL (superuser); a scratch database is made on it",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit(
            "wrk is not installed: it is the load tool this benchmark drives.\n"
            "Install it from Debian with `apt-get install -y wrk` and run again."
        )
    if not args.postgres:
        print("PostGIS skipped: give --postgres URL or set GEOGRID_TEST_POSTGRES_URL")
    results: dict[str, list[tuple[Any, ...]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, url in backends(args.postgres, tmp, SCRATCH_DB):
            results[name] = run_backend(name, url, args, Path(tmp))
    print_table(results, args)


if __name__ == "__main__":
    main()
