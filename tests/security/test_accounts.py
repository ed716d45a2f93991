"""Accounts: brute-force lockout (per account and per IP), answers that do not tell whether
an account exists, session key rotated at login and ended at logout."""

import html
import re

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in
from django.core import mail
from django.test import Client
from oscar.apps.customer.signals import user_registered

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


# --- Registration: both forms (the register page and the register half of the login page) ---

REGISTER_FORMS = {
    "register-page": ("/accounts/register/", "", {"registration_submit": "Register"}),
    "login-page": ("/accounts/login/", "registration-", {"registration_submit": "Register"}),
}
NEW_PASSWORD = "a fresh long pass phrase 9"


def _register(client, form, email, password1=NEW_PASSWORD, password2=None, ip="10.5.0.1"):
    url, prefix, extra = REGISTER_FORMS[form]
    data = {
        f"{prefix}email": email,
        f"{prefix}password1": password1,
        f"{prefix}password2": NEW_PASSWORD if password2 is None else password2,
        **extra,
    }
    return client.post(url, data, REMOTE_ADDR=ip)


def _welcome_emails(address: str) -> list:
    return [m for m in mail.outbox if m.to == [address] and "registering" in m.subject]


@pytest.fixture
def registered_signals():
    received = []

    def receiver(sender, request, user, **kwargs):
        received.append((user.pk, request is not None))

    user_registered.connect(receiver, dispatch_uid="test-registered")
    yield received
    user_registered.disconnect(dispatch_uid="test-registered")


@pytest.mark.parametrize("form", REGISTER_FORMS)
def test_registering_creates_the_account_signs_in_and_welcomes_once_after_commit(
    form, registered_signals, django_capture_on_commit_callbacks
):
    client = Client()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _register(client, form, "Grace@Example.com")
    assert response.status_code == 302
    # Nothing is sent while the account's transaction is still open.
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    user = get_user_model().objects.get(email__iexact="grace@example.com")
    assert user.check_password(NEW_PASSWORD)
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get("/accounts/profile/").status_code == 200
    assert len(mail.outbox) == 1
    assert len(_welcome_emails(user.email)) == 1
    assert registered_signals == [(user.pk, True)]
    # Signed in by the real auth stack: axes saw a successful login, not a failure.
    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize("form", REGISTER_FORMS)
def test_a_registration_rolled_back_sends_no_email(form, django_capture_on_commit_callbacks):
    """The welcome email waits for the commit: a request that fails after registering (and
    so is rolled back by ATOMIC_REQUESTS) leaves no account and sends nothing."""

    def fail(**kwargs):
        raise RuntimeError("the request fails after the account was saved")

    user_logged_in.connect(fail, dispatch_uid="test-fail-login")
    try:
        client = Client(raise_request_exception=False)
        with django_capture_on_commit_callbacks(execute=True):
            response = _register(client, form, "rollback@example.com")
    finally:
        user_logged_in.disconnect(dispatch_uid="test-fail-login")
    assert response.status_code == 500
    assert not get_user_model().objects.filter(email="rollback@example.com").exists()
    assert mail.outbox == []


BAD_REGISTRATIONS = {
    "existing-email": (
        {"email": "ADA@example.COM"},
        "A user with that email address already exists",
    ),
    "weak-password": (
        {"email": "new@example.com", "password1": "password", "password2": "password"},
        "This password is too common",
    ),
    "mismatch": (
        {"email": "new@example.com", "password2": "another long pass phrase 8"},
        "The two password fields didn",
    ),
    "long-email": (
        {"email": "a" * 288 + "@example.com"},
        "Ensure this value has at most 254 characters",
    ),
}


@pytest.mark.parametrize("case", BAD_REGISTRATIONS)
@pytest.mark.parametrize("form", REGISTER_FORMS)
def test_bad_registrations_show_a_form_error_and_change_nothing(
    form, case, customer, django_capture_on_commit_callbacks
):
    fields, error = BAD_REGISTRATIONS[case]
    users_before = get_user_model().objects.count()
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = _register(client, form, **fields)
    assert response.status_code == 200
    assert error in html.unescape(response.content.decode())
    assert get_user_model().objects.count() == users_before
    assert "_auth_user_id" not in client.session
    assert mail.outbox == []


@pytest.mark.parametrize("form", REGISTER_FORMS)
def test_registering_from_a_locked_address_creates_nothing(
    form, customer, django_capture_on_commit_callbacks
):
    for i in range(5):
        _login(Client(), f"nobody{i}@example.com", "wrong", ip="10.8.8.8")
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = _register(client, form, "late@example.com", ip="10.8.8.8")
    assert response.status_code == 429
    assert not get_user_model().objects.filter(email="late@example.com").exists()
    assert "_auth_user_id" not in client.session
    assert mail.outbox == []


def test_a_new_account_is_locked_after_five_failures_too(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert _register(Client(), "register-page", "lin@example.com").status_code == 302
    for i in range(5):
        _login(Client(), "lin@example.com", "wrong", ip=f"10.6.0.{i}")
    assert _login(Client(), "lin@example.com", NEW_PASSWORD, ip="10.6.1.1").status_code == 429
