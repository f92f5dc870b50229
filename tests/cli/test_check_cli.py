"""``geogrid check`` as a user runs it: summary, formats, exit codes, exceptions."""

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from tests.cli.conftest import invoke


@pytest.fixture
def run(cli_for: Callable[[str], CliRunner], sample_copy: Engine) -> CliRunner:
    return cli_for(sample_copy.url.render_as_string(hide_password=False))


def test_check_prints_a_chinese_summary_and_fails_on_errors(run: CliRunner) -> None:
    result = invoke(run, "check")

    assert result.exit_code == 1
    for text in (
        "覆盖检查",
        "空白区",
        "重叠",
        "楼栋不在任何网格",
        "岗位空缺",
        "网格户数超出上限",
        "超出服务半径",
        "明细",
    ):
        assert text in result.output


def test_check_formats(run: CliRunner, tmp_path: Path) -> None:
    as_json = json.loads(invoke(run, "check", "--format", "json", "--no-store").output)
    geojson = json.loads(
        invoke(run, "check", "--format", "geojson", "--no-store").output
    )
    invoke(run, "check", "--format", "csv", "-o", tmp_path / "report.csv", "--no-store")
    rows = list(
        csv.DictReader(
            io.StringIO((tmp_path / "report.csv").read_text(encoding="utf-8-sig"))
        )
    )

    assert as_json["summary"]["by_rule"]["gap"] == 1
    assert geojson["type"] == "FeatureCollection"
    assert len(geojson["features"]) == len(as_json["findings"]) == len(rows)
    assert {"key", "rule", "title", "severity", "codes", "wkt"} <= set(rows[0])


def test_check_of_a_clean_community_passes(run: CliRunner) -> None:
    result = invoke(run, "check", "--community", "620899001003")

    assert result.exit_code == 0


def test_accepting_every_error_of_a_community_makes_it_pass(run: CliRunner) -> None:
    report = json.loads(
        invoke(run, "check", "--community", "620899001002", "--format", "json").output
    )
    errors = [
        f["properties"]
        for f in report["findings"]
        if f["properties"]["severity"] == "error"
    ]
    assert [e["rule"] for e in errors] == ["overlap"]

    accepted = invoke(
        run, "check", "accept", errors[0]["key"], "--reason", "两社区协商共管"
    )
    again = invoke(run, "check", "--community", "620899001002")

    assert accepted.exit_code == 0
    assert again.exit_code == 0
    assert "已接受 1" in again.output
    assert invoke(run, "check", "revoke", errors[0]["key"]).exit_code == 0
    assert invoke(run, "check", "--community", "620899001002").exit_code == 1


def test_accepting_an_unknown_key_exits_2(run: CliRunner) -> None:
    invoke(run, "check", "--no-store")

    result = invoke(run, "check", "accept", "ffffffffffffffff", "--reason", "x")

    assert result.exit_code == 2
    assert "finding_not_found" in result.output


def test_check_in_english_names_the_rules_in_english(run: CliRunner) -> None:
    result = invoke(run, "--lang", "en", "check")

    assert result.exit_code == 1
    assert "gap: part of the parent in no child (gap)" in result.output
    assert "空白区（未被任何下级区域覆盖）" not in result.output


def test_the_screen_lists_the_first_findings_errors_first_and_counts_the_rest(
    run: CliRunner, tmp_path: Path
) -> None:
    """A city has 200,000 findings: the screen shows a page, a file holds them all."""
    n = len(json.loads(invoke(run, "check", "--format", "json").output)["findings"])

    capped = invoke(run, "check", "--limit", "3").output
    everything = invoke(run, "check", "--limit", "0").output
    invoke(run, "check", "-o", tmp_path / "report.txt")

    details = [line for line in capped.splitlines() if line.startswith("  [")]
    assert len(details) == 3
    assert all(line.startswith("  [error]") for line in details)
    assert f"另有 {n - 3} 条未列出" in capped
    assert f"{n - 3} more not listed" in capped
    assert sum(line.startswith("  [") for line in everything.splitlines()) == n
    assert "未列出" not in everything
    written = (tmp_path / "report.txt").read_text(encoding="utf-8")
    assert sum(line.startswith("  [") for line in written.splitlines()) == n
