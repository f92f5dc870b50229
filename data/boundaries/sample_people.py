"""Role-holders (任职人) of the sample county under the 三长三员一民警 scheme.

Grid staff (网格长, 网格员, 社区健康员, 法律咨询员, 社区民警) serve one or a
few grids; residents volunteer as 楼栋长 for 1-4 buildings of one estate,
lane or road row, and as 楼长 of their own building. The seeded vacancies
are left out here.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from sample_model import (
    COMMUNITIES,
    GIVEN_CHARS,
    ROLE_ORDER,
    STREET_NAME,
    SURNAMES,
    VALID_FROM,
    XSS_PROBE_NAME,
    Building,
    County,
)


@dataclass
class People:
    """Role-holders (任职人) and their assignments (任职), one row per assignment."""

    rng: np.random.Generator
    persons: list[dict[str, str]] = field(default_factory=list)
    assignments: dict[str, list[tuple[str, str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    phones: list[int] = field(default_factory=list)

    def add(
        self,
        organisation: str,
        *,
        party_share: float,
        employment: str,
        public_share: float,
    ) -> str:
        """Invent a person and return their code."""
        if not self.phones:
            self.phones = self.rng.permutation(10000).tolist()
        if len(self.persons) == len(self.phones):
            raise RuntimeError("more people than fake 1380000xxxx phone numbers")
        code = f"P{len(self.persons) + 1:05d}"
        surname = SURNAMES[int(self.rng.integers(len(SURNAMES)))]
        n_given = 1 if self.rng.random() < 0.3 else 2
        given = "".join(
            GIVEN_CHARS[int(i)]
            for i in self.rng.integers(len(GIVEN_CHARS), size=n_given)
        )
        self.persons.append(
            {
                "person_code": code,
                "name": surname + given,
                "phone": f"1380000{self.phones[len(self.persons)]:04d}",
                "phone_public": str(self.rng.random() < public_share).lower(),
                "organisation": organisation,
                "is_party_member": str(self.rng.random() < party_share).lower(),
                "employment": employment,
            }
        )
        return code

    def assign(self, person: str, role: str, level: str, target: str) -> None:
        """Record that ``person`` holds ``role`` on ``target``."""
        self.assignments[person].append((role, level, target))

    def rows(self) -> list[dict[str, str]]:
        """One row per assignment, by person then role then target."""
        out = []
        for p in self.persons:
            held = sorted(
                self.assignments[p["person_code"]],
                key=lambda a: (ROLE_ORDER.index(a[0]), a[2]),
            )
            for role, level, target in held:
                out.append(
                    {
                        **p,
                        "role": role,
                        "target_level": level,
                        "target_code": target,
                        "valid_from": VALID_FROM,
                    }
                )
        return out


def _chunks(items: list[str], sizes: Iterable[int]) -> list[list[str]]:
    out, i = [], 0
    for n in sizes:
        if i >= len(items):
            break
        out.append(items[i : i + n])
        i += n
    return out


def build_people(county: County, rng: np.random.Generator) -> People:
    """Staff every grid and building, except the seeded vacancies.

    Args:
        county: the generated county.
        rng: the only source of randomness.

    Returns:
        The people and their assignments.
    """
    people = People(rng)
    busy = set(county.gap["grids"]) | set(county.overlap["grids"]) | {county.overloaded}
    free = [g.code for g in county.grids if g.code not in busy]
    picks = [free[int(i)] for i in rng.choice(len(free), size=3, replace=False)]
    vacant = {"legal_adviser": sorted(picks[:2]), "grid_worker": [picks[2]]}
    _grid_staff(county, people, vacant, rng)
    candidates = [b.code for b in county.buildings if b.grid]
    no_head = sorted(
        candidates[int(i)] for i in rng.choice(len(candidates), 3, replace=False)
    )
    vacant["building_head"] = no_head
    _building_staff(county, people, set(no_head), rng)
    county.vacant = vacant
    return people


def _grid_staff(
    county: County,
    people: People,
    vacant: dict[str, list[str]],
    rng: np.random.Generator,
) -> None:
    police_org = "安和县公安局城关派出所"
    legal_orgs = ("安和县司法局城关司法所", "甘肃安和律师事务所")
    all_codes = [g.code for g in county.grids]
    for ci, spec in enumerate(COMMUNITIES):
        org = f"{STREET_NAME}{spec.name}居委会"
        codes = [g.code for g in county.grids if g.community == ci]
        for group in _chunks(codes, rng.choice([1, 2], size=len(codes)).tolist()):
            head = people.add(
                org, party_share=0.9, employment="full_time", public_share=1
            )
            for code in group:
                people.assign(head, "grid_head", "grid", code)
        for code in codes:
            if code in vacant["grid_worker"]:
                continue
            worker = people.add(
                org, party_share=0.5, employment="full_time", public_share=1
            )
            people.assign(worker, "grid_worker", "grid", code)
        for group in _chunks(codes, [2] * len(codes)):
            nurse = people.add(
                "城关街道社区卫生服务中心",
                party_share=0.4,
                employment="part_time",
                public_share=1,
            )
            for code in group:
                people.assign(nurse, "health_worker", "grid", code)
    lawyers = [c for c in all_codes if c not in vacant["legal_adviser"]]
    for k, group in enumerate(
        _chunks(lawyers, rng.choice([3, 4], size=len(lawyers)).tolist())
    ):
        org = legal_orgs[k % 2]
        lawyer = people.add(
            org, party_share=0.5, employment="part_time", public_share=1
        )
        for code in group:
            people.assign(lawyer, "legal_adviser", "grid", code)
    for group in _chunks(all_codes, rng.choice([2, 3], size=len(all_codes)).tolist()):
        officer = people.add(
            police_org, party_share=0.95, employment="full_time", public_share=1
        )
        for code in group:
            people.assign(officer, "police", "grid", code)


def _building_staff(
    county: County, people: People, no_head: set[str], rng: np.random.Generator
) -> None:
    groups: dict[str, list[Building]] = defaultdict(list)
    for b in county.buildings:
        groups[b.group].append(b)
    for key in sorted(groups, key=lambda k: groups[k][0].code):
        members = groups[key]
        org = f"{STREET_NAME}{COMMUNITIES[members[0].community].name}居委会"
        codes = [b.code for b in members if b.code not in no_head]
        for chunk in _chunks(codes, rng.integers(1, 5, size=len(codes)).tolist()):
            head = people.add(
                org, party_share=0.4, employment="part_time", public_share=0.3
            )
            for code in chunk:
                people.assign(head, "building_head", "building", code)
    in_grids = [b.code for b in county.buildings if b.grid and b.code not in no_head]
    probe = in_grids[int(rng.integers(len(in_grids)))]
    for b in county.buildings:
        org = f"{STREET_NAME}{COMMUNITIES[b.community].name}居委会"
        floor_head = people.add(
            org, party_share=0.3, employment="part_time", public_share=0.1
        )
        people.assign(floor_head, "floor_head", "building", b.code)
        if b.code == probe:
            people.persons[-1]["name"] = XSS_PROBE_NAME
            county.xss_probe = {
                "person_code": floor_head,
                "role": "floor_head",
                "target_code": b.code,
            }
