"""Address matching (地址匹配): accuracy, latency, throughput and build time.

1. The sample county's own addresses, rewritten the ways staff type them
   (prefix dropped, Chinese numerals, 幢/栋/#, full-width digits, spaces, and
   harder forms: estate only, dashed 3-2-301, 弄 for 巷, a typo), matched back:
   top-1 rate, confident rate, wrong-confident rate, median/p99 ms.
2. 18,367 real messy company addresses from other cities (cpca corpus) against
   the same index: matches per second, exceptions, share confident.
3. Optionally (--scale N) an index of N × 20,616 addresses, renamed per copy,
   for build time, memory and latency at about a million addresses.

Usage: .venv/bin/python benchmarks/address_match.py [--sample 5000] [--scale 49]
"""

import argparse
import gc
import json
import re
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from geogrid.domain.address_index import AddressIndex

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "boundaries"
REALDATA = ROOT.parent / "shared" / "realdata"
CN = "零一二三四五六七八九"


def load_sample() -> tuple[pd.DataFrame, pd.DataFrame]:
    addresses = pd.read_csv(SAMPLE / "addresses.csv", dtype=str)
    addresses["building_code"] = addresses["code"].str.rsplit("-", n=1).str[0]
    features = json.loads((SAMPLE / "buildings.geojson").read_text("utf-8"))
    buildings = pd.DataFrame([f["properties"] for f in features["features"]])
    return addresses[["code", "text", "building_code"]], buildings


