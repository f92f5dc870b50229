"""Finding 4 of issue 13: logins throttled by account and address, password rules,
disabling a user, and how fast a revoked key stops working."""

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from geogrid.api.app import create_app
from geogrid.cli import app as cli
from geogrid.config import Settings
from geogrid.errors import InvalidInput
from geogrid.services import accounts
from geogrid.store import accounts as account_store
from geogrid.store.engine import Bind, session_scope
from tests.security.conftest import STREET_A

PASSWORD = "correct-horse-7"


@pytest.fixture
def app_with(sample_copy: Bind) -> Iterator[object]:
    """A factory: the app with some login settings, one staff login "li"."""
    accounts.add_user(sample_copy, "li", PASSWORD, "staff", street=STREET_A)
    clients: list[TestClient] = []

    def make(**login: float) -> TestClient:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, database_url="sqlite:///unused.sqlite", **login
        )
        client = TestClient(create_app(settings, bind=sample_copy))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def _login(client: TestClient, username: str, password: str):
    return client.post("/auth/token", data={"username": username, "password": password})


def test_a_login_flood_is_throttled_and_the_owner_gets_back_in(app_with) -> None:
    client = app_with(login_max_failures=5, login_lockout_seconds=1)
    started = time.monotonic()

    answers = [_login(client, "li", f"guess-{i:04d}") for i in range(40)]
    right_too_soon = _login(client, "li", PASSWORD)

    codes = [a.status_code for a in answers]
    assert codes[:5] == [401] * 5
    assert set(codes[5:]) == {429}  # 35 guesses refused before any checking
    assert right_too_soon.status_code == 429
    wait = int(right_too_soon.headers["Retry-After"])
    assert 1 <= wait <= 2
    assert right_too_soon.json()["code"] == "login_throttled"
    time.sleep(wait + 0.2)
    assert _login(client, "li", PASSWORD).status_code == 200
    # After a success the count starts again: one slip is a 401, not a 429.
    assert _login(client, "li", "one-slip-here").status_code == 401
    assert time.monotonic() - started < 60


def test_the_wait_doubles_with_each_failure_after_a_lock(app_with) -> None:
    client = app_with(login_max_failures=2, login_lockout_seconds=1)
    for i in range(2):
        _login(client, "li", f"guess-{i}")
    time.sleep(1.1)
    assert _login(client, "li", "guess-after").status_code == 401  # third failure
    assert int(_login(client, "li", PASSWORD).headers["Retry-After"]) == 2


def test_one_address_guessing_many_accounts_is_throttled(
    app_with, sample_copy: Bind
) -> None:
    client = app_with(login_client_max_failures=6, login_lockout_seconds=30)
    codes = [
        _login(client, f"user{i}", "wrong-password-x").status_code for i in range(10)
    ]

    assert codes[:6] == [401] * 6
    assert set(codes[6:]) == {429}
    with session_scope(sample_copy) as session:
        logged = account_store.audit_entries(session, target="client:testclient")
    assert [e["action"] for e in logged].count("login.failed") == 6


@pytest.mark.parametrize(
    ("username", "password", "code"),
    [
        ("li", "short-1", "password_too_short"),
        ("zhangwei", "zhangwei-2026", "password_weak"),
        ("li", "1234567890", "password_weak"),
        ("li", "woaini1314", "password_weak"),
        ("li", "aaaaaaaaaaaa", "password_weak"),
    ],
)
def test_weak_passwords_are_refused(
    sample_copy: Bind, username: str, password: str, code: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        accounts.add_user(sample_copy, username, password, "planner")
    assert caught.value.code == code


def test_disable_refuses_logins_tokens_and_keys_at_once(
    app_with, sample_copy: Bind, cli_for
) -> None:
    client = app_with()
    token = _login(client, "li", PASSWORD).json()["access_token"]
    key = accounts.create_api_key(sample_copy, "li")
    bearer, keyed = {"Authorization": f"Bearer {token}"}, {"X-API-Key": key}
    assert client.get("/people", headers=bearer).status_code == 200

    done = cli_for(_url(sample_copy)).invoke(cli, ["users", "disable", "li"])

    assert done.exit_code == 0, done.output
    time.sleep(1.1)  # the token cache of another worker lapses within a second
    assert client.get("/people", headers=bearer).status_code == 401
    assert client.get("/people", headers=keyed).status_code == 401
    assert _login(client, "li", PASSWORD).status_code == 401


def test_a_key_revoked_elsewhere_stops_working_within_a_second(
    app_with, sample_copy: Bind
) -> None:
    client = app_with()
    key = accounts.create_api_key(sample_copy, "li")
    assert client.get("/people", headers={"X-API-Key": key}).status_code == 200
    # Revoked by another worker: this one's cache is not told.
    with session_scope(sample_copy) as session:
        user = account_store.user_by_name(session, "li")
        assert user is not None
        account_store.revoke_tokens(session, user.id)
    time.sleep(1.05)
    assert client.get("/people", headers={"X-API-Key": key}).status_code == 401


def test_passwd_sets_a_new_password_and_ends_old_sessions(
    app_with, sample_copy: Bind, cli_for
) -> None:
    client = app_with()
    token = _login(client, "li", PASSWORD).json()["access_token"]

    changed = cli_for(_url(sample_copy)).invoke(
        cli,
        ["users", "passwd", "li", "--password-stdin"],
        input="another-long-secret\n",
    )

    assert changed.exit_code == 0, changed.output
    time.sleep(1.1)
    assert (
        client.get("/people", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
    assert _login(client, "li", "another-long-secret").status_code == 200
    with session_scope(sample_copy) as session:
        logged = account_store.audit_entries(session, target="user:li")
    assert "user.passwd" in {e["action"] for e in logged}


def _url(bind: Bind) -> str:
    return bind.engine.url.render_as_string(hide_password=False)
