import json
import random
import re
import statistics
import time
from pathlib import Path

import pandas as pd
import pytest

from geogrid.domain.address_index import AddressIndex

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "boundaries"
PREFIX = "甘肃省平凉市安和县"
CN = "零一二三四五六七八九"


def _load() -> tuple[pd.DataFrame, pd.DataFrame]:
    addresses = pd.read_csv(SAMPLE / "addresses.csv", dtype=str)[["code", "text"]]
    # An address code is its building's code plus a dwelling number.
    addresses["building_code"] = addresses["code"].str.rsplit("-", n=1).str[0]
    features = json.loads((SAMPLE / "buildings.geojson").read_text("utf-8"))
    buildings = pd.DataFrame([f["properties"] for f in features["features"]])
    return addresses, buildings[["code", "name", "number", "estate"]]


@pytest.fixture(scope="module")
def sample() -> tuple[pd.DataFrame, pd.DataFrame]:
    return _load()


@pytest.fixture(scope="module")
def index(sample: tuple[pd.DataFrame, pd.DataFrame]) -> AddressIndex:
    return AddressIndex.build(*sample)


def _cn(number: str) -> str:
    n = int(number)
    if n < 10:
        return CN[n]
    return (CN[n // 10] if n >= 20 else "") + "十" + (CN[n % 10] if n % 10 else "")


def _rewrite(text: str, rng: random.Random) -> str:
    """One of the ways staff type a standard address."""
    text = text.removeprefix(rng.choice([PREFIX, PREFIX + "城关街道", "甘肃省平凉市"]))
    if rng.random() < 0.5:
        text = re.sub(r"(\d+)(号楼|单元)", lambda m: _cn(m[1]) + m[2], text)
    if rng.random() < 0.5:
        text = text.replace("号楼", rng.choice(["幢", "栋", "#楼"]))
    if rng.random() < 0.5:
        text = re.sub(r"\d", lambda m: chr(ord(m[0]) + 0xFEE0), text)
    if rng.random() < 0.5:
        text = re.sub(r"(社区|号楼|幢|栋|单元|号)", r"\1 ", text)
    return text


def test_match_rewritten_sample_addresses_find_the_original(
    index: AddressIndex,
    sample: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    addresses, _ = sample
    rng = random.Random(20261123)
    rows = addresses.sample(200, random_state=20261123)
    top = wrong_confident = 0
    for code, text in zip(rows["code"], rows["text"], strict=True):
        m = index.match(_rewrite(text, rng))
        hit = bool(m.candidates) and m.candidates[0].code == code
        top += hit
        wrong_confident += m.is_confident and not hit
    rate = top / len(rows)
    assert rate >= 0.95, f"top-1 rate {rate:.1%}"
    assert wrong_confident == 0, f"{wrong_confident} confident and wrong"


def test_match_exact_full_text_scores_one_and_is_confident(
    index: AddressIndex, sample: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    code, text = sample[0].iloc[1234][["code", "text"]]
    m = index.match(text)
    assert m.is_confident
    assert (m.candidates[0].kind, m.candidates[0].code) == ("address", code)
    assert m.candidates[0].score == 1.0


def test_match_estate_and_building_only_finds_the_building(
    index: AddressIndex, sample: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    buildings = sample[1]
    row = buildings[buildings["estate"] == "幸福里小区"].iloc[2]
    for query in (f"幸福里小区{row['number']}", row["name"], "幸福里三幢"):
        m = index.match(query)
        assert m.is_confident, query
        best = m.candidates[0]
        assert (best.kind, best.code) == ("building", row["code"]), query
        assert set(best.matched) >= {"estate", "building"}


def test_match_road_house_without_unit_finds_the_building(index: AddressIndex) -> None:
    m = index.match("东大街二十五号")
    assert m.is_confident
    assert (m.candidates[0].kind, m.candidates[0].text) == ("building", "东大街25号")


def test_match_building_number_alone_is_ambiguous(index: AddressIndex) -> None:
    m = index.match("3号楼")
    assert not m.is_confident
    texts = [c.text for c in m.candidates if c.kind == "building"]
    assert len(texts) >= 2
    assert all(t.endswith("3号楼") for t in texts)


def test_match_building_number_alone_is_never_confident(index: AddressIndex) -> None:
    m = index.match("19号楼")  # only 东湖雅居 has a 19号楼, but no estate was named
    assert m.candidates[0].text == "东湖雅居19号楼"
    assert not m.is_confident


def test_match_exact_text_decides_between_addresses_that_parse_alike() -> None:
    addresses = pd.DataFrame(
        {
            "code": ["A1", "A2"],
            "text": ["安和县东大街25号门面", "安和县东大街25号"],
            "building_code": [None, None],
        }
    )
    buildings = pd.DataFrame(columns=["code", "name", "number", "estate"])
    tiny = AddressIndex.build(addresses, buildings)
    m = tiny.match("东大街25号 门面")
    assert m.is_confident
    assert (m.candidates[0].code, m.candidates[0].score) == ("A1", 1.0)


def test_match_estate_named_like_a_road_is_found_whole() -> None:
    addresses = pd.DataFrame(
        {
            "code": ["J1", "J2"],
            "text": ["金街新花园3号楼1单元101室", "金街新花园4号楼1单元101室"],
            "building_code": ["B3", "B4"],
        }
    )
    buildings = pd.DataFrame(
        {
            "code": ["B3", "B4"],
            "name": ["金街新花园3号楼", "金街新花园4号楼"],
            "number": ["3号楼", "4号楼"],
            "estate": ["金街新花园", "金街新花园"],
        }
    )
    index = AddressIndex.build(addresses, buildings)
    m = index.match("金街新花园三幢")
    assert m.is_confident
    assert (m.candidates[0].kind, m.candidates[0].code) == ("building", "B3")
    assert m.parts.estate == "金街新花园"
    m = index.match("金街新花园3号楼1单元101室")
    assert m.is_confident
    assert (m.candidates[0].code, m.candidates[0].score) == ("J1", 1.0)


def test_match_admin_prefix_missing_in_stored_text_still_matches(
    sample: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    addresses, buildings = sample
    stored = addresses.assign(text=addresses["text"].str.removeprefix(PREFIX))
    short = AddressIndex.build(stored, buildings)
    code, text = addresses.iloc[4321][["code", "text"]]
    m = short.match(text)  # the query carries 甘肃省平凉市安和县, the index does not
    assert m.is_confident
    assert m.candidates[0].code == code


def test_match_links_buildings_by_components_without_building_code(
    sample: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    addresses, buildings = sample
    unlinked = AddressIndex.build(addresses.assign(building_code=None), buildings)
    code, text = addresses.iloc[777][["code", "text"]]
    m = unlinked.match(text)
    assert m.is_confident
    assert m.candidates[0].code == code


@pytest.mark.parametrize(
    "query",
    [
        "北京市海淀区北西环西路66号中国技术交易大厦B座1728",
        "深圳市南山区东滨路86号B栋第一商务中心2楼",
        "广州国际采购中心1401",
        "北京市海淀区东大街1号1单元101室",  # a road name this county has too
        "甘肃省兰州市城关区东关巷12号",
        "幸福里小区99号楼2单元101室",  # no such building
        "幸福里小区3号楼2单元9901室",  # no such room
    ],
)
def test_match_address_that_is_not_here_is_not_confident(
    index: AddressIndex, query: str
) -> None:
    assert not index.match(query).is_confident


def test_match_fuzzy_estate_name_ranks_first_but_is_not_confident(
    index: AddressIndex,
) -> None:
    m = index.match("瑞丰家园12号楼2单元101室")  # stored: 瑞丰嘉园
    assert not m.is_confident
    assert m.candidates[0].text.endswith("瑞丰嘉园12号楼2单元101室")


def test_match_nong_for_xiang_matches_below_exact(index: AddressIndex) -> None:
    m = index.match("东关弄12号")
    assert m.candidates[0].text.endswith("东关巷12号")
    assert 0.8 <= m.candidates[0].score < 1.0


def test_match_limit_caps_candidates(index: AddressIndex) -> None:
    assert len(index.match("3号楼", limit=2).candidates) == 2
    assert index.match("3号楼", limit=0).candidates == ()


@pytest.mark.parametrize(
    "query",
    [
        "",
        " ",
        "😀" * 3,
        "😀" * 10_000,
        "1234567890",
        "，。、!?",
        "\x00",
        "\ud800",
        "#-#-#",
        "3-",
        "一" * 500,
        "号楼单元室",
        "幸福里" * 1000,
        "A座B座",
        "零零零号楼",
    ],
)
def test_match_never_raises_on_edge_inputs(index: AddressIndex, query: str) -> None:
    m = index.match(query)
    assert m.query == query
    assert not m.is_confident


def test_match_random_strings_never_raise(index: AddressIndex) -> None:
    rng = random.Random(11)
    pool = "0123456789一二十号楼幢座单元室弄巷路街小区社区省市县街道-#（） Ａ😀幸福里东关人民"
    for _ in range(1000):
        index.match("".join(rng.choice(pool) for _ in range(rng.randint(0, 50))))


def test_match_median_latency_is_well_under_5_ms(
    index: AddressIndex, sample: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    rng = random.Random(5)
    texts = sample[0]["text"].sample(200, random_state=5).tolist()
    times = []
    for text in texts:
        query = _rewrite(text, rng)
        start = time.perf_counter()
        index.match(query)
        times.append(time.perf_counter() - start)
    assert statistics.median(times) < 0.005


def test_an_index_built_from_chunks_answers_as_one_built_whole(
    index: AddressIndex, sample: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    """A city's addresses come from the database a chunk at a time."""
    addresses, buildings = sample
    chunks = (addresses.iloc[i : i + 7] for i in range(0, len(addresses), 7))
    chunked = AddressIndex.build(chunks, buildings)
    rng = random.Random(7)
    for text in addresses["text"].sample(60, random_state=7):
        typed = _rewrite(text, rng)
        assert chunked.match(typed) == index.match(typed)


def test_an_address_candidate_names_the_building_it_is_stored_in(
    index: AddressIndex, sample: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    addresses, _ = sample
    row = addresses.iloc[42]
    best = index.match(row["text"]).candidates[0]
    assert (best.kind, best.code, best.building) == (
        "address",
        row["code"],
        row["building_code"],
    )


def test_one_group_of_rows_is_taken_as_it_is_and_several_are_merged() -> None:
    """One 小区 key can hold 100,000 rows: re-sorting them cost 5 ms a query."""
    import numpy as np

    from geogrid.domain.address_index import _union

    one = np.array([2, 5, 9])
    assert _union([one, one[:0]]) is one
    assert _union([np.array([5, 7]), one]).tolist() == [2, 5, 7, 9]
    assert _union([]).tolist() == []
