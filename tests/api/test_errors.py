"""Errors in one shape: problem+json for Starlette's refusals and for a crash, documented in the OpenAPI."""

import logging

import pytest
from fastapi.testclient import TestClient

from geogrid.api.app import create_app
from geogrid.config import Settings

PROBLEM_REF = "#/components/schemas/Problem"


def _app() -> TestClient:
    settings = Settings(_env_file=None, database_url="sqlite:///unused.sqlite")  # type: ignore[call-arg]
    app = create_app(settings)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("SELECT secret FROM app_user; /srv/geogrid/config.py")

    # No lifespan (no `with`): these routes need no database.
    return TestClient(app, raise_server_exceptions=False)


def test_a_crash_is_a_logged_500_without_internals(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="geogrid.api.errors"):
        response = _app().get("/boom")

    body = response.json()
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["code"] == "internal_error"
    assert body["detail"]
    assert body["detail_en"]
    assert "secret" not in response.text
    assert "RuntimeError" not in response.text
    assert "GET /boom" in caplog.text
    assert "SELECT secret" in caplog.text  # the log keeps what the caller must not see


@pytest.mark.parametrize(
    ("method", "path", "status", "code", "word"),
    [
        ("GET", "/no/such/page", 404, "route_not_found", "/no/such/page"),
        ("DELETE", "/lookup", 405, "method_not_allowed", "GET"),
        ("GET", "/maps/public/static/leaflet/none.js", 404, "route_not_found", "none"),
    ],
    ids=["no-route", "wrong-method", "no-static-file"],
)
def test_starlette_refusals_are_problem_json(
    method: str, path: str, status: int, code: str, word: str
) -> None:
    response = _app().request(method, path)

    body = response.json()
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    assert body["code"] == code
    assert word in body["detail"]
    assert word in body["detail_en"]


def test_405_keeps_its_allow_header() -> None:
    response = _app().delete("/lookup")

    assert response.headers["allow"] == "GET"


def test_every_operation_documents_its_errors_as_problem_json() -> None:
    document = _app().get("/openapi.json").json()

    assert "Problem" in document["components"]["schemas"]
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            errors = [s for s in responses if s == "default" or s[0] in "45"]
            assert "default" in errors, f"{method} {path}"
            for status in errors:
                content = responses[status]["content"]
                assert list(content) == ["application/problem+json"], (
                    f"{method} {path} {status}"
                )
                assert content["application/problem+json"]["schema"] == {
                    "$ref": PROBLEM_REF
                }
