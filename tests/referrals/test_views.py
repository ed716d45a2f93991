"""Referral pages through the test client: the share link /r/<code>/ (valid, forged, long,
HTML, NUL, emoji), registering through it on the real form, the account's invite page, the
staff page with and without its permission, and a friend's first order paid by card through
the checkout pages (the card guard reads the fingerprint from Stripe: localstripe)."""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from oscar.core.loading import get_model

from shop.common.models import OutboxMessage
from shop.credit.models import CreditEntry
from shop.credit.selectors import credit_balance
from shop.payments.models import PaymentIntentRecord
from shop.referrals.cookies import REFERRAL_COOKIE
from shop.referrals.models import Referral, ReferralCode, ReferralEvent
from shop.referrals.selectors import referral_programme
from shop.referrals.tasks import reward_referral
from shop.storefront.services import shipping_countries_ensure
from tests.factories import ADDRESS, OK, pay
from tests.referrals.conftest import customer

pytestmark = pytest.mark.django_db
D = Decimal
Order = get_model("order", "Order")
Product = get_model("catalogue", "Product")
PASSWORD = "a fresh long pass phrase 9"


def register(client, email, ip="10.8.0.1"):
    return client.post(
        "/accounts/register/",
        {
            "email": email,
            "password1": PASSWORD,
            "password2": PASSWORD,
            "registration_submit": "Register",
        },
        REMOTE_ADDR=ip,
    )


def code_of(user) -> str:
    return ReferralCode.objects.get(user=user).code


@pytest.fixture
def referrer(db):
    user = customer("maker@example.com")
    client = Client()
    client.force_login(user)
    assert client.get("/accounts/referrals/").status_code == 200  # makes the code
    return user


# --- the share link ---------------------------------------------------------------------


