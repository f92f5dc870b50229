"""Per-record import reports (导入报告): every bad record, not just the first."""

from dataclasses import dataclass, field
from typing import Literal

from geogrid.messages import Lang, render

Severity = Literal["error", "warning"]


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

    def message(self, lang: Lang = "zh") -> str:
        """The problem in ``lang``."""
        return render(self.code, lang, **self.params)


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
        **params: object,
    ) -> None:
        """Record one problem."""
        self.problems.append(RecordError(record, code, params, severity))

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
                    "params": p.params,
                }
                for p in self.problems
            ],
        }
