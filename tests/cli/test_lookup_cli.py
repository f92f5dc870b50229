"""``geogrid assign`` and ``geogrid lookup`` as a user types them, on the sample county."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from shapely.geometry import box, mapping

from tests.cli.conftest import invoke
from tests.services.test_lookup import BUILDING, FLOOR_HEAD_PRIVATE_PHONE, LAT, LON


@pytest.fixture
def run(cli_for: Callable[[str], CliRunner], sample_db: Engine) -> CliRunner:
    return cli_for(sample_db.url.render_as_string(hide_password=False))


def test_lookup_point_prints_the_chain_and_people(run: CliRunner) -> None:
    result = invoke(run, "lookup", "--point", f"{LON},{LAT}")

    assert result.exit_code == 0
    for text in (
        "城关街道",
        "东街社区",
        "东街社区第1网格",
        "东大街1号",
        "网格长",
        "何婷",
        FLOOR_HEAD_PRIVATE_PHONE,
    ):
        assert text in result.output


def test_lookup_point_as_public_masks_private_phones(run: CliRunner) -> None:
    result = invoke(
        run, "lookup", "--point", f"{LON},{LAT}", "--role", "public", "--format", "json"
    )

    body = json.loads(result.output)
    assert body["chain"][-1]["code"] == BUILDING
    assert FLOOR_HEAD_PRIVATE_PHONE not in result.output


def test_lookup_address_text(run: CliRunner) -> None:
    result = invoke(run, "lookup", "商业局家属院二号楼", "--format", "json")

    assert result.exit_code == 0
    assert json.loads(result.output)["chain"][-1]["code"] == "620899001001-B0137"


def test_lookup_unknown_address_exits_1_with_candidates(run: CliRunner) -> None:
    result = invoke(run, "lookup", "北京市朝阳区建国路88号")

    assert result.exit_code == 1  # nothing matched, as grep; 3 is a bug
    assert "not found" in result.output


def test_lookup_within_a_geojson_file(run: CliRunner, tmp_path: Path) -> None:
    shape = tmp_path / "area.geojson"
    shape.write_text(
        json.dumps(
            {
                "type": "Feature",
                "properties": {},
                "geometry": mapping(
                    box(LON - 2e-4, LAT - 2e-4, LON + 2e-4, LAT + 2e-4)
                ),
            }
        ),
        encoding="utf-8",
    )

    result = invoke(run, "lookup", "--within", shape)

    assert result.exit_code == 0
    assert "东街社区第1网格" in result.output


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--point", "107.3"], "value_invalid"),
        (["--point", "35.34,107.36"], "latlon_swapped"),
        (["--point", "107.36,35.34", "--crs", "mars"], "crs_unknown"),
        (["--point", "107.36,35.34", "--role", "boss"], "value_invalid"),
        ([], "lookup_query_missing"),
    ],
    ids=["one-number", "swapped", "crs", "role", "nothing"],
)
def test_lookup_bad_input_exits_2_with_the_code(
    run: CliRunner, args: list[str], code: str
) -> None:
    result = invoke(run, "lookup", *args)

    assert result.exit_code == 2
    assert code in result.output
