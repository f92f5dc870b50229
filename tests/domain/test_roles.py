import copy

import pytest
from pydantic import ValidationError

from geogrid.domain.roles import (
    RoleScheme,
    RoleType,
    load_preset,
    mask_phone,
    preset_names,
    scheme_from_mapping,
)
from geogrid.errors import InvalidInput

PRESETS = {
    "三长三员一民警": (
        "sanzhang_sanyuan_yijing",
        [
            ("grid_head", "网格长", "grid"),
            ("building_head", "楼栋长", "building"),
            ("floor_head", "楼长", "building"),
            ("grid_worker", "网格员", "grid"),
            ("health_worker", "社区健康员", "grid"),
            ("legal_adviser", "法律咨询员", "grid"),
            ("police", "社区民警", "grid"),
        ],
    ),
    "三长": (
        "sanzhang",
        [
            ("area_head", "片区长", "estate"),
            ("building_head", "楼栋长", "building"),
            ("lane_head", "弄巷长", "lane"),
        ],
    ),
    "五级网格": (
        "wuji_wangge",
        [
            ("grid_instructor", "网格指导员", "community"),
            ("grid_head", "网格长", "grid"),
            ("grid_worker", "网格员", "grid"),
            ("grid_assistant", "网格助理员", "grid"),
        ],
    ),
}

USER_SCHEME = {
    "name": "测试方案",
    "roles": [
        {"key": "grid_head", "title": "网格长", "attaches_to": "grid"},
        {
            "key": "grid_worker",
            "title": "网格员",
            "attaches_to": "grid",
            "required": 2,
            "max_holders": 3,
        },
    ],
}


def user_scheme(**changes: object) -> dict:
    data = copy.deepcopy(USER_SCHEME)
    data.update(changes)
    return data


def invalid_reason(data: dict) -> str:
    with pytest.raises(InvalidInput) as info:
        scheme_from_mapping(data, source="user.yaml")
    assert info.value.code == "scheme_invalid"
    return str(info.value.params["reason"])


# presets


def test_preset_names_are_the_three_shipped_schemes():
    assert sorted(preset_names()) == sorted(PRESETS)


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_has_exact_roles(name):
    scheme = load_preset(name)
    _, expected = PRESETS[name]
    assert scheme.name == name
    assert [(r.key, r.title, r.attaches_to) for r in scheme.roles] == expected
    assert all(r.duties and r.title_en for r in scheme.roles)


@pytest.mark.parametrize("name", list(PRESETS))
def test_load_by_slug_gives_the_same_scheme(name):
    slug, _ = PRESETS[name]
    assert load_preset(slug) == load_preset(name)


def test_jingchuan_requires_one_of_each():
    scheme = load_preset("三长三员一民警")
    assert {(r.required, r.max_holders) for r in scheme.roles} == {(1, 1)}


def test_puchneg_requires_one_of_each():
    scheme = load_preset("三长")
    assert {r.required for r in scheme.roles} == {1}


def test_penglai_assistant_is_optional_and_unlimited():
    assistant = load_preset("五级网格").role("grid_assistant")
    assert assistant.required == 0
    assert assistant.max_holders is None


def test_unknown_preset_names_the_available_ones():
    with pytest.raises(InvalidInput) as info:
        load_preset("四长")
    err = info.value
    assert err.code == "scheme_not_found"
    assert err.params["name"] == "四长"
    for name, (slug, _) in PRESETS.items():
        assert name in err.message("zh")
        assert slug in err.message("en")


# scheme methods


def test_roles_for_filters_by_target_in_order():
    scheme = load_preset("三长三员一民警")
    assert [r.key for r in scheme.roles_for("building")] == [
        "building_head",
        "floor_head",
    ]
    assert scheme.roles_for("street") == ()


def test_role_unknown_key():
    scheme = load_preset("三长")
    with pytest.raises(InvalidInput) as info:
        scheme.role("grid_head")
    err = info.value
    assert err.code == "role_unknown"
    assert err.params == {
        "role": "grid_head",
        "scheme": "三长",
        "available": "area_head、building_head、lane_head",
    }


def test_models_are_frozen():
    scheme = load_preset("三长")
    with pytest.raises(ValidationError):
        scheme.name = "x"  # type: ignore[misc]


# user schemes


