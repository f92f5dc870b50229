"""A new, empty database answers every list and report, never a 500."""

from fastapi.testclient import TestClient

from geogrid.api.app import create_app
from geogrid.config import Settings
from geogrid.store.engine import Bind


def test_every_plain_get_answers_on_an_empty_database(db: Bind) -> None:
    settings = Settings(_env_file=None, database_url="sqlite:///unused.sqlite")  # type: ignore[call-arg]
    with TestClient(create_app(settings, bind=db)) as client:
        paths = [
            path
            for path, operations in client.app.openapi()["paths"].items()  # type: ignore[attr-defined]
            if "get" in operations and "{" not in path
        ]
        answers = {path: client.get(path).status_code for path in paths}

    assert len(answers) > 10
    assert {p: s for p, s in answers.items() if s >= 500} == {}
    assert answers["/coverage"] == answers["/ogc/collections"] == 200
