"""Per-record import reports (导入报告): every bad record, not just the first."""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from geogrid.messages import Lang, localise, render

Severity = Literal["error", "warning", "skipped"]

#: How a problem of the whole file (not one record) names its record.
FILE_RECORD = "*"


@dataclass(frozen=True)
class RecordError:
    """One problem with one input record (记录错误).

    ``record`` names the record the way the user can find it: its code or id
    when it has one, else ``#<row number>`` counting from 1.
    """

    record: str
    code: str
    params: dict[str, object] = field(default_factory=dict)
    severity: Severity = "error"
    row: int | None = None
    """Position in the file (from 0), when the record name alone is ambiguous."""

    def message(self, lang: Lang = "zh") -> str:
        """The problem in ``lang``.

        ``problems`` (message codes, e.g. from GEOS validity reasons), level
        keys and ``<param>_en`` texts are rendered in ``lang`` too, so an
        English report holds no Chinese and no raw GEOS text.
        """
        params = localise(self.params, lang)
        problems = params.pop("problems", None)
        if isinstance(problems, list):
            sep = "；" if lang == "zh" else "; "
            params["reason"] = sep.join(
                render(str(p["code"]), lang, **p.get("params", {}))
                if isinstance(p, dict)
                else render(str(p), lang)
                for p in problems
            )
        text = render(self.code, lang, **params)
        if self.severity == "skipped":
            text = render("record_skipped", lang, message=text)
        return text


@dataclass
class ImportReport:
    """What an import read, wrote and found wrong (导入结果)."""

    kind: str
    source: str
    n_read: int = 0
    n_written: int = 0
    problems: list[RecordError] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    """What the write did, e.g. inserted/replaced/unchanged/ended."""

    @property
    def errors(self) -> list[RecordError]:
        """Problems that stop the import."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[RecordError]:
        """Problems reported but not fatal (e.g. a repaired geometry)."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def skipped(self) -> list[RecordError]:
        """Problems of records left out by ``--skip-invalid``."""
        return [p for p in self.problems if p.severity == "skipped"]

    @property
    def is_ok(self) -> bool:
        """True when nothing stops the import."""
        return not self.errors

    def add(
        self,
        record: str,
        code: str,
        /,
        *,
        severity: Severity = "error",
        row: int | None = None,
        **params: object,
    ) -> None:
        """Record one problem."""
        self.problems.append(RecordError(record, code, params, severity, row))

    def skip_invalid(self, ids: Sequence[str]) -> np.ndarray:
        """Leave out every record with an error (``--skip-invalid``); returns the rows to keep.

        Each such error becomes a ``skipped`` problem, listed with its reason.
        Problems of the whole file (:data:`FILE_RECORD`) and of records that
        cannot be placed stay errors, as do all of them when no record would
        be left to write.
        """
        keep = np.ones(len(ids), dtype=bool)
        by_id: dict[str, list[int]] = {}
        for i, record in enumerate(ids):
            by_id.setdefault(str(record), []).append(i)
        rows: dict[int, list[int]] = {}
        for k, p in enumerate(self.problems):
            if p.severity != "error":
                continue
            found = [p.row] if p.row is not None else by_id.get(p.record, [])
            if not found:
                return keep  # a file-level error: nothing can be skipped
            rows[k] = found
        for found in rows.values():
            keep[found] = False
        if rows and not keep.any():
            return np.ones(len(ids), dtype=bool)
        for k in rows:
            self.problems[k] = replace(self.problems[k], severity="skipped")
        return keep

    def extend(self, problems: list[RecordError]) -> None:
        """Record several problems."""
        self.problems.extend(problems)

    def count_by_code(self) -> dict[str, int]:
        """How many problems of each code, errors and warnings together."""
        counts: dict[str, int] = {}
        for p in self.problems:
            counts[p.code] = counts.get(p.code, 0) + 1
        return counts

    def to_dict(self, lang: Lang = "zh") -> dict[str, object]:
        """A JSON-ready view, for the CLI's ``--format json`` and the API."""
        return {
            "kind": self.kind,
            "source": self.source,
            "n_read": self.n_read,
            "n_written": self.n_written,
            "counts": self.counts,
            "problems": [
                {
                    "record": p.record,
                    "code": p.code,
                    "severity": p.severity,
                    "message": p.message(lang),
                    **({"row": p.row + 1} if p.row is not None else {}),
                    "params": p.params,
                }
                for p in self.problems
            ],
        }