def test_a_valid_link_sets_a_signed_cookie_and_keeps_the_campaign(client, referrer):
    code = code_of(referrer)
    response = client.get(f"/r/{code}/?utm_source=friend&utm_campaign=spring&ref=x&utm_x=1")
    assert response.status_code == 302
    assert response["Location"] == "/?utm_source=friend&utm_campaign=spring"
    cookie = response.cookies[REFERRAL_COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 30 * 24 * 3600
    assert cookie.value != code and cookie.value.startswith(code)  # signed
    # Upper case (read out loud, typed) is the same code; without campaign: marked as shared.
    response = Client().get(f"/r/{code.upper()}/")
    assert response["Location"] == "/?utm_source=referral&utm_medium=share-link"
    assert REFERRAL_COOKIE in response.cookies
    assert not Referral.objects.exists()


@pytest.mark.parametrize(
    "code",
    [
        "nosuchcode",
        "x" * 5000,
        "<script>alert(1)</script>",
        "abc\u202edefgh",
        "abcdefg\U0001f600",
        "%3Cb%3Eabc",
        "' OR 1=1 --",
    ],
)
def test_unknown_or_forged_codes_redirect_the_same_and_store_nothing(client, referrer, code):
    before = ReferralCode.objects.count()
    response = client.get(f"/r/{quote(code, safe='')}/?utm_source=" + "s" * 300)
    assert response.status_code == 302
    assert response["Location"] == "/?utm_source=" + "s" * 64
    assert REFERRAL_COOKIE not in response.cookies
    assert ReferralCode.objects.count() == before and not Referral.objects.exists()


def test_a_nul_in_the_link_is_a_bad_request_without_cookie(client, referrer):
    response = client.get(f"/r/{code_of(referrer)}%00/")
    assert response.status_code == 400
    assert REFERRAL_COOKIE not in response.cookies


def test_a_customer_following_their_own_link_gets_no_cookie(client, referrer):
    client.force_login(referrer)
    response = client.get(f"/r/{code_of(referrer)}/")
    assert response.status_code == 302 and REFERRAL_COOKIE not in response.cookies


# --- registering through it -------------------------------------------------------------


def test_registering_through_the_link_records_the_referral(client, referrer):
    client.get(f"/r/{code_of(referrer)}/?utm_source=friend")
    response = register(client, "Friend@Example.org")
    assert response.status_code == 302
    friend = get_user_model().objects.get(email__iexact="friend@example.org")
    referral = Referral.objects.get()
    assert (referral.referrer, referral.friend, referral.status) == (referrer, friend, "joined")
    assert ReferralEvent.objects.filter(referral=referral, kind="joined").count() == 1
    # The cookie is useless now: the friend is referred once.
    assert client.cookies[REFERRAL_COOKIE].value
    response = client.get("/accounts/referrals/")
    assert response.status_code == 200 and Referral.objects.count() == 1


@pytest.mark.parametrize(
    "cookie",
    [
        "",
        "abcdefghjk",
        "x" * 5000,
        "<b>hi</b>",
        "abcdefghjk:forged:sig",
        # RTL mark and emoji as the bytes a browser sends (WSGI hands them over as latin-1).
        "\u202e😀".encode().decode("latin-1"),
    ],
)
def test_a_bad_cookie_never_fails_registration(client, referrer, cookie):
    client.cookies[REFERRAL_COOKIE] = cookie
    response = register(client, "newcomer@example.org")
    assert response.status_code == 302
    assert get_user_model().objects.filter(email="newcomer@example.org").exists()
    assert not Referral.objects.exists()


def test_registering_with_the_referrers_own_mailbox_is_not_a_referral(client, referrer):
    client.get(f"/r/{code_of(referrer)}/")
    assert register(client, "Maker+second@example.com").status_code == 302
    assert not Referral.objects.exists()


def test_a_paused_programme_records_nobody(client, referrer):
    programme = referral_programme()
    programme.enabled = False
    programme.save()
    client.get(f"/r/{code_of(referrer)}/")
    assert register(client, "friend@example.org").status_code == 302
    assert not Referral.objects.exists()


# --- the account page -------------------------------------------------------------------


def test_the_invite_page_needs_a_signed_in_customer(client):
    response = client.get("/accounts/referrals/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_invite_page_shows_the_link_terms_and_friends(client, referrer):
    client.force_login(referrer)
    code = code_of(referrer)
    html = client.get("/accounts/referrals/").content.decode()
    assert f'value="http://testserver/r/{code}/"' in html and "readonly" in html
    assert ">Copy link</button>" in html
    assert "they get £10.00 of store credit" in html and "you get £10.00" in html
    assert "No friend has joined through your link yet." in html
    assert 'href="/accounts/referrals/" class="nav-link active">Invite friends</a>' in html
    # The same code every time.
    client.get("/accounts/referrals/")
    assert ReferralCode.objects.filter(user=referrer).count() == 1
    # A friend joins: counted, shown without anything that identifies them.
    friend_client = Client()
    friend_client.get(f"/r/{code}/")
    register(friend_client, "secret.friend@example.org")
    html = client.get("/accounts/referrals/").content.decode()
    assert "Waiting for their first order" in html
    assert "secret.friend" not in html
    assert "<dd data-friends-joined>1</dd>" in html
    # The store credit tab lists the invite tab beside it.
    credit = client.get("/accounts/credit/").content.decode()
    assert ">Invite friends</a>" in credit


# --- the staff page ---------------------------------------------------------------------


@pytest.fixture
def staff(db):
    user = get_user_model().objects.create_user(
        username="staff", email="staff@example.com", password=PASSWORD, is_staff=True
    )
    return user


@pytest.fixture
def editor(staff):
    staff.user_permissions.add(Permission.objects.get(codename="edit_referral_programme"))
    return get_user_model().objects.get(pk=staff.pk)


def test_the_staff_page_needs_staff(client, referrer):
    response = client.get("/dashboard/referrals/")
    assert response.status_code == 302 and "/dashboard/login/" in response["Location"]
    client.force_login(referrer)
    assert client.get("/dashboard/referrals/").status_code in (302, 403)


def test_staff_without_the_permission_see_but_cannot_change(client, staff):
    client.force_login(staff)
    html = client.get("/dashboard/referrals/").content.decode()
    assert "Save programme" not in html and "Can edit the referral programme" in html
    # The Growth menu's entry.
    assert re.search(r'href="/dashboard/referrals/">\s*Referrals\s*</a>', html)
    response = client.post(
        "/dashboard/referrals/",
        {"enabled": "on", "friend_credit": "99.00", "referrer_credit": "99.00"},
    )
    assert response.status_code == 403
    assert referral_programme().friend_credit == D("10.00")


def test_staff_with_the_permission_change_the_programme(client, editor):
    client.force_login(editor)
    assert "Save programme" in client.get("/dashboard/referrals/").content.decode()
    response = client.post(
        "/dashboard/referrals/", {"friend_credit": "12.50", "referrer_credit": "5"}
    )
    assert response.status_code == 302
    programme = referral_programme()
    assert (programme.enabled, programme.friend_credit, programme.referrer_credit) == (
        False,
        D("12.50"),
        D("5.00"),
    )
    event = ReferralEvent.objects.get(kind="programme")
    assert (event.actor, event.note) == (editor, "Paused; friend 12.50, referrer 5.00")


@pytest.mark.parametrize(
    "friend_credit",
    ["-1", "1.234", "500.01", "NaN", "Infinity", "1e3", "<b>5</b>", "5" * 5000, "\x00", "٣"],
)
def test_bad_amounts_are_refused_with_a_message(client, editor, friend_credit):
    client.force_login(editor)
    response = client.post(
        "/dashboard/referrals/",
        {"enabled": "on", "friend_credit": friend_credit, "referrer_credit": "10.00"},
    )
    assert response.status_code == 400
    assert 'class="text-danger"' in response.content.decode()
    assert "<b>5</b>" not in response.content.decode()
    assert referral_programme().friend_credit == D("10.00")
    assert not ReferralEvent.objects.filter(kind="programme").exists()


@pytest.mark.parametrize(
    "query", ["?start=garbage&end=2025-13-45", "?status=<b>x</b>&page=-3", "?page=" + "9" * 500]
)
def test_the_staff_page_shrugs_off_tampered_filters(client, staff, query):
    client.force_login(staff)
    assert client.get("/dashboard/referrals/" + query).status_code == 200


# --- a friend's first order through the checkout pages ----------------------------------

OTHER_ADDRESS = {**ADDRESS, "line1": "7 Bridge Street", "postcode": "WS1 1QL"}
MASTERCARD = "5555555555554444"


def buy(client, *, address: dict, card: str) -> Order:
    """The signed-in customer of `client` buys a key fob, delivered to `address`, paid with
    `card` through the checkout pages (Stripe: localstripe)."""
    shipping_countries_ensure()
    client.post(f"/basket/add/{Product.objects.get(upc='MV-HE-KEY').pk}/", {"quantity": 1})
    client.get("/checkout/")
    assert client.post("/checkout/shipping-address/", address).status_code == 302
    client.post("/checkout/shipping-method/", {"method_code": "royal-mail-tracked-48"})
    pi_id = client.get("/checkout/payment-details/").context["payment_intent_id"]
    pay(pi_id, card)
    response = client.post("/checkout/payment-confirm/", {"payment_intent_id": pi_id})
    assert response["Location"] == "/checkout/thank-you/"
    return Order.objects.get(
        number=PaymentIntentRecord.objects.get(payment_intent_id=pi_id).order_number
    )


def _friend_through_the_link(referrer) -> tuple[Client, object]:
    client = Client()
    client.get(f"/r/{code_of(referrer)}/?utm_source=friend")
    assert register(client, "friend@example.org").status_code == 302
    return client, get_user_model().objects.get(email="friend@example.org")


def test_friend_registers_through_the_link_buys_and_both_are_credited(
    demo_catalogue, localstripe, referrer, editor
):
    referrer_client = Client()
    referrer_client.force_login(referrer)
    buy(referrer_client, address=ADDRESS, card=OK)
    friend_client, friend = _friend_through_the_link(referrer)
    order = buy(friend_client, address=OTHER_ADDRESS, card=MASTERCARD)
    assert order.user == friend and order.status == "Paid"
    assert OutboxMessage.objects.filter(
        task="shop.referrals.tasks.reward_referral", args=[order.pk]
    ).exists()
    assert reward_referral.apply(args=[order.pk]).get() == "rewarded"
    assert credit_balance(user=friend) == credit_balance(user=referrer) == D("10.00")
    # The friend's card was read from Stripe once, and kept.
    record = PaymentIntentRecord.objects.get(order_number=order.number)
    assert len(record.card_fingerprint) >= 8
    # The friend sees the welcome credit; staff see both credits and the referral.
    credit_page = friend_client.get("/accounts/credit/").content.decode()
    assert "Welcome credit: you joined through a friend&#x27;s invitation" in credit_page
    staff_client = Client()
    staff_client.force_login(editor)
    html = staff_client.get("/dashboard/referrals/").content.decode()
    assert order.number in html and "Rewarded" in html
    assert "<td data-joined>1</td>" in html and "<td data-rewarded>1</td>" in html
    assert "<td data-credit-issued>£20.00</td>" in html
    assert CreditEntry.objects.filter(reference__startswith="referral:", kind="issued").count() == 2


def test_the_friend_paying_with_the_referrers_card_is_refused(
    demo_catalogue, localstripe, referrer, editor
):
    referrer_client = Client()
    referrer_client.force_login(referrer)
    buy(referrer_client, address=ADDRESS, card=OK)
    friend_client, friend = _friend_through_the_link(referrer)
    order = buy(friend_client, address=OTHER_ADDRESS, card=OK)
    assert reward_referral.apply(args=[order.pk]).get() == "refused"
    referral = Referral.objects.get()
    assert referral.reason == "same_card"
    assert credit_balance(user=friend) == credit_balance(user=referrer) == D("0.00")
    staff_client = Client()
    staff_client.force_login(editor)
    html = staff_client.get("/dashboard/referrals/?status=refused").content.decode()
    assert "Paid with a card the referrer has paid with" in html
