"""Logins: argon2 passwords, tokens and keys stored as hashes, staff tied to a street."""

import pytest
from sqlalchemy import select

from geogrid.domain.access import Role
from geogrid.errors import InvalidInput, NotFound, Unauthorized
from geogrid.services import accounts
from geogrid.store.engine import Bind, session_scope
from geogrid.store.models import ApiToken, User

STREET = "620899001000"


def test_staff_need_a_street_that_exists(sample_copy: Bind) -> None:
    with pytest.raises(InvalidInput) as missing:
        accounts.add_user(sample_copy, "li", "secret-123", "staff")
    with pytest.raises(NotFound):
        accounts.add_user(
            sample_copy, "li", "secret-123", "staff", street="620899009000"
        )
    with pytest.raises(InvalidInput) as short:
        accounts.add_user(sample_copy, "li", "short", "staff", street=STREET)
    with pytest.raises(InvalidInput) as role:
        accounts.add_user(sample_copy, "li", "secret-123", "public")

    assert missing.value.code == "staff_street_missing"
    assert short.value.code == "password_too_short"
    assert role.value.params["field"] == "role"


def test_login_issues_a_token_that_stands_for_the_user(sample_copy: Bind) -> None:
    accounts.add_user(sample_copy, "li", "secret-123", "staff", street=STREET)
    with pytest.raises(InvalidInput) as taken:
        accounts.add_user(sample_copy, "li", "other-pass", "admin")

    issued = accounts.login(sample_copy, "li", "secret-123", ttl_minutes=5)
    caller = accounts.caller_for(sample_copy, issued.access_token)

    assert taken.value.code == "user_exists"
    assert caller.role is Role.STAFF
    assert caller.street == STREET
    assert issued.expires_in == 300
    with session_scope(sample_copy) as session:
        stored = session.scalar(select(User.password_hash))
        hashes = list(session.scalars(select(ApiToken.token_hash)))
    assert stored.startswith("$argon2")
    assert "secret-123" not in stored
    assert issued.access_token not in hashes  # only its SHA-256 is kept


@pytest.mark.parametrize(
    ("username", "password"), [("li", "wrong-pass"), ("nobody", "secret-123")]
)
def test_a_wrong_login_says_the_same_either_way(
    sample_copy: Bind, username: str, password: str
) -> None:
    accounts.add_user(sample_copy, "li", "secret-123", "planner")

    with pytest.raises(Unauthorized) as caught:
        accounts.login(sample_copy, username, password, ttl_minutes=5)
    assert caught.value.code == "login_failed"


def test_keys_work_until_revoked(sample_copy: Bind) -> None:
    accounts.add_user(sample_copy, "sync", "secret-123", "admin")
    key = accounts.create_api_key(sample_copy, "sync", name="nightly")

    assert accounts.caller_for(sample_copy, key).role is Role.ADMIN
    assert accounts.revoke(sample_copy, "sync") == 1
    with pytest.raises(Unauthorized):
        accounts.caller_for(sample_copy, key)
    with pytest.raises(Unauthorized):
        accounts.caller_for(sample_copy, "ggk_made-up")
