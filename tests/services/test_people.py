from pathlib import Path

import pytest

from geogrid.domain.codes import AreaLevel
from geogrid.errors import ImportRejected, InvalidInput
from geogrid.services.boundaries import import_boundaries
from geogrid.services.imports import ImportOptions
from geogrid.services.people import (
    import_people,
    people_export_table,
    read_scheme_file,
    save_scheme,
)
from geogrid.store import people as people_store
from geogrid.store.engine import Bind, session_scope
from tests.factories import COMMUNITY, community_file, grid_file

HEADER = "person_code,name,phone,phone_public,organisation,is_party_member,employment,role,target_level,target_code,valid_from\n"
GRID1, GRID2 = f"{COMMUNITY}001", f"{COMMUNITY}002"


@pytest.fixture
def grids(db: Bind, tmp_path: Path) -> Bind:
    for level, path in [
        (AreaLevel.COMMUNITY, community_file(tmp_path / "c.geojson")),
        (AreaLevel.GRID, grid_file(tmp_path / "g.geojson")),
    ]:
        import_boundaries(db, path, level=level, options=ImportOptions(), tolerance_m=5)
    return db


def _csv(tmp_path: Path, *rows: str, name: str = "people.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def _import(db: Bind, path: Path):
    return import_people(db, path, scheme_name=None, default_scheme="三长三员一民警")


ZHANG_HEAD = f"P1,张伟,13800000001,true,东街社区居委会,true,full_time,grid_head,grid,{GRID1},2026-01-01"
ZHANG_WORKER = f"P1,张伟,13800000001,true,东街社区居委会,true,full_time,grid_worker,grid,{GRID2},2026-01-01"
LI_POLICE = f"P2,李娜,13800000002,false,城关派出所,false,full_time,police,,{GRID1},"


def test_import_people_stores_persons_and_assignments(
    grids: Bind, tmp_path: Path
) -> None:
    report = _import(grids, _csv(tmp_path, ZHANG_HEAD, ZHANG_WORKER, LI_POLICE))

    table = people_export_table(grids)
    assert report.counts["inserted"] == 3
    assert table["person_code"].tolist() == ["P1", "P1", "P2"]
    assert table[table.person_code == "P2"]["target_level"].item() == "grid"
    assert table[table.person_code == "P2"]["phone_public"].item() == "false"


def test_reimport_keeps_unchanged_and_ends_dropped_assignments(
    grids: Bind, tmp_path: Path
) -> None:
    _import(grids, _csv(tmp_path, ZHANG_HEAD, ZHANG_WORKER, LI_POLICE))

    report = _import(grids, _csv(tmp_path, ZHANG_HEAD, LI_POLICE, name="v2.csv"))

    assert report.counts == {"inserted": 0, "unchanged": 2, "ended": 1, "persons": 2}
    with session_scope(grids) as session:
        assert people_store.count_people(session) == (2, 2)


def test_every_bad_row_is_reported_and_nothing_written(
    grids: Bind, tmp_path: Path
) -> None:
    path = _csv(
        tmp_path,
        ZHANG_HEAD,
        f"P1,张伟,13900000009,true,东街社区居委会,true,full_time,grid_worker,grid,{GRID2},2026-01-01",
        f"P3,王芳,13800000003,true,x,false,full_time,mayor,grid,{GRID1},2026-01-01",
        f"P4,赵磊,13800000004,true,x,false,full_time,police,grid,{COMMUNITY}099,2026-01-01",
        f"P5,钱军,13800000005,true,x,false,full_time,building_head,grid,{GRID1},2026-01-01",
        f"P6,孙丽,13800000006,maybe,x,false,full_time,police,grid,{GRID1},2026-13-01",
    )

    with pytest.raises(ImportRejected) as caught:
        _import(grids, path)

    assert [(p.record, p.code) for p in caught.value.report.errors] == [
        ("#2 P1", "person_conflict"),
        ("#6 P6", "value_invalid"),
        ("#3 P3", "role_unknown"),
        ("#5 P5", "target_level_wrong"),
        ("#6 P6", "date_invalid"),
        ("#4 P4", "target_unknown"),
    ]
    with session_scope(grids) as session:
        assert people_store.count_people(session) == (0, 0)


def test_user_scheme_file_is_stored_and_used(grids: Bind, tmp_path: Path) -> None:
    scheme_file = tmp_path / "scheme.yaml"
    scheme_file.write_text(
        "name: 自定义方案\nroles:\n  - {key: grid_keeper, title: 网格管家, attaches_to: grid}\n",
        encoding="utf-8",
    )
    save_scheme(grids, read_scheme_file(scheme_file), activate=True)

    report = _import(
        grids,
        _csv(
            tmp_path,
            f"P9,周敏,13800000009,true,x,false,part_time,grid_keeper,grid,{GRID1},",
        ),
    )

    assert report.is_ok
    assert people_export_table(grids)["role"].tolist() == ["grid_keeper"]


def test_invalid_scheme_file_names_the_field(tmp_path: Path) -> None:
    scheme_file = tmp_path / "scheme.yaml"
    scheme_file.write_text(
        "name: 坏方案\nroles:\n  - {key: a, title: 甲, attaches_to: floor}\n",
        encoding="utf-8",
    )

    with pytest.raises(InvalidInput) as caught:
        read_scheme_file(scheme_file)

    assert caught.value.code == "scheme_invalid"
    assert "attaches_to" in caught.value.message()
