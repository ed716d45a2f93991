"""Funnel events written by the server, through the shop's real pages: each step recorded only
for a visitor who accepted analytics, pages from the page cache counted too, nothing for those
who declined or have not chosen, bots only counted per day."""

import pytest
from django.contrib.auth import get_user_model
from oscar.core.loading import get_model

from shop.growth import visitor
from shop.growth.buffer import BUFFER
from shop.growth.models import BotDay, Event, Visitor
from tests.factories import KEY_FOB, checkout_to_shipping_method, pay, to_payment_page
from tests.growth.helpers import PHONE, VISITOR_ID, accepted, browser, drain

pytestmark = pytest.mark.django_db


def _product():
    return get_model("catalogue", "Product").objects.get(upc=KEY_FOB)


def _steps(visitor_id=VISITOR_ID) -> list[str]:
    events = Event.objects.filter(visitor_id=visitor_id).order_by("at", "id")
    return list(events.values_list("step", flat=True))


def test_a_product_page_is_a_visit_and_a_product_view_with_the_landing_kept(demo_catalogue):
    client = accepted()
    path = _product().get_absolute_url()
    response = client.get(
        f"{path}?utm_source=newsletter&utm_medium=email&utm_campaign=spring",
        HTTP_REFERER="https://mail.example.org/inbox?id=1",
    )
    assert response.status_code == 200
    assert response.cookies[visitor.VISIT_COOKIE]["max-age"] == visitor.VISIT_GAP_SECONDS
    drain()
    assert _steps() == ["visit", "product_view"]
    row = Visitor.objects.get(pk=VISITOR_ID)
    assert (row.utm_source, row.utm_medium, row.utm_campaign) == ("newsletter", "email", "spring")
    assert row.referrer_host == "mail.example.org"
    assert row.landing_path == path
    assert row.device == "desktop"
    assert Event.objects.get(step="product_view").path == path


def test_a_page_served_from_the_cache_is_counted(demo_catalogue):
    path = _product().get_absolute_url()
    assert browser().get(path)["X-Page-Cache"] == "miss"  # stored by a visitor not counted
    client = accepted()
    client.cookies[visitor.VISIT_COOKIE] = "1"  # a visit already under way
    hit = client.get(path)
    assert hit["X-Page-Cache"] == "hit"
    drain()
    assert _steps() == ["product_view"]


def test_a_new_visit_only_after_half_an_hour_without_a_page(demo_catalogue):
    client = accepted()
    client.get("/")
    client.get("/catalogue/")  # the visit cookie came back: same visit
    assert _steps() == []  # nothing stored before the drain
    drain()
    assert _steps() == ["visit"]
    del client.cookies[visitor.VISIT_COOKIE]  # what the browser does 30 minutes later
    client.get("/")
    drain()
    assert _steps() == ["visit", "visit"]


