"""Accounts: brute-force lockout (per account and per IP), answers that do not tell whether
an account exists, session key rotated at login and ended at logout."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PASSWORD = "a long pass phrase 42"


@pytest.fixture
def customer(db):
    return get_user_model().objects.create_user(
        username="ada", email="ada@example.com", password=PASSWORD
    )


def _login(client, email, password, ip="10.0.0.1"):
    return client.post(
        LOGIN,
        {"login-username": email, "login-password": password, "login_submit": "Sign in"},
        REMOTE_ADDR=ip,
    )


def test_an_account_is_locked_after_five_failures_even_from_other_addresses(customer):
    for i in range(4):
        response = _login(Client(), "ada@example.com", "wrong", ip=f"10.0.1.{i}")
        assert response.status_code == 200  # the form again, with its error
    assert _login(Client(), "ada@example.com", "wrong", ip="10.0.1.9").status_code == 429
    locked = _login(Client(), "ada@example.com", PASSWORD, ip="10.0.2.1")
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    assert "_auth_user_id" not in locked.wsgi_request.session


def test_an_address_is_locked_after_five_failures_on_any_accounts(customer):
    for i in range(5):
        _login(Client(), f"nobody{i}@example.com", "wrong", ip="10.9.9.9")
    assert _login(Client(), "ada@example.com", PASSWORD, ip="10.9.9.9").status_code == 429
    assert _login(Client(), "ada@example.com", PASSWORD, ip="10.9.9.8").status_code == 302


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(customer):
    known = _login(Client(), "ada@example.com", "wrong", ip="10.0.3.1").content.decode()
    unknown = _login(Client(), "eve@example.com", "wrong", ip="10.0.3.2").content.decode()

    def strip(html: str) -> str:
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
        return html.replace("ada@example.com", "X").replace("eve@example.com", "X")

    assert strip(known) == strip(unknown)


def test_a_success_resets_the_count(customer):
    for _ in range(4):
        _login(Client(), "ada@example.com", "wrong")
    assert _login(Client(), "ada@example.com", PASSWORD).status_code == 302
    for _ in range(4):
        _login(Client(), "ada@example.com", "wrong")
    assert _login(Client(), "ada@example.com", PASSWORD).status_code == 302


def test_the_dashboard_login_is_locked_too(customer):
    for _ in range(5):
        Client().post("/dashboard/login/", {"username": "ada@example.com", "password": "x"})
    response = Client().post(
        "/dashboard/login/", {"username": "ada@example.com", "password": PASSWORD}
    )
    assert response.status_code == 429


def test_the_session_key_rotates_at_login_and_dies_at_logout(customer):
    client = Client()
    client.get("/basket/")
    client.session.save()
    before = client.cookies["sessionid"].value
    assert _login(client, "ada@example.com", PASSWORD).status_code == 302
    after = client.cookies["sessionid"].value
    assert after != before
    assert client.get("/accounts/profile/").status_code == 200

    stolen = Client()
    stolen.cookies["sessionid"] = after
    assert stolen.get("/accounts/profile/").status_code == 200
    client.get("/accounts/logout/")
    # The server forgot the session: the old cookie no longer signs anyone in.
    assert stolen.get("/accounts/profile/").status_code == 302


def test_changing_the_email_asks_for_the_current_password(client, customer):
    client.force_login(customer)
    data = {"first_name": "Ada", "last_name": "L", "email": "new@example.com"}
    response = client.post("/accounts/profile/edit/", data)
    assert response.status_code == 200
    assert "Enter your current password" in response.content.decode()
    customer.refresh_from_db()
    assert customer.email == "ada@example.com"
    wrong = client.post("/accounts/profile/edit/", data | {"current_password": "nope"})
    assert wrong.status_code == 200
    ok = client.post("/accounts/profile/edit/", data | {"current_password": PASSWORD})
    assert ok.status_code == 302
    customer.refresh_from_db()
    assert customer.email == "new@example.com"
    # Other details change without it.
    same = {"first_name": "Ada", "last_name": "Byron", "email": "new@example.com"}
    assert client.post("/accounts/profile/edit/", same).status_code == 302


def test_changing_the_password_asks_for_the_current_one(client, customer):
    client.force_login(customer)
    new = "another long pass phrase 7"
    refused = client.post(
        "/accounts/change-password/",
        {"old_password": "wrong", "new_password1": new, "new_password2": new},
    )
    assert refused.status_code == 200
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)
