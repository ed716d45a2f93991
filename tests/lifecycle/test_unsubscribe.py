"""Every marketing email carries a signed one-click unsubscribe link and the RFC 8058
headers; the link works signed out (GET and POST), and a bad signature changes nothing."""

import re

import pytest
from django.core import mail, signing
from django.test import Client

from shop.lifecycle.models import Campaign, ConsentChange, ConsentSource, MarketingConsent
from shop.lifecycle.services import consent_set, lifecycle_sweep, unsubscribe_token
from tests.lifecycle.helpers import deliver_all, left_basket, sends

pytestmark = pytest.mark.django_db
LINK = re.compile(r"http://shop\.test(/email/unsubscribe/[^/\s]+/)")


@pytest.fixture
def emailed(jo):
    """Jo's abandoned-basket email, sent."""
    left_basket(jo)
    lifecycle_sweep(kind=Campaign.Kind.ABANDONED_BASKET)
    assert deliver_all() == ["sent"]
    (message,) = mail.outbox
    return message


def _opted_in(user) -> bool:
    return MarketingConsent.objects.get(user=user).opted_in


def test_the_email_has_text_html_the_link_and_the_one_click_headers(emailed, jo):
    (send,) = sends(Campaign.Kind.ABANDONED_BASKET)
    path = LINK.search(emailed.body).group(1)
    assert emailed.extra_headers["List-Unsubscribe"] == f"<http://shop.test{path}>"
    assert emailed.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html, mimetype = emailed.alternatives[0]
    assert mimetype == "text/html"
    assert f"http://shop.test{path}" in html
    assert "#6B2C2C" in html  # the shop's oxblood call to action
    assert emailed.to == [jo.email]
    # The token names the customer and the email.
    token = path.split("/")[3]
    assert signing.loads(token, salt="shop.lifecycle.unsubscribe") == {"u": jo.pk, "s": send.pk}
    # And the message as it leaves: both headers on the wire.
    raw = emailed.message().as_string()
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw


def test_the_link_unsubscribes_signed_out_in_one_click(emailed, jo):
    path = LINK.search(emailed.body).group(1)
    response = Client().get(path)
    assert response.status_code == 200
    assert b"You are unsubscribed" in response.content
    assert b"Email preferences" in response.content
    assert not _opted_in(jo)
    change = ConsentChange.objects.filter(user=jo).first()
    assert (change.opted_in, change.source, change.send_id) == (
        False,
        ConsentSource.UNSUBSCRIBE,
        sends(Campaign.Kind.ABANDONED_BASKET)[0].pk,
    )
    # A second click: the same page, no second history row.
    assert Client().get(path).status_code == 200
    assert ConsentChange.objects.filter(user=jo, opted_in=False).count() == 1
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


def test_one_click_post_without_csrf_or_login_unsubscribes(emailed, jo):
    path = LINK.search(emailed.body).group(1)
    client = Client(enforce_csrf_checks=True)
    response = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not _opted_in(jo)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
        lambda t: signing.dumps({"u": 1, "s": 1}, salt="another.salt"),  # another salt
        lambda t: signing.dumps({"u": "1", "s": 1}, salt="shop.lifecycle.unsubscribe"),
        lambda t: "x" * 5000,
        lambda t: "abc%00def",
        lambda t: "\u202eabc",
        lambda t: "🙂🙂",
        lambda t: "<script>alert(1)</script>",
    ],
)
def test_a_bad_or_tampered_link_is_a_clear_page_and_changes_nothing(emailed, jo, mangle):
    token = LINK.search(emailed.body).group(1).split("/")[3]
    response = Client().get(f"/email/unsubscribe/{mangle(token)}/")
    assert response.status_code in (400, 404)
    if response.status_code == 400 and b"not valid" in response.content:
        assert b"<script>alert" not in response.content
    assert _opted_in(jo)
    assert not ConsentChange.objects.filter(user=jo, source=ConsentSource.UNSUBSCRIBE).exists()


def test_a_tampered_link_says_so(emailed, jo):
    token = LINK.search(emailed.body).group(1).split("/")[3]
    response = Client().post(f"/email/unsubscribe/{token}x/")
    assert response.status_code == 400
    assert b"This unsubscribe link is not valid" in response.content
    assert _opted_in(jo)


def test_a_valid_token_for_an_email_since_deleted_still_unsubscribes(jo):
    token = unsubscribe_token(user_id=jo.pk, send_id=999999)
    assert Client().get(f"/email/unsubscribe/{token}/").status_code == 200
    assert not _opted_in(jo)
    assert ConsentChange.objects.filter(user=jo).first().send_id is None


def test_a_valid_token_of_a_deleted_account_is_refused(jo):
    token = unsubscribe_token(user_id=jo.pk + 1000, send_id=1)
    assert Client().get(f"/email/unsubscribe/{token}/").status_code == 400


def test_unsubscribed_customers_get_no_more_marketing_email(emailed, jo):
    Client().get(LINK.search(emailed.body).group(1))
    left_basket(jo)  # a new basket, left again
    assert lifecycle_sweep(kind=Campaign.Kind.ABANDONED_BASKET) == {"abandoned_basket": 0}
    consent_set(user=jo, opted_in=True, source=ConsentSource.ACCOUNT)
    assert lifecycle_sweep(kind=Campaign.Kind.ABANDONED_BASKET) == {"abandoned_basket": 1}
