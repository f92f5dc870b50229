"""The app on the sample county, as a test client; logins for the role tests."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from geogrid.api.app import create_app
from geogrid.config import Settings
from geogrid.services import accounts
from geogrid.store.engine import Bind


@pytest.fixture
def client(sample_db: Bind) -> Iterator[TestClient]:
    settings = Settings(_env_file=None, database_url="sqlite:///unused.sqlite")  # type: ignore[call-arg]
    with TestClient(create_app(settings, bind=sample_db)) as test_client:
        yield test_client


STREET = "620899001000"
"""The sample county's one street: staff user "li" serves it."""


@pytest.fixture
def api(sample_copy: Bind) -> Iterator[TestClient]:
    """A writable app with three logins: admin, staff "li" of STREET, planner "wang"."""
    accounts.add_user(sample_copy, "admin", "sesame-root-9", "admin")
    accounts.add_user(sample_copy, "li", "staff-pass", "staff", street=STREET)
    accounts.add_user(sample_copy, "wang", "plan-pass1", "planner")
    settings = Settings(_env_file=None, database_url="sqlite:///unused.sqlite")  # type: ignore[call-arg]
    with TestClient(create_app(settings, bind=sample_copy)) as client:
        yield client


def login(api: TestClient, username: str, password: str) -> dict[str, str]:
    """Log in through the OAuth2 form; the Authorization header to send."""
    response = api.post(
        "/auth/token", data={"username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