def test_valid_user_scheme_gets_defaults():
    scheme = scheme_from_mapping(USER_SCHEME, source="user.yaml")
    head = scheme.role("grid_head")
    assert (head.required, head.max_holders) == (1, 1)
    assert head.public_fields == ("name", "phone", "duties")
    assert scheme.phone_display == "masked"
    assert scheme.keys == ("grid_head", "grid_worker")


def test_typo_key_is_an_error_naming_it():
    data = user_scheme()
    data["roles"][0]["requird"] = 1
    reason = invalid_reason(data)
    assert "roles[0] (grid_head).requird" in reason


def test_typo_top_level_key_is_an_error():
    reason = invalid_reason(user_scheme(phone_dispaly="full"))
    assert "phone_dispaly" in reason


def test_bad_attaches_to_names_field_and_value():
    data = user_scheme()
    data["roles"][1]["attaches_to"] = "floor"
    reason = invalid_reason(data)
    assert "roles[1] (grid_worker).attaches_to" in reason
    assert "'floor'" in reason


def test_duplicate_keys_are_an_error():
    data = user_scheme()
    data["roles"][1]["key"] = "grid_head"
    reason = invalid_reason(data)
    assert "roles" in reason
    assert "duplicate" in reason
    assert "grid_head" in reason


def test_max_holders_below_required_is_an_error():
    data = user_scheme()
    data["roles"][1]["max_holders"] = 1
    reason = invalid_reason(data)
    assert "roles[1] (grid_worker)" in reason
    assert "max_holders" in reason
    assert "required" in reason


def test_unlimited_holders_allow_any_required():
    data = user_scheme()
    data["roles"][1]["max_holders"] = None
    data["roles"][1]["required"] = 5
    assert (
        scheme_from_mapping(data, source="user.yaml").role("grid_worker").required == 5
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("required", -1), ("required", "yes"), ("required", True), ("max_holders", 0)],
)
def test_bad_counts_are_errors(field, value):
    data = user_scheme()
    data["roles"][0][field] = value
    assert f"roles[0] (grid_head).{field}" in invalid_reason(data)


@pytest.mark.parametrize("key", ["GridHead", "1grid", "grid-head", "网格长", ""])
def test_role_key_must_be_snake_case(key):
    data = user_scheme()
    data["roles"][0]["key"] = key
    assert "roles[0]" in invalid_reason(data)


def test_bad_public_field_is_an_error():
    data = user_scheme()
    data["roles"][0]["public_fields"] = ["name", "id_card"]
    assert "public_fields[1]" in invalid_reason(data)


def test_no_roles_is_an_error():
    assert "roles" in invalid_reason(user_scheme(roles=[]))


def test_all_errors_are_reported_together():
    data = user_scheme()
    data["roles"][0]["requird"] = 1
    data["roles"][1]["attaches_to"] = "floor"
    reason = invalid_reason(data)
    assert "requird" in reason
    assert "attaches_to" in reason
    assert "; " in reason


def test_error_names_scheme_or_falls_back_to_source():
    with pytest.raises(InvalidInput) as info:
        scheme_from_mapping(user_scheme(roles=[]), source="user.yaml")
    assert info.value.params["name"] == "测试方案"
    with pytest.raises(InvalidInput) as info:
        scheme_from_mapping({"roles": []}, source="user.yaml")
    assert info.value.params["name"] == "user.yaml"


def test_non_mapping_is_an_error():
    with pytest.raises(InvalidInput) as info:
        scheme_from_mapping(["not", "a", "mapping"], source="user.yaml")  # type: ignore[arg-type]
    assert info.value.code == "scheme_invalid"


def test_role_type_direct_construction():
    role = RoleType(
        key="x", title="X", attaches_to="lane", required=0, max_holders=None
    )
    scheme = RoleScheme(name="s", roles=(role,))
    assert scheme.roles_for("lane") == (role,)


# phones


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13800000001", "138****0001"),
        ("138 0000 0001", "138****0001"),
        ("+86 138-0000-0001", "138****0001"),
        ("8613800000001", "138****0001"),
        ("0086 138 0000 0001", "138****0001"),
        ("１３８００００００01", "138****0001"),
        ("0933-3321234", "093****1234"),
        ("12345678", "123****5678"),
        ("1234567", "****"),
        ("110", "****"),
        ("", "****"),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked
