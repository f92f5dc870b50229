"""Coverage rules without geometry (岗位与负荷检查): roles, people and household loads.

Pure functions of tables; findings have the columns of
:data:`geogrid.domain.findings.FINDING_COLUMNS` without ``geometry``, which
the service attaches from the target's own outline.
"""

from collections.abc import Mapping

import numpy as np
import pandas as pd

from geogrid.domain.findings import FINDING_COLUMNS, RULES
from geogrid.domain.roles import RoleScheme

COLUMNS = [c for c in FINDING_COLUMNS if c != "geometry"]


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    for row in rows:
        row["severity"] = RULES[str(row["rule"])].severity.value
    return pd.DataFrame(rows, columns=COLUMNS)


def role_findings(
    scheme: RoleScheme,
    targets: pd.DataFrame,
    assignments: pd.DataFrame,
    *,
    max_targets: int,
    max_households: int,
) -> pd.DataFrame:
    """Vacant and over-filled roles, overloaded people and orphaned assignments (岗位检查).

    Args:
        scheme: the active role scheme.
        targets: every current target: columns level, code, parent_code, households.
        assignments: current assignments: columns person_code, role, target_level, target_code.
        max_targets: more distinct targets than this makes a person overloaded.
        max_households: more households than this across a person's targets, too.

    Returns:
        Findings (rule, severity, codes, parent_code, measure), one per problem.

    Examples:
        >>> from geogrid.domain.roles import load_preset
        >>> scheme = load_preset("三长")
        >>> targets = pd.DataFrame({"level": ["lane"], "code": ["L1"], "parent_code": ["G1"], "households": [40]})
        >>> empty = pd.DataFrame(columns=["person_code", "role", "target_level", "target_code"])
        >>> role_findings(scheme, targets, empty, max_targets=10, max_households=2000)["rule"].tolist()
        ['role_vacant']
    """
    rows: list[dict[str, object]] = []
    known = set(zip(targets["level"], targets["code"], strict=True))
    held = assignments[assignments["role"].isin(scheme.keys)]
    # A plain dict: a MultiIndex lookup per target took 12 s for a city's
    # 205,000 building roles.
    counts: dict[tuple[str, str, str], int] = (
        held.groupby(["role", "target_level", "target_code"]).size().to_dict()
    )
    for role in scheme.roles:
        of_level = targets[targets["level"] == role.attaches_to]
        holders = np.array(
            [
                counts.get((role.key, role.attaches_to, code), 0)
                for code in of_level["code"].tolist()
            ],
            dtype=int,
        )
        measure = {"role": role.key, "title": role.title, "required": role.required}
        for code, parent, n in zip(
            of_level["code"].tolist(),
            of_level["parent_code"].tolist(),
            holders,
            strict=True,
        ):
            if n < role.required:
                rows.append(
                    _finding(
                        "role_vacant", (code,), parent, measure | {"holders": int(n)}
                    )
                )
            elif role.max_holders is not None and n > role.max_holders:
                rows.append(
                    _finding(
                        "role_excess",
                        (code,),
                        parent,
                        measure | {"holders": int(n), "max_holders": role.max_holders},
                    )
                )
    for a in assignments.itertuples(index=False):
        if (a.target_level, a.target_code) not in known or a.role not in scheme.keys:
            reason = (
                "role_not_in_scheme" if a.role not in scheme.keys else "target_gone"
            )
            rows.append(
                _finding(
                    "assignment_orphan",
                    (a.person_code, a.target_code),
                    None,
                    {"role": a.role, "target_level": a.target_level, "reason": reason},
                )
            )
    rows.extend(
        _overloaded(
            held, targets, max_targets=max_targets, max_households=max_households
        )
    )
    return _frame(rows)


def _overloaded(
    held: pd.DataFrame, targets: pd.DataFrame, *, max_targets: int, max_households: int
) -> list[dict[str, object]]:
    if held.empty:
        return []
    load = held.drop_duplicates(["person_code", "target_level", "target_code"])
    households = targets.set_index(["level", "code"])["households"]
    keys = pd.MultiIndex.from_arrays([load["target_level"], load["target_code"]])
    load = load.assign(households=households.reindex(keys).fillna(0).to_numpy())
    per_person = load.groupby("person_code").agg(
        n_targets=("target_code", "size"), households=("households", "sum")
    )
    heavy = per_person[
        (per_person["n_targets"] > max_targets)
        | (per_person["households"] > max_households)
    ]
    return [
        _finding(
            "person_overloaded",
            (person,),
            None,
            {
                "n_targets": int(row.n_targets),
                "households": int(row.households),
                "max_targets": max_targets,
                "max_households": max_households,
            },
        )
        for person, row in heavy.iterrows()
    ]


def load_findings(
    grids: pd.DataFrame,
    communities: pd.DataFrame,
    *,
    band: tuple[int, int],
    community_max: int,
) -> pd.DataFrame:
    """Grids outside the household band and communities above their limit (负荷检查).

    Args:
        grids: columns code, parent_code, households (linked buildings' households).
        communities: columns code, parent_code, households.
        band: the households a grid should hold, inclusive (e.g. 300–500).
        community_max: the most households a community may hold (e.g. 3,000).

    Returns:
        Findings: ``grid_overloaded``, ``grid_underloaded``, ``community_overloaded``.

    Examples:
        >>> g = pd.DataFrame({"code": ["G1", "G2"], "parent_code": ["C1", "C1"], "households": [641, 400]})
        >>> c = pd.DataFrame({"code": ["C1"], "parent_code": ["S1"], "households": [1041]})
        >>> load_findings(g, c, band=(300, 500), community_max=3000)["codes"].tolist()
        [('G1',)]
    """
    low, high = band
    rows = []
    for g in grids.itertuples(index=False):
        measure = {"households": int(g.households), "band": [low, high]}
        if g.households > high:
            rows.append(_finding("grid_overloaded", (g.code,), g.parent_code, measure))
        elif g.households < low:
            rows.append(_finding("grid_underloaded", (g.code,), g.parent_code, measure))
    for c in communities.itertuples(index=False):
        if c.households > community_max:
            rows.append(
                _finding(
                    "community_overloaded",
                    (c.code,),
                    c.parent_code,
                    {"households": int(c.households), "max": community_max},
                )
            )
    return _frame(rows)


def _finding(
    rule: str, codes: tuple[str, ...], parent: object, measure: Mapping[str, object]
) -> dict[str, object]:
    return {
        "rule": rule,
        "codes": tuple(codes),
        "parent_code": parent if isinstance(parent, str) else None,
        "measure": dict(measure),
    }
