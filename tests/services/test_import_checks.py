"""The record checks every import shares, tried without a file or a database."""

import pandas as pd

from geogrid.domain.codes import AreaLevel
from geogrid.io.report import FILE_RECORD, ImportReport
from geogrid.services.import_checks import (
    check_area_codes,
    check_codes,
    check_lengths,
    numbers,
)
from geogrid.store.models import Area


def _report() -> ImportReport:
    return ImportReport(kind="test", source="test")


def test_a_missing_code_and_a_repeat_name_their_records_and_the_first_row() -> None:
    report = _report()
    codes = pd.Series(["a", "", "b", "a"])
    check_codes(codes, ["a", "#2", "b", "a"], report)
    found = [(p.record, p.code, p.params.get("other")) for p in report.problems]
    assert found == [("#2", "code_missing", None), ("a", "code_duplicate", "#1")]


def test_numbers_refuse_text_negatives_and_fractions_of_counts() -> None:
    report = _report()
    frame = pd.DataFrame({"floors": ["6", "", "-1", "2.5", "六"]})
    values = numbers(frame, "floors", list("abcde"), report, integer=True)
    assert values.tolist()[:2] == [6, None]
    assert [(p.record, p.params["value"]) for p in report.problems] == [
        ("c", "-1"),
        ("d", "2.5"),
        ("e", "六"),
    ]


def test_short_amap_codes_are_padded_once_and_names_are_refused() -> None:
    report = _report()
    codes = check_area_codes(
        pd.Series(["110105001", "城关街道"]), ["#1", "#2"], AreaLevel.STREET, report
    )
    assert codes.tolist() == ["110105001000", "城关街道"]
    assert [(p.record, p.code) for p in report.problems] == [
        (FILE_RECORD, "codes_padded"),
        ("#2", "code_invalid"),
    ]
    assert "--code-field" in str(report.problems[1].params["reason_en"])


def test_a_value_too_long_names_the_files_column() -> None:
    report = _report()
    check_lengths(
        {"name": pd.Series(["长" * 1000])},
        Area,
        ["g1"],
        report,
        fields={"name": "Name"},
    )
    [problem] = report.problems
    assert (problem.code, problem.params["field"]) == ("value_too_long", "Name")
