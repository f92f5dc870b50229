import random

import pytest

from geogrid.domain.addresses import (
    AddressParts,
    estate_key,
    normalize_address,
    normalize_many,
    parse_address,
    parse_building,
    road_variant,
    split_admin,
)

PREFIX = "甘肃省平凉市安和县城关街道太平社区"


def test_normalize_address_full_width_becomes_half_width() -> None:
    assert normalize_address("ＡＢＣ１２３") == "ABC123"
    assert normalize_address("东关巷１２号") == "东关巷12号"
    assert normalize_address("幸福里３＃楼") == "幸福里3号楼"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("三号楼", "3号楼"),
        ("十二号", "12号"),
        ("十号", "10号"),
        ("二十三单元", "23单元"),
        ("一百零八室", "108室"),
        ("一百一十室", "110室"),
        ("两单元", "2单元"),
        ("二〇一室", "201室"),
        ("十八层", "18层"),
        ("三楼", "3楼"),
        ("东关三巷十二号", "东关3巷12号"),
        ("第三单元", "3单元"),
        ("二单元三零一", "2单元301"),
    ],
)
def test_normalize_address_numerals_before_markers_become_digits(
    typed: str, expected: str
) -> None:
    assert normalize_address(typed) == expected


@pytest.mark.parametrize("typed", ["第3层", "第三层", "第 3 层"])
def test_an_ordinal_reads_the_same_in_digits_and_in_numerals(typed: str) -> None:
    # 第三层 lost its 第 and 第3层 kept it: the two never matched.
    assert normalize_address(typed) == "3层"


@pytest.mark.parametrize(
    "name", ["三里屯", "五一路", "十里铺", "二郎巷", "三官巷", "七里河", "百花园"]
)
def test_normalize_address_numerals_inside_names_stay(name: str) -> None:
    assert normalize_address(name) == name
    assert normalize_address(f"{name}十二号") == f"{name}12号"


@pytest.mark.parametrize("typed", ["3幢", "3栋", "3座", "3#楼", "3#", "3号幢", "三幢"])
def test_normalize_address_building_markers_become_haolou(typed: str) -> None:
    assert normalize_address(typed) == "3号楼"


def test_normalize_address_letter_blocks_become_haolou() -> None:
    assert normalize_address("B座1728") == "B号楼1728"
    assert normalize_address("ABC座") == "ABC座"  # a word, not a block letter


def test_normalize_address_rooms_written_as_hu_become_shi() -> None:
    assert normalize_address("2单元301户") == "2单元301室"


def test_normalize_address_strips_spaces_and_punctuation() -> None:
    assert normalize_address(" 东关巷 12号（东门），。、,. ") == "东关巷12号东门"
    assert normalize_address("，。、,.-#()（）") == ""


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("幸福里3-2-301", "幸福里3号楼2单元301室"),
        ("幸福里3号楼2-301", "幸福里3号楼2单元301室"),
        ("东大街1号1-101", "东大街1号1单元101室"),
        ("幸福里3-301", "幸福里3号楼301室"),
        ("幸福里 3 2 301", "幸福里3号楼2单元301室"),
        ("３－２－３０１", "3号楼2单元301室"),
        ("人民路2-4号", "人民路2-4号"),  # a sub-number keeps its dash
    ],
)
def test_normalize_address_dashed_forms_get_markers(typed: str, expected: str) -> None:
    assert normalize_address(typed) == expected


def test_normalize_address_twice_changes_nothing() -> None:
    for typed in [
        "天和人家 三幢 二单元 301",
        "东大街1号1-101",
        "ＡＢ座１２０３户",
        "五一路十号",
    ]:
        once = normalize_address(typed)
        assert normalize_address(once) == once


def test_normalize_many_equals_one_at_a_time() -> None:
    texts = ["三号楼", "东关巷\n十二号", "", "3-2-301", "ＡＢＣ"]
    assert normalize_many(texts) == [normalize_address(t) for t in texts]
    assert normalize_many([]) == []


def test_parse_address_full_standard_address_with_estate() -> None:
    p = parse_address(f"{PREFIX}人民路2号幸福里小区1号楼1单元101室")
    assert p == AddressParts(
        admin=PREFIX,
        road="人民路",
        number="2",
        estate="幸福里小区",
        building="1",
        unit="1",
        room="101",
    )


def test_parse_address_estate_block_unit_room_without_prefix() -> None:
    p = parse_address("天和人家三幢二单元301")
    assert (p.admin, p.estate, p.building, p.unit, p.room) == (
        "",
        "天和人家",
        "3",
        "2",
        "301",
    )


