"""The app on the sample county, as a test client."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from geogrid.api.app import create_app
from geogrid.config import Settings
from geogrid.store.engine import Bind


@pytest.fixture
def client(sample_db: Bind) -> Iterator[TestClient]:
    settings = Settings(_env_file=None, database_url="sqlite:///unused.sqlite")  # type: ignore[call-arg]
    with TestClient(create_app(settings, bind=sample_db)) as test_client:
        yield test_client