def test_the_visit_cookie_is_renewed_once_a_minute_not_on_every_page(demo_catalogue, monkeypatch):
    real_time = visitor.time.time
    clock = [real_time() // 60 * 60 - 120]  # the start of a minute, two minutes ago
    monkeypatch.setattr(visitor.time, "time", lambda: clock[0])
    client = accepted()
    first = client.get("/")
    assert first.cookies[visitor.VISIT_COOKIE].value == str(int(clock[0]) // 60)
    clock[0] += 20
    assert visitor.VISIT_COOKIE not in client.get("/catalogue/").cookies  # the same minute
    clock[0] += 45
    renewed = client.get("/catalogue/")  # the next minute: the gap counts from here
    assert renewed.cookies[visitor.VISIT_COOKIE].value == str(int(clock[0]) // 60)
    assert renewed.cookies[visitor.VISIT_COOKIE]["max-age"] == visitor.VISIT_GAP_SECONDS
    drain()
    assert _steps() == ["visit"]


@pytest.mark.parametrize("choice", [None, visitor.CONSENT_DECLINED, "forged"])
def test_nothing_is_recorded_without_consent(demo_catalogue, choice):
    cookies = {visitor.VISITOR_COOKIE: VISITOR_ID}
    if choice:
        cookies[visitor.CONSENT_COOKIE] = choice
    client = browser(**cookies)
    response = client.get(_product().get_absolute_url())
    client.post(f"/basket/add/{_product().pk}/", {"quantity": 1})
    assert visitor.VISIT_COOKIE not in response.cookies
    assert BUFFER.pending() == 0
    drain()
    assert not Event.objects.exists() and not Visitor.objects.exists()


def test_bots_are_counted_per_day_only(demo_catalogue):
    path = _product().get_absolute_url()
    crawler = accepted()
    crawler.defaults["HTTP_USER_AGENT"] = "Mozilla/5.0 (compatible; Googlebot/2.1)"
    crawler.get(path)
    crawler.get("/")
    no_agent = accepted()
    del no_agent.defaults["HTTP_USER_AGENT"]
    no_agent.get(path)
    result = drain()
    assert not Event.objects.exists() and not Visitor.objects.exists()
    assert result.bot_requests == 3
    assert BotDay.objects.get().requests == 3


def test_staff_looking_at_the_shop_are_not_counted(demo_catalogue):
    staff = get_user_model().objects.create_user("staff", "staff@example.com", "x", is_staff=True)
    client = accepted()
    client.force_login(staff)
    client.get(_product().get_absolute_url())
    drain()
    assert not Event.objects.exists()


def test_the_whole_funnel_of_a_guest_who_pays(demo_catalogue, localstripe):
    client = accepted()
    client.get(_product().get_absolute_url(), HTTP_USER_AGENT=PHONE)
    client.get("/checkout/")
    checkout_to_shipping_method(client, KEY_FOB)  # adds to basket, starts the checkout
    pi_id = to_payment_page(client).context["payment_intent_id"]  # (again: the same steps)
    pay(pi_id)
    response = client.post("/checkout/payment-confirm/", {"payment_intent_id": pi_id})
    assert response["Location"] == "/checkout/thank-you/"
    client.get("/checkout/thank-you/")
    drain()
    steps = _steps()
    assert steps[:2] == ["visit", "product_view"]
    assert set(steps) == {
        "visit",
        "product_view",
        "add_to_basket",
        "checkout_started",
        "payment_page",
        "order_paid",
    }
    order = get_model("order", "Order").objects.get()
    assert Event.objects.get(step="order_paid").order_number == order.number
    assert Visitor.objects.get().device == "mobile"


def test_a_signed_in_customers_events_carry_their_account(demo_catalogue):
    customer = get_user_model().objects.create_user("c", "c@example.com", "x")
    client = accepted()
    client.force_login(customer)
    client.get(_product().get_absolute_url())
    drain()
    assert set(Event.objects.values_list("user_id", flat=True)) == {customer.pk}
    assert Visitor.objects.get().user_id == customer.pk


def test_registering_links_the_visitor_to_the_new_customer(demo_catalogue):
    client = accepted()
    client.get("/")
    password = "a fresh long pass phrase 9"
    response = client.post(
        "/accounts/register/",
        {"email": "new@example.com", "password1": password, "password2": password},
    )
    assert response.status_code == 302
    drain()
    user = get_user_model().objects.get(email="new@example.com")
    assert Visitor.objects.get(pk=VISITOR_ID).user_id == user.pk


def test_a_lost_visitor_id_is_made_again_for_a_visitor_who_accepted(demo_catalogue):
    client = browser(**{visitor.CONSENT_COOKIE: visitor.CONSENT_ACCEPTED})
    response = client.get("/")
    new_id = response.cookies[visitor.VISITOR_COOKIE].value
    drain()
    assert Visitor.objects.get().pk == new_id


def test_redis_down_drops_events_with_a_log_line_and_the_page_is_served(
    demo_catalogue, settings, caplog
):
    settings.GROWTH_EVENTS_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    response = accepted().get(_product().get_absolute_url())
    assert response.status_code == 200
    assert drain().events == 0
    assert BUFFER.dropped == 2
    assert "funnel events dropped" in caplog.text


def test_events_off_records_nothing(demo_catalogue, settings):
    settings.GROWTH_EVENTS = False
    accepted().get(_product().get_absolute_url())
    assert BUFFER.pending() == 0