def test_parse_address_road_and_door_number() -> None:
    p = parse_address("甘肃省平凉市安和县解放路7号")
    assert (p.admin, p.road, p.number, p.estate) == (
        "甘肃省平凉市安和县",
        "解放路",
        "7",
        "",
    )


def test_parse_address_lane_and_door_number() -> None:
    p = parse_address("安和县东关巷十二号")
    assert (p.admin, p.road, p.number) == ("安和县", "东关巷", "12")
    p = parse_address("鼓楼巷19号301室")
    assert (p.road, p.number, p.room) == ("鼓楼巷", "19", "301")


def test_parse_address_nong_lane_with_door_number() -> None:
    p = parse_address("人民路100弄5号")
    assert (p.road, p.number) == ("人民路100弄", "5")
    p = parse_address("康乐弄三号")
    assert (p.road, p.number) == ("康乐弄", "3")


def test_parse_address_road_with_shi_in_its_name_is_no_city() -> None:
    p = parse_address("文昌社区羊市弄10号")
    assert (p.admin, p.road, p.number) == ("文昌社区", "羊市弄", "10")
    assert parse_address("米市巷3号").admin == ""


def test_parse_address_estate_hao_is_a_building() -> None:
    p = parse_address("幸福里小区3号2单元301")
    assert (p.estate, p.building, p.unit, p.room, p.number) == (
        "幸福里小区",
        "3",
        "2",
        "301",
        "",
    )


def test_parse_address_letter_block_and_bare_room() -> None:
    p = parse_address("北京市海淀区北西环西路66号中国技术交易大厦B座1728")
    assert (p.admin, p.road, p.number) == ("北京市海淀区", "北西环西路", "66")
    assert (p.estate, p.building, p.room) == ("中国技术交易大厦", "B", "1728")


def test_parse_address_note_after_the_numbers_is_rest() -> None:
    p = parse_address("东大街25号东门")
    assert (p.road, p.number, p.estate, p.rest) == ("东大街", "25", "", "东门")


def test_parse_address_road_then_estate_split_only_with_estate_name() -> None:
    p = parse_address("人民路幸福里小区3号楼")
    assert (p.road, p.estate, p.building) == ("人民路", "幸福里小区", "3")
    p = parse_address("金街花园3号楼")
    assert (p.road, p.estate) == ("", "金街花园")


def test_parse_address_leading_zeros_dropped() -> None:
    p = parse_address("幸福里03号楼01单元0301室")
    assert (p.building, p.unit, p.room) == ("3", "1", "301")


def test_split_admin_gives_each_level() -> None:
    assert split_admin(f"{PREFIX}人民路1号") == (
        ("province", "甘肃省"),
        ("city", "平凉市"),
        ("county", "安和县"),
        ("town", "城关街道"),
        ("village", "太平社区"),
    )
    assert split_admin("甘肃省酒泉市玉门市玉门镇") == (
        ("province", "甘肃省"),
        ("city", "酒泉市"),
        ("county", "玉门市"),
        ("town", "玉门镇"),
    )
    assert split_admin("幸福里小区3号楼") == ()


def test_parse_building_takes_estate_column_and_number() -> None:
    p = parse_building("幸福里3号楼", "3号楼", "幸福里小区")
    assert (p.estate, p.building, p.number) == ("幸福里", "3", "")
    p = parse_building("东大街25号", "25号", "")
    assert (p.road, p.number, p.building) == ("东大街", "25", "")


def test_estate_key_drops_generic_xiaoqu() -> None:
    assert estate_key("幸福里小区") == estate_key("幸福里") == "幸福里"
    assert estate_key("新小区") == "新小区"  # nothing would be left


def test_road_variant_pairs_xiang_nong_and_jie_lu() -> None:
    assert road_variant("东关弄") == road_variant("东关巷")
    assert road_variant("人民路") == road_variant("人民街")
    assert road_variant("东关巷") != road_variant("东关路")


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "😀",
        "1234",
        "，。、",
        "\x00",
        "\ud800",
        "号" * 5000,
        "一" * 5000,
        "9" * 5000,
    ],
)
def test_parse_address_never_raises(text: str) -> None:
    assert isinstance(parse_address(text), AddressParts)


def test_parse_address_random_strings_never_raise() -> None:
    rng = random.Random(7)
    pool = "0123456789一二十百号楼幢座单元室户弄巷路街小区社区省市县区街道-#（） 　Ａ😀"
    for _ in range(2000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 40)))
        parts = parse_address(text)
        assert normalize_address(text).startswith(parts.admin)
