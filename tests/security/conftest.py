"""Two streets on the sample county, and a login for each role (issue 13)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import geopandas as gpd
from shapely.geometry import box

from geogrid.api.app import create_app
from geogrid.config import Settings
from geogrid.domain.codes import AreaLevel
from geogrid.services import accounts
from geogrid.services.boundaries import import_boundaries
from geogrid.services.imports import ImportOptions
from geogrid.store.engine import Bind
from tests.api.conftest import client, login
from tests.cli.conftest import cli_for
from tests.conftest import SAMPLE
from tests.factories import write_geojson

STREET_A = "620899001000"  # the sample's 城关街道
STREET_B = "620899002000"  # added east of it
GRID_A = "620899001001001"
GRID_B = "620899002001001"
PERSON_A = "P00148"  # holds roles in street A only
# Fixtures shared with the API and CLI tests: the anonymous app, the command.
__all__ = ["cli_for", "client"]
B_BOX = box(107.3816, 35.32, 107.3916, 35.33)


def _add_street_b(bind: Bind, folder: Path) -> None:
    """Widen the county and add 东城街道 → 东城社区 → its one grid."""
    district = gpd.read_file(SAMPLE / "district.geojson").geometry.iloc[0]
    files = [
        (AreaLevel.DISTRICT, "620899000000", "安和县", district.union(B_BOX)),
        (AreaLevel.STREET, STREET_B, "东城街道", B_BOX),
        (AreaLevel.COMMUNITY, "620899002001", "东城社区", B_BOX),
        (AreaLevel.GRID, GRID_B, "东城社区第1网格", B_BOX),
    ]
    for level, code, name, geom in files:
        path = write_geojson(
            folder / f"{level.value}.geojson", [({"code": code, "name": name}, geom)]
        )
        import_boundaries(
            bind,
            path,
            level=level,
            options=ImportOptions(is_keep=True),
            tolerance_m=5.0,
        )


@pytest.fixture
def streets(sample_copy: Bind, tmp_path: Path) -> Iterator[TestClient]:
    """The app with two streets and logins: admin, staffa (A), staffb (B), planner."""
    _add_street_b(sample_copy, tmp_path)
    accounts.add_user(sample_copy, "admin", "sesame-root-9", "admin")
    accounts.add_user(sample_copy, "staffa", "staff-a-pass", "staff", street=STREET_A)
    accounts.add_user(sample_copy, "staffb", "staff-b-pass", "staff", street=STREET_B)
    accounts.add_user(sample_copy, "planner", "drafts-and-maps", "planner")
    settings = Settings(_env_file=None, database_url="sqlite:///unused.sqlite")  # type: ignore[call-arg]
    with TestClient(create_app(settings, bind=sample_copy)) as client:
        yield client


PASSWORDS = {
    "admin": "sesame-root-9",
    "staffa": "staff-a-pass",
    "staffb": "staff-b-pass",
    "planner": "drafts-and-maps",
}


def as_user(client: TestClient, name: str) -> dict[str, str]:
    """The Authorization header of one of the fixture's users."""
    return login(client, name, PASSWORDS[name])
