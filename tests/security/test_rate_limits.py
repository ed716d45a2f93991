"""Password reset and take-back registration are rate-limited (signed-in customers per
account, anonymous requests per IP address and per email); the reset answers the same
whether or not the address has an account."""

import pytest
from django.core import mail
from django.test import Client
from oscar.test.factories import UserFactory

pytestmark = pytest.mark.django_db


def _reset(email: str, ip: str = "10.1.1.1"):
    return Client().post("/password-reset/", {"email": email}, REMOTE_ADDR=ip)


def test_password_reset_is_limited_per_email_and_answers_alike(db):
    UserFactory(email="ada@example.com")
    known = _reset("ada@example.com", ip="10.1.1.1")
    unknown = _reset("eve@example.com", ip="10.1.1.2")
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert known["Location"] == "/password-reset/done/"
    for i in range(4):
        assert _reset("ada@example.com", ip=f"10.1.2.{i}").status_code == 302
    limited = _reset("ada@example.com", ip="10.1.3.1")
    assert limited.status_code == 429
    assert "Nothing was sent" in limited.content.decode()
    assert len(mail.outbox) == 5  # the sixth request sent nothing


def test_password_reset_is_limited_per_address(db):
    for i in range(5):
        assert _reset(f"user{i}@example.com", ip="10.7.7.7").status_code == 302
    assert _reset("someone@example.com", ip="10.7.7.7").status_code == 429
    assert _reset("someone@example.com", ip="10.7.7.8").status_code == 302


def _takeback(client: Client, ip: str = "10.3.3.3"):
    return client.post("/accounts/take-back/new/", {}, REMOTE_ADDR=ip)


def test_takeback_registration_is_limited_per_customer(db):
    client = Client()
    client.force_login(UserFactory())
    for i in range(10):
        # Changing address does not reset a signed-in customer's count.
        assert _takeback(client, ip=f"10.3.4.{i}").status_code != 429
    assert _takeback(client, ip="10.3.5.1").status_code == 429
    assert client.get("/accounts/take-back/new/").status_code == 200  # reading is fine


def test_customers_sharing_an_address_each_get_their_own_allowance(db):
    """Signed-in customers are counted per account only: a customer behind the same address
    as others (an office, a mobile carrier) still has their full allowance."""
    first, second = Client(), Client()
    first.force_login(UserFactory())
    second.force_login(UserFactory())
    for _ in range(10):
        assert _takeback(first).status_code != 429
    assert _takeback(first).status_code == 429
    for _ in range(10):
        assert _takeback(second).status_code != 429
    assert _takeback(second).status_code == 429


def test_signed_in_customers_do_not_use_up_an_anonymous_address_allowance(db):
    customer = Client()
    customer.force_login(UserFactory())
    for _ in range(6):
        customer.post("/password-reset/", {"email": "x@example.com"}, REMOTE_ADDR="10.7.7.9")
    # The address's own (anonymous) allowance of 5 is untouched.
    for i in range(5):
        assert _reset(f"user{i}@example.com", ip="10.7.7.9").status_code == 302
    assert _reset("someone@example.com", ip="10.7.7.9").status_code == 429