def cn(number: str) -> str:
    n = int(number)
    if n < 10:
        return CN[n]
    if n < 100:
        return (CN[n // 10] if n >= 20 else "") + "十" + (CN[n % 10] if n % 10 else "")
    return number


def drop_prefix(t: str, rng: np.random.Generator) -> str:
    cut = rng.choice(
        ["甘肃省平凉市", "甘肃省平凉市安和县", "甘肃省平凉市安和县城关街道"]
    )
    return ("安和县" if rng.random() < 0.3 else "") + t.removeprefix(cut)


def cn_numerals(t: str, rng: np.random.Generator) -> str:
    return re.sub(r"(\d+)(号楼|单元)", lambda m: cn(m[1]) + m[2], t)


def zhuang(t: str, rng: np.random.Generator) -> str:
    return t.replace("号楼", str(rng.choice(["幢", "栋", "#楼", "座"])))


def fullwidth(t: str, rng: np.random.Generator) -> str:
    return re.sub(r"\d", lambda m: chr(ord(m[0]) + 0xFEE0), t)


def spaces(t: str, rng: np.random.Generator) -> str:
    return re.sub(r"(社区|号楼|单元|号)", r"\1 ", t)


def common(t: str, rng: np.random.Generator) -> str:
    t = drop_prefix(t, rng)
    for form in (cn_numerals, zhuang, fullwidth, spaces):
        if rng.random() < 0.5:
            t = form(t, rng)
    return t


def estate_only(t: str, rng: np.random.Generator) -> str:
    t = re.sub(r"^.*?社区", "", t)
    return re.sub(r"^[^\d]+?\d+号(?=[^\d]+\d+号楼)", "", t)  # 人民路2号 goes


def dashed(t: str, rng: np.random.Generator) -> str:
    t = estate_only(t, rng)
    t = re.sub(r"(\d+)号楼(\d+)单元(\d+)室", r"\1-\2-\3", t)
    return re.sub(r"号(\d+)单元(\d+)室", r"号\1-\2", t)


def lane_variant(t: str, rng: np.random.Generator) -> str:
    return re.sub(r"巷(?=\d)", "弄", re.sub(r"路(?=\d)", "街", drop_prefix(t, rng)))


def typo(t: str, rng: np.random.Generator) -> str:
    t = re.sub(r"^.*?社区", "", t)
    name = re.match(r"[^\d]+", t)
    if not name or len(name[0]) < 3:
        return t
    i = int(rng.integers(0, len(name[0]) - 1))
    return t[:i] + "华" + t[i + 1 :]


FORMS: dict[str, Callable[[str, np.random.Generator], str]] = {
    "drop prefix": drop_prefix,
    "Chinese numerals": lambda t, r: cn_numerals(drop_prefix(t, r), r),
    "幢/栋/#/座": lambda t, r: zhuang(drop_prefix(t, r), r),
    "full-width digits": lambda t, r: fullwidth(drop_prefix(t, r), r),
    "spaces": spaces,
    "mixed common forms": common,
    "estate only (no road, no admin)": estate_only,
    "dashed 3-2-301": dashed,
    "弄 for 巷, 街 for 路": lane_variant,
    "one-character typo": typo,
}


def accuracy(index: AddressIndex, addresses: pd.DataFrame, n: int) -> None:
    rng = np.random.default_rng(20261123)
    rows = addresses.iloc[
        rng.choice(len(addresses), min(n, len(addresses)), replace=False)
    ]
    print(f"\naccuracy on {len(rows):,} sample addresses per form")
    print(
        f"{'form':34s} {'top-1':>7s} {'confident':>9s} {'wrong-conf':>10s} {'med ms':>7s} {'p99 ms':>7s}"
    )
    for name, form in FORMS.items():
        top = conf = wrong = 0
        times = []
        for code, text in zip(rows["code"], rows["text"], strict=True):
            query = form(text, rng)
            start = time.perf_counter()
            m = index.match(query)
            times.append((time.perf_counter() - start) * 1000)
            hit = bool(m.candidates) and m.candidates[0].code == code
            top += hit
            conf += m.is_confident
            wrong += m.is_confident and not hit
        k = len(rows)
        print(
            f"{name:34s} {top / k:7.1%} {conf / k:9.1%} {wrong / k:10.2%} "
            f"{statistics.median(times):7.3f} {np.percentile(times, 99):7.3f}"
        )


def cpca(index: AddressIndex) -> None:
    path = REALDATA / "cpca_address_corpus" / "addr.csv"
    if not path.exists():
        print(f"\n{path} missing; cpca throughput skipped")
        return
    texts = pd.read_csv(path, dtype=str)["原始地址"].fillna("").tolist()
    errors = confident = 0
    start = time.perf_counter()
    for text in texts:
        try:
            confident += index.match(text).is_confident
        except Exception:  # noqa: BLE001 - counting every failure is the point
            errors += 1
    seconds = time.perf_counter() - start
    print(f"\ncpca corpus: {len(texts):,} addresses from other cities")
    print(
        f"  {len(texts) / seconds:,.0f} matches/s, {errors} exceptions, {confident / len(texts):.2%} confident"
    )


def build(
    addresses: pd.DataFrame, buildings: pd.DataFrame
) -> tuple[AddressIndex, float, float]:
    """Build twice: timed cold, then traced warm, so the parse cache is not counted."""
    gc.collect()
    start = time.perf_counter()
    AddressIndex.build(addresses, buildings)
    seconds = time.perf_counter() - start
    gc.collect()
    tracemalloc.start()
    index = AddressIndex.build(addresses, buildings)
    held = tracemalloc.get_traced_memory()[0] / 1e6
    tracemalloc.stop()
    return index, seconds, held


def scaled(
    addresses: pd.DataFrame, buildings: pd.DataFrame, copies: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``copies`` renamed copies of the county: every estate and road gets a prefix."""
    chars = "金银铜铁锦绣华盛康泰福禄寿喜春夏秋冬梅兰竹菊松柏杨柳"
    words = [a + b for a in chars for b in chars if a != b][:copies]
    estates = set(buildings.loc[buildings["estate"] != "", "estate"])
    roads = buildings.loc[buildings["estate"] == "", "name"].str.extract(
        r"^(.+?)\d+号$"
    )[0]
    names = estates | {e.removesuffix("小区") for e in estates} | set(roads.dropna())
    pattern = re.compile("|".join(sorted(map(re.escape, names), key=len, reverse=True)))
    a_parts, b_parts = [], []
    for i, word in enumerate(words):

        def rename(s: str, word: str = word) -> str:
            return pattern.sub(lambda m: word + m[0], s)

        a_parts.append(
            addresses.assign(
                code=f"C{i:03d}-" + addresses["code"],
                text=addresses["text"].map(rename),
                building_code=f"C{i:03d}-" + addresses["building_code"],
            )
        )
        b_parts.append(
            buildings.assign(
                code=f"C{i:03d}-" + buildings["code"],
                name=buildings["name"].map(rename),
                estate=buildings["estate"].map(rename),
            )
        )
    return pd.concat(a_parts, ignore_index=True), pd.concat(b_parts, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=5000, help="addresses per form")
    parser.add_argument(
        "--scale", type=int, default=0, help="copies of the county to index"
    )
    args = parser.parse_args()

    addresses, buildings = load_sample()
    index, seconds, held = build(addresses, buildings)
    print(f"sample county: {len(addresses):,} addresses, {len(buildings):,} buildings")
    print(
        f"  build {seconds:.2f} s, index holds {held:.1f} MB (texts and codes are the caller's)"
    )
    accuracy(index, addresses, args.sample)
    cpca(index)

    if args.scale:
        big_a, big_b = scaled(addresses, buildings, args.scale)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        big, seconds, held = build(big_a, big_b)
        print(f"\nscaled: {len(big_a):,} addresses, {len(big_b):,} buildings")
        print(
            f"  build {seconds:.1f} s, index holds {held:.0f} MB; peak RSS {rss:.0f} → "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
        )
        rng = np.random.default_rng(7)
        picks = rng.choice(len(big_a), 2000, replace=False)
        times, top = [], 0
        for r in picks:
            query = common(big_a["text"].iat[r], rng)
            start = time.perf_counter()
            m = big.match(query)
            times.append((time.perf_counter() - start) * 1000)
            top += bool(m.candidates) and m.candidates[0].code == big_a["code"].iat[r]
        print(
            f"  mixed common forms: top-1 {top / len(picks):.1%}, "
            f"median {statistics.median(times):.3f} ms, p99 {np.percentile(times, 99):.3f} ms"
        )


if __name__ == "__main__":
    main()
