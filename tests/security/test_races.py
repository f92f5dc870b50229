"""Finding 3 of issue 13: two editors of one version get 200 and 412, never a 503."""

import threading

import pytest
from fastapi.testclient import TestClient

from geogrid.domain.access import Caller, Role
from geogrid.errors import Conflict, StorageError
from geogrid.services import roster
from geogrid.store.engine import Bind
from tests.security.conftest import PERSON_A, STREET_A, as_user

STAFF = Caller(Role.STAFF, "staffa", street=STREET_A)


def _race(bind: Bind, version: int, trial: int) -> list[str]:
    """Two threads PATCH the same person from the same version at once."""
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def edit(n: int) -> None:
        start.wait()
        try:
            roster.update_person(
                bind, STAFF, PERSON_A, version, {"organisation": f"第{trial}-{n}次修改"}
            )
            outcomes.append("ok")
        except Conflict:
            outcomes.append("stale")
        except StorageError as exc:  # what SpatiaLite gave in 10 of 20 trials
            outcomes.append(f"unavailable: {exc}")

    threads = [threading.Thread(target=edit, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outcomes)


def test_same_version_edits_give_one_success_and_one_412(sample_copy: Bind) -> None:
    for trial in range(20):
        version = roster.get_person(sample_copy, STAFF, PERSON_A).version
        assert _race(sample_copy, version, trial) == ["ok", "stale"]
    assert roster.get_person(sample_copy, STAFF, PERSON_A).version == version + 1


def test_a_503_names_no_database_and_asks_to_retry(
    streets: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def gone(*_args: object, **_kwargs: object) -> None:
        raise StorageError(
            "database_unavailable",
            url="postgresql+psycopg://geogrid@db.internal:5432/geogrid",
            reason='connection to server at "10.0.0.7", port 5432 failed: /var/run/x',
        )

    monkeypatch.setattr(roster, "list_people", gone)
    answer = streets.get("/people", headers=as_user(streets, "admin"))

    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert answer.json()["code"] == "service_unavailable"
    for secret in ("db.internal", "5432", "10.0.0.7", "/var/run", "geogrid@"):
        assert secret not in answer.text
