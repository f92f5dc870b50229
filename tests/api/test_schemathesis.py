"""Property-based tests of the live OpenAPI (schemathesis): no 5xx, answers match their schemas.

Schemathesis reads the app's own OpenAPI document and generates valid and
invalid requests for every operation as the public and as each role (staff
of one street, planner, admin), so write operations get past the login and
into their validation and every role meets the refusals meant for it.
Each answer must not be a server error, must carry a documented content type
and must match the documented schema. The run is derandomised with a fixed
number of examples per operation, so CI sends the same requests every time.
SpatiaLite only: the schema and handlers are the same on both backends, whose
differences have their own tests.
"""

from collections.abc import Iterator

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.python.asgi import shutdown_lifespans

from geogrid.api.app import create_app
from geogrid.config import Settings
from geogrid.services import accounts
from geogrid.store.engine import Bind

pytestmark = pytest.mark.backends("spatialite")


def _settings() -> Settings:
    return Settings(_env_file=None, database_url="sqlite:///unused.sqlite")  # type: ignore[call-arg]


# The document comes from an app built at collection: building the OpenAPI
# needs no database, and the lazy ``from_fixture`` loader of schemathesis
# 4.32 fails on pytest 9 (it sets ``Node._nodeid``, which pytest 9 removed).
# test_the_served_openapi_is_the_tested_one keeps this copy honest.
schema = schemathesis.openapi.from_dict(create_app(_settings()).openapi())
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.content_type_conformance,
]


@pytest.fixture
def app(sample_copy: Bind) -> Iterator[FastAPI]:
    # Schemathesis' ASGI client runs the lifespan (start-up fills app.state)
    # before the first request, as a server would; it is shut down here,
    # before the copy's engine goes.
    yield create_app(_settings(), bind=sample_copy)
    shutdown_lifespans()


@pytest.fixture(params=["public", "staff", "planner", "admin"])
def credentials(request: pytest.FixtureRequest, sample_copy: Bind) -> dict[str, str]:
    """Each role in turn: every one must meet 4xx for what it may not do, never 5xx."""
    role = request.param
    if role == "public":
        return {}
    street = "620899001000" if role == "staff" else ""
    accounts.add_user(
        sample_copy, f"fuzz-{role}", "fuzz-secret-42", role, street=street
    )
    return {"X-API-Key": accounts.create_api_key(sample_copy, f"fuzz-{role}")}


# Each request to these runs the whole coverage check (about half a second on
# the sample county), so they get fewer examples than the rest.
HEAVY = r"coverage"


def _settings_for(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


@schema.exclude(path_regex=HEAVY).parametrize()
@_settings_for(15)
def test_api_conforms_to_its_openapi(
    case: schemathesis.Case, app: FastAPI, credentials: dict[str, str]
) -> None:
    case.call_and_validate(app=app, headers=credentials, checks=CHECKS)


@schema.include(path_regex=HEAVY).parametrize()
@_settings_for(4)
def test_coverage_conforms_to_its_openapi(
    case: schemathesis.Case, app: FastAPI, credentials: dict[str, str]
) -> None:
    case.call_and_validate(app=app, headers=credentials, checks=CHECKS)


def test_the_served_openapi_is_the_tested_one(app: FastAPI) -> None:
    assert app.openapi() == schema.raw_schema
