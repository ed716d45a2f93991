"""The frame tag (shop.storefront.templatetags.storefront_tags): a page's chrome rendered once
per page template and what it varies with, each request's own values put in; and the header
drawn that way for each visitor (their search words, their CSRF token, their basket)."""

import re

import pytest
from django.template import Context, Template
from django.test import Client, override_settings
from django.urls import reverse
from oscar.test.factories import UserFactory

from shop.storefront.templatetags import storefront_tags

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_frames():
    storefront_tags.clear_frames()
    yield
    storefront_tags.clear_frames()


class Ticks:
    """Counts how often the content is drawn."""

    def __init__(self):
        self.count = 0

    @property
    def tick(self) -> int:
        self.count += 1
        return self.count


class Unasked:
    """A fill value that must not be worked out."""

    def __str__(self) -> str:
        raise AssertionError("a fill whose mark is not in the frame was resolved")


FRAMED = Template(
    "{% load storefront_tags %}"
    '{% frame "t" colour fill words=words token=token %}'
    '<p data-tick="{{ ticks.tick }}">{{ colour }}: <input value="{{ words }}"></p>'
    "{% endframe %}"
)


def _render(template=FRAMED, **context) -> str:
    return template.render(Context({"ticks": Ticks(), "token": Unasked(), **context}))


def test_the_content_is_drawn_once_per_key_with_each_renders_own_fills():
    ticks = Ticks()
    first = _render(ticks=ticks, colour="tan", words="wallet")
    second = _render(ticks=ticks, colour="tan", words='<b>"belt"</b> & co')
    assert ticks.count == 1
    assert first == '<p data-tick="1">tan: <input value="wallet"></p>'
    # Escaped as {{ }} escapes it: the mark's place is never a way into the page.
    escaped = "&lt;b&gt;&quot;belt&quot;&lt;/b&gt; &amp; co"
    assert second == f'<p data-tick="1">tan: <input value="{escaped}"></p>'
    third = _render(ticks=ticks, colour="black", words="")
    assert ticks.count == 2 and third == '<p data-tick="2">black: <input value=""></p>'


def test_each_page_template_has_its_own_frame():
    other = Template(FRAMED.source)
    ticks = Ticks()
    _render(ticks=ticks, colour="tan", words="a")
    _render(other, ticks=ticks, colour="tan", words="a")
    assert ticks.count == 2


def test_changed_settings_empty_the_frames():
    ticks = Ticks()
    _render(ticks=ticks, colour="tan", words="a")
    with override_settings(OSCAR_SHOP_NAME="Other"):
        _render(ticks=ticks, colour="tan", words="a")
    assert ticks.count == 2


def test_a_full_store_starts_again(monkeypatch):
    monkeypatch.setattr(storefront_tags, "FRAMES_MAX", 3)
    for colour in ("a", "b", "c", "d"):
        _render(colour=colour, words="")
    assert len(storefront_tags._frames) == 1


def _tools(html: str) -> str:
    return re.search(r'<div class="mv-tools">(.*?)</header>', html, re.S).group(1)


def test_the_header_carries_each_visitors_search_words_and_token(demo_catalogue):
    shopper = Client()
    page = shopper.get("/search/", {"q": '"><script>alert(1)</script>'}).content.decode()
    assert page.count('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"') >= 2
    assert 'value=""' in shopper.get("/catalogue/").content.decode()
    anonymous = shopper.get("/catalogue/?line=Evergreen").content.decode()
    assert "csrfmiddlewaretoken" not in _tools(anonymous)

    logout = reverse("customer:logout")
    tokens = []
    for _ in range(2):
        customer = Client(enforce_csrf_checks=True)
        customer.force_login(UserFactory())
        response = customer.get("/catalogue/?sort_by=newest")
        header = _tools(response.content.decode())
        found = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', header))
        assert len(found) == 1 and "Sign out" in header and "Dashboard" not in header
        token = found.pop()
        tokens.append(token)
    # The visitor's own token: signing out with another's is refused, with theirs it works.
    assert customer.post(logout, {"csrfmiddlewaretoken": tokens[0]}).status_code == 403
    assert customer.post(logout, {"csrfmiddlewaretoken": tokens[1]}).status_code == 302
    assert tokens[0] != tokens[1]

    staff = Client()
    staff.force_login(UserFactory(is_staff=True))
    assert "Dashboard" in _tools(staff.get("/catalogue/?sort_by=newest").content.decode())


def test_the_footers_year_is_nows():
    """The footer's frame key ({% current_year %}) is the year {% now "Y" %} shows, in the
    shop's time zone or any other (a year apart on either side of the date line)."""
    from django.utils import timezone

    for zone in ("Europe/London", "Pacific/Kiritimati", "Pacific/Pago_Pago"):
        with timezone.override(zone):
            now_y = Template('{% now "Y" %}').render(Context())
            assert str(storefront_tags.current_year()) == now_y
