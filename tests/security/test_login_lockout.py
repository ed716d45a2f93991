"""Login lockout by account and by (account, address), never by address alone, and the
client's address read through the trusted proxies (TRUSTED_PROXY_COUNT), through both login
forms with the test client."""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

PASSWORD = "a long pass phrase 42"
PROXY = "10.0.0.2"


@pytest.fixture
def accounts(db):
    User = get_user_model()
    return (
        User.objects.create_user(username="ada", email="ada@example.com", password=PASSWORD),
        User.objects.create_superuser(
            username="bob", email="bob@example.com", password=PASSWORD, is_staff=True
        ),
    )


def _customer_login(email: str, password: str, **meta: str):
    data = {"login-username": email, "login-password": password, "login_submit": "Sign in"}
    return Client().post("/accounts/login/", data, **meta)


def _dashboard_login(email: str, password: str, **meta: str):
    data = {"username": email, "password": password}
    return Client().post("/dashboard/login/", data, **meta)


LOGINS = {"customer": _customer_login, "dashboard": _dashboard_login}


@pytest.mark.parametrize("form", LOGINS)
def test_failures_on_one_account_do_not_lock_another_from_the_same_address(form, accounts):
    login = LOGINS[form]
    for _ in range(4):
        assert login("ada@example.com", "wrong", REMOTE_ADDR="10.2.0.1").status_code == 200
    # The fifth failure locks account A (the lockout page).
    assert login("ada@example.com", "wrong", REMOTE_ADDR="10.2.0.1").status_code == 429
    # Account B, same address, right password: signed in.
    response = login("bob@example.com", PASSWORD, REMOTE_ADDR="10.2.0.1")
    assert response.status_code == 302
    assert "_auth_user_id" in response.wsgi_request.session
    # Account A is locked, with its right password, from this and from any other address.
    for address in ("10.2.0.1", "10.2.0.99"):
        locked = login("ada@example.com", PASSWORD, REMOTE_ADDR=address)
        assert locked.status_code == 429
        assert "_auth_user_id" not in locked.wsgi_request.session


def test_failures_from_many_accounts_on_one_address_do_not_lock_the_address(accounts):
    for i in range(12):
        _customer_login(f"nobody{i}@example.com", "wrong", REMOTE_ADDR="10.2.1.1")
    assert _customer_login("ada@example.com", PASSWORD, REMOTE_ADDR="10.2.1.1").status_code == 302
    assert _dashboard_login("bob@example.com", PASSWORD, REMOTE_ADDR="10.2.1.1").status_code == 302


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_the_proxy_the_forwarded_address_is_the_client(accounts):
    _customer_login(
        "ada@example.com", "wrong", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.7"
    )
    # A client that writes its own X-Forwarded-For gets the proxy's entry appended after it:
    # only the last (count = 1) entry is believed.
    _customer_login(
        "ada@example.com",
        "wrong",
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.8",
    )
    addresses = set(AccessAttempt.objects.values_list("ip_address", flat=True))
    assert addresses == {"203.0.113.7", "203.0.113.8"}


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_the_proxy_customers_do_not_share_the_proxy_address(accounts):
    for i in range(5):
        _customer_login(
            f"nobody{i}@example.com",
            "wrong",
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR="203.0.113.9",
        )
    ok = _customer_login(
        "ada@example.com", PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.10"
    )
    assert ok.status_code == 302
    assert not AccessAttempt.objects.filter(ip_address=PROXY).exists()


def test_username_and_email_count_as_one_account(accounts):
    """The dashboard accepts a username too: failures under either count for the account."""
    for _ in range(3):
        _dashboard_login("BOB@example.com", "wrong", REMOTE_ADDR="10.2.2.1")
    for _ in range(2):
        _dashboard_login("bob", "wrong", REMOTE_ADDR="10.2.2.2")
    assert _dashboard_login("bob@example.com", PASSWORD, REMOTE_ADDR="10.2.2.3").status_code == 429
