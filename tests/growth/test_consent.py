"""The analytics choice: a banner on every shop page until the visitor chooses (cached pages
included), plain POST forms back to a safe page, the Cookie settings page to change it, and
the landing's source kept through the choice."""

import re
from html import unescape
from urllib.parse import urlencode

import pytest
from django.test import Client
from oscar.core.loading import get_model

from shop.growth import visitor
from shop.growth.models import Event, Visitor
from tests.factories import KEY_FOB
from tests.growth.helpers import VISITOR_ID, accepted, browser, drain

pytestmark = pytest.mark.django_db
BANNER = 'class="mv-consent"'


def _product_path() -> str:
    return get_model("catalogue", "Product").objects.get(upc=KEY_FOB).get_absolute_url()


def _field(html: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', html)
    assert match, name
    return unescape(match.group(1))


def test_a_new_visitor_sees_the_banner_and_one_who_chose_does_not(demo_catalogue):
    html = browser().get("/").content.decode()
    assert BANNER in html
    assert "Accept analytics" in html and ">Decline</button>" in html
    assert 'href="/cookies/"' in html  # the footer's Cookie settings
    for choice in (visitor.CONSENT_ACCEPTED, visitor.CONSENT_DECLINED):
        page = browser(**{visitor.CONSENT_COOKIE: choice}).get("/basket/").content.decode()
        assert BANNER not in page and "mv:consent" not in page


def test_a_cached_page_shows_the_banner_to_a_new_visitor_and_not_to_one_who_chose(
    demo_catalogue,
):
    path = _product_path()
    chooser = browser(**{visitor.CONSENT_COOKIE: visitor.CONSENT_DECLINED})
    first = chooser.get(path)  # rendered and stored by a visitor who chose
    assert first["X-Page-Cache"] == "miss" and BANNER not in first.content.decode()
    newcomer = browser().get(path, HTTP_REFERER="https://www.instagram.com/p/xyz/")
    assert newcomer["X-Page-Cache"] == "hit"
    html = newcomer.content.decode()
    assert BANNER in html
    assert _field(html, "ref") == "www.instagram.com"  # this request's referrer, not stored
    assert _field(html, "next") == path
    again = chooser.get(path)
    assert again["X-Page-Cache"] == "hit" and BANNER not in again.content.decode()
    # A browser that kept the page with the banner is not told it is still good once it chose.
    assert again["ETag"] != newcomer["ETag"]
    revalidated = browser(**{visitor.CONSENT_COOKIE: visitor.CONSENT_ACCEPTED}).get(
        path, HTTP_IF_NONE_MATCH=newcomer["ETag"]
    )
    assert revalidated.status_code == 200 and BANNER not in revalidated.content.decode()


def test_each_page_banner_carries_its_own_address_and_a_working_csrf_token(demo_catalogue):
    """The banner is drawn once per process with marks for the address and the CSRF token:
    each page gets its own, escaped, and the form posts with the token it carries."""
    client = Client(enforce_csrf_checks=True, HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux)")
    paths = ["/", "/catalogue/?line=Evergreen&sort_by=name", '/search/?q="wallet"<b>']
    pages = {path: client.get(path).content.decode() for path in paths}
    assert _field(pages[paths[1]], "next") == paths[1]
    assert _field(pages[paths[2]], "next") == "/search/?q=%22wallet%22%3Cb%3E"
    assert "<b>" not in pages[paths[2]].split('class="mv-consent"')[1].split("</section>")[0]
    html = pages[paths[1]]
    assert 'value="/catalogue/?line=Evergreen&amp;sort_by=name"' in html  # escaped
    assert "__MV_BANNER" not in html
    token = _field(html, "csrfmiddlewaretoken")
    refused = client.post("/cookies/choice/", {"choice": "declined", "next": paths[1]})
    assert refused.status_code == 403
    response = client.post(
        "/cookies/choice/",
        {"choice": "declined", "next": _field(html, "next"), "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302 and response["Location"] == paths[1]


def test_the_dashboard_has_no_banner(admin_client):
    assert BANNER not in admin_client.get("/dashboard/").content.decode()


def test_accepting_on_the_landing_page_keeps_where_the_visit_came_from(demo_catalogue):
    client = browser()
    landing = f"{_product_path()}?utm_source=spring-mail&utm_medium=email&utm_campaign=wallets"
    page = client.get(landing, HTTP_REFERER="https://news.example.com/letter/42").content.decode()
    response = client.post(
        "/cookies/choice/",
        {"choice": "analytics", "next": _field(page, "next"), "ref": _field(page, "ref")},
    )
    assert response.status_code == 302 and response["Location"] == landing
    consent = response.cookies[visitor.CONSENT_COOKIE]
    assert consent.value == "analytics" and consent["max-age"] == visitor.COOKIE_MAX_AGE
    assert consent["httponly"] and consent["samesite"] == "Lax"
    visitor_id = response.cookies[visitor.VISITOR_COOKIE].value
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", visitor_id)
    client.get(landing)  # back on the page: now a product view, the same visit
    drain()
    row = Visitor.objects.get(pk=visitor_id)
    assert (row.utm_source, row.utm_medium, row.utm_campaign) == ("spring-mail", "email", "wallets")
    assert row.referrer_host == "news.example.com"
    assert row.landing_path == _product_path()
    steps = Event.objects.filter(visitor=row).order_by("at", "id").values_list("step", flat=True)
    assert list(steps) == ["visit", "product_view"]


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "javascript:alert(1)",
        "/basket/\x00",
        "/basket/\r\nSet-Cookie: x=1",
        "",
    ],
)
def test_consent_goes_back_only_to_a_page_of_the_shop(next_url):
    response = browser().post("/cookies/choice/", {"choice": "declined", "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_forged_referrer_is_not_kept():
    client = browser()
    client.post(
        "/cookies/choice/",
        {"choice": "analytics", "next": "/", "ref": "<script>alert(1)</script>.example"},
    )
    drain()
    assert Visitor.objects.get().referrer_host == ""


HOSTILE = "<script>alert(1)</script>\u202e\x00\x07" + "é" * 5000 + "👜"
CLEANED = ("<script>alert(1)</script>" + "é" * 5000)[:64]


def test_hostile_utm_values_in_the_consent_forms_next_are_clipped_and_cleaned():
    client = browser()
    # (A `next` is read up to 2,000 characters: what follows this value is cut off.)
    query = urlencode({"utm_campaign": "x", "utm_medium": "\u200f\u200f", "utm_source": HOSTILE})
    client.post("/cookies/choice/", {"choice": "analytics", "next": f"/?{query}"})
    drain()
    row = Visitor.objects.get()
    assert row.utm_source == CLEANED and len(row.utm_source) == 64
    assert (row.utm_medium, row.utm_campaign) == ("", "x")


def test_hostile_utm_values_on_a_landing_page_are_clipped_and_cleaned(demo_catalogue):
    query = urlencode({"utm_source": "x", "utm_campaign": HOSTILE.replace("\x00", "")})
    response = accepted().get(f"{_product_path()}?{query}")
    assert response.status_code == 200
    drain()
    assert Visitor.objects.get().utm_campaign == CLEANED


def test_declining_removes_the_visitor_id_and_deletes_what_was_recorded(demo_catalogue):
    client = accepted()
    client.get(_product_path())
    drain()
    assert Visitor.objects.filter(pk=VISITOR_ID).exists()
    response = client.post("/cookies/choice/", {"choice": "declined", "next": "/cookies/"})
    assert response["Location"] == "/cookies/"
    assert response.cookies[visitor.CONSENT_COOKIE].value == "declined"
    assert response.cookies[visitor.VISITOR_COOKIE].value == ""  # deleted
    assert response.cookies[visitor.VISIT_COOKIE].value == ""
    result = drain()
    assert result.forgotten == 1
    assert not Visitor.objects.exists() and not Event.objects.exists()
    page = client.get("/cookies/").content.decode()
    assert "You have declined analytics for this browser." in page
    assert "What was recorded for this browser is deleted." in page


@pytest.mark.parametrize("choice", ["", "yes", "analytics\x00", "x" * 5000])
def test_a_forged_choice_sets_nothing(choice):
    client = browser()
    response = client.post("/cookies/choice/", {"choice": choice, "next": "/"}, follow=True)
    assert response.status_code == 200
    assert "Please choose Accept analytics or Decline." in response.content.decode()
    assert visitor.CONSENT_COOKIE not in client.cookies


def test_the_choice_needs_the_forms_csrf_token():
    client = Client(enforce_csrf_checks=True, HTTP_USER_AGENT="Mozilla/5.0")
    response = client.post("/cookies/choice/", {"choice": "analytics", "next": "/"})
    assert response.status_code == 403
    assert visitor.CONSENT_COOKIE not in response.cookies


def test_the_cookie_settings_page_says_what_is_collected_and_changes_the_choice():
    client = browser()
    page = client.get("/cookies/").content.decode()
    assert "<h1" in page and "Cookie settings" in page
    assert "You have not chosen yet" in page
    assert "mv_consent" in page and "mv_vid" in page and "utm_source" in page
    assert BANNER not in page  # the choice is on the page itself
    response = client.post("/cookies/choice/", {"choice": "analytics", "next": "/cookies/"})
    page = client.get(response["Location"]).content.decode()
    assert "You have accepted analytics for this browser." in page
    assert "Thank you. Analytics are on for this browser." in page


def test_a_bot_that_accepts_is_not_counted():
    client = Client(HTTP_USER_AGENT="python-requests/2.32")
    response = client.post("/cookies/choice/", {"choice": "analytics", "next": "/"})
    assert visitor.VISITOR_COOKIE not in response.cookies
    drain()
    assert not Visitor.objects.exists()
