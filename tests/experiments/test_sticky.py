"""A visitor keeps one variant: anonymous, then registered or signed in, then on another
browser (the account's variant wins), and after signing out. Not counted (no consent, a
bot, outside the audience): control, and nothing recorded."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.utils import timezone

from shop.experiments.hashing import pick
from shop.experiments.models import Assignment
from shop.experiments.selectors import variant
from shop.growth.models import Visitor
from tests.experiments.conftest import UA, browser, make_experiment, vid, vids_for

pytestmark = pytest.mark.django_db
NAME = "takeback-promise"
VARIANTS = [("control", 50), ("promise", 50)]
PASSWORD = "saddle-stitch-1962"


def _seen(client) -> str:
    """The variant the page's helper gives this browser's next request."""
    response = client.get("/accounts/profile/" if _signed_in(client) else "/")
    return variant(response.wsgi_request, NAME)


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _register(client, email):
    response = client.post(
        "/accounts/register/",
        {"email": email, "password1": PASSWORD, "password2": PASSWORD, "redirect_url": "/"},
    )
    assert response.status_code == 302, response.content[:500]
    return get_user_model().objects.get(email=email)


def _login(client, email):
    response = client.post(
        "/accounts/login/",
        {"login-username": email, "login-password": PASSWORD, "login_submit": "Sign in"},
    )
    assert response.status_code == 302


def test_anonymous_then_registered_keeps_the_variant_and_records_it(demo_catalogue):
    make_experiment(NAME, variants=VARIANTS)
    (promise,) = vids_for(NAME, VARIANTS, "promise")
    client = browser(promise)
    assert _seen(client) == "promise"
    user = _register(client, "new@example.com")
    assert _signed_in(client)
    assert _seen(client) == "promise"
    assignment = Assignment.objects.get(user=user)
    assert (assignment.variant.key, assignment.visitor_id) == ("promise", promise)


def test_an_accounts_earlier_variant_wins_on_a_new_browser_also_after_sign_out(
    demo_catalogue, django_capture_on_commit_callbacks
):
    make_experiment(NAME, variants=VARIANTS)
    (promise,) = vids_for(NAME, VARIANTS, "promise")
    control, stranger = vids_for(NAME, VARIANTS, "control", 2)
    first = browser(promise)
    user = _register(first, "jo@example.com")
    assert Assignment.objects.get(user=user).variant.key == "promise"

    other = browser(control)  # a new browser, whose own hash says control
    assert _seen(other) == "control"
    with django_capture_on_commit_callbacks(execute=True):
        _login(other, "jo@example.com")
    assert _seen(other) == "promise"
    other.post("/accounts/logout/")
    assert not _signed_in(other)
    assert _seen(other) == "promise"  # this browser follows the account from now on
    assert Assignment.objects.filter(user=user).count() == 1
    assert _seen(browser(stranger)) == "control"  # other browsers: their own hash


def test_no_consent_or_a_bot_sees_control_and_nothing_is_recorded(demo_catalogue):
    make_experiment(NAME, variants=VARIANTS)
    (promise,) = vids_for(NAME, VARIANTS, "promise")
    declined = browser(promise, consent="declined")
    assert _seen(declined) == "control"
    user = _register(declined, "private@example.com")
    assert _seen(declined) == "control"
    bot = browser(promise, agent="Googlebot/2.1 (+http://www.google.com/bot.html)")
    assert _seen(bot) == "control"
    assert not Assignment.objects.filter(user=user).exists()


def _request(visitor, user=None):
    request = RequestFactory().get("/", HTTP_USER_AGENT=UA)
    request.COOKIES.update({"mv_consent": "analytics", "mv_vid": visitor})
    from django.contrib.auth.models import AnonymousUser

    request.user = user or AnonymousUser()
    return request


def test_audience_new_and_returning_for_anonymous_visitors():
    variants = [("control", 1), ("b", 1)]
    make_experiment("new-test", variants=variants, audience="new")
    make_experiment("back-test", variants=variants, audience="returning")
    fresh = next(v for v in map(vid, range(500)) if pick("new-test", v, variants) == "b")
    old = next(
        v
        for v in map(vid, range(500, 1000))
        if pick("back-test", v, variants) == "b" and pick("new-test", v, variants) == "b"
    )
    long_ago = timezone.now() - timedelta(days=10)
    Visitor.objects.create(id=old, first_seen_at=long_ago, last_seen_at=long_ago)

    # Without a Visitor row yet: new.
    assert variant(_request(fresh), "new-test") == "b"
    assert variant(_request(fresh), "back-test") == "control"
    # First seen ten days ago: returning.
    assert variant(_request(old), "new-test") == "control"
    assert variant(_request(old), "back-test") == "b"


def test_the_returning_memo_spares_the_database_on_later_pages(django_assert_num_queries):
    variants = [("control", 1), ("b", 1)]
    make_experiment("back-test", variants=variants, audience="returning")
    old = next(v for v in map(vid, range(500)) if pick("back-test", v, variants) == "b")
    long_ago = timezone.now() - timedelta(days=10)
    Visitor.objects.create(id=old, first_seen_at=long_ago, last_seen_at=long_ago)
    assert variant(_request(old), "back-test") == "b"  # reads the row once
    with django_assert_num_queries(0):
        assert variant(_request(old), "back-test") == "b"


def test_audience_segment_needs_a_signed_in_customer_of_that_segment(monkeypatch):
    variants = [("control", 1), ("b", 1)]
    make_experiment("seg-test", variants=variants, audience="segment", segment="Champions")
    visitor = next(v for v in map(vid, range(500)) if pick("seg-test", v, variants) == "b")
    users = get_user_model().objects
    champion = users.create_user(username="c", email="c@example.com")
    other = users.create_user(username="o", email="o@example.com")
    monkeypatch.setattr(
        "shop.reports.selectors.customer_segments",
        lambda *, user_ids=None, on=None: {champion.pk: "Champions", other.pk: "At risk"},
    )
    assert variant(_request(visitor), "seg-test") == "control"  # anonymous
    assert variant(_request(visitor, other), "seg-test") == "control"
    assert variant(_request(visitor, champion), "seg-test") == "b"


@pytest.mark.parametrize(
    "name",
    [
        "",
        "x" * 5000,
        "<script>alert(1)</script>",
        "takeback\x00promise",
        "\u202etakeback",
        "🙂",
        None,
        42,
        "TAKEBACK-PROMISE",
        "no-such-test",
    ],
)
def test_the_helper_answers_control_for_garbage_names_and_never_raises(name):
    make_experiment(NAME, variants=VARIANTS)
    (promise,) = vids_for(NAME, VARIANTS, "promise")
    request = _request(promise)
    assert variant(request, NAME) == "promise"
    assert variant(request, name) == "control"


def test_the_helper_answers_control_when_the_experiments_cannot_be_read(monkeypatch):
    (promise,) = vids_for(NAME, VARIANTS, "promise")

    def broken():
        raise RuntimeError("cache and database gone")

    monkeypatch.setattr("shop.experiments.selectors.experiment_definitions", broken)
    assert variant(_request(promise), NAME) == "control"
