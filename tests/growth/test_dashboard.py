"""The funnel report in the dashboard: who may see it (page and CSV), its figures as shown,
hostile values escaped on the page and defused in the CSV, forged filters ignored, and the
Growth menu's entry."""

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from oscar.test.factories import UserFactory

from shop.growth.models import BotDay, Event, Visitor
from tests.growth.helpers import VISITOR_ID, moment, order_paid

pytestmark = pytest.mark.django_db
URL = "/dashboard/growth/funnel/"
HOSTILE = '<script>alert("x")</script>'


def _staff(*, perm: bool):
    user = UserFactory(is_staff=True)
    if perm:
        user.user_permissions.add(Permission.objects.get(codename="view_funnel"))
    return user


@pytest.fixture
def today_visitor():
    today = timezone.localdate()
    v = Visitor.objects.create(
        id=VISITOR_ID,
        first_seen_at=moment(today, 9),
        last_seen_at=moment(today, 9),
        utm_source=HOSTILE,
        landing_path="/",
    )
    other = Visitor.objects.create(
        id="=HYPERLINK(1)xxxxxxxxx"[:22].ljust(22, "x"),
        first_seen_at=moment(today, 9),
        last_seen_at=moment(today, 9),
        utm_source='=HYPERLINK("http://evil.example")',
        landing_path="/",
    )
    for visitor, steps in ((v, ["visit", "product_view", "add_to_basket"]), (other, ["visit"])):
        Event.objects.bulk_create(
            Event(visitor=visitor, step=s, at=moment(today, 9)) for s in steps
        )
    order_paid("P1", at=moment(today, 10))
    BotDay.objects.create(day=today, requests=12)
    return v


def test_anonymous_visitors_go_to_the_dashboard_login(client):
    for url in (URL, f"{URL}?export=csv"):
        response = client.get(url)
        assert response.status_code == 302 and "/dashboard/login/" in response["Location"]


def test_staff_without_the_permission_get_403(client):
    client.force_login(_staff(perm=False))
    assert client.get(URL).status_code == 403
    assert client.get(URL, {"export": "csv"}).status_code == 403


def test_the_report_shows_the_steps_orders_and_bots_with_hostile_sources_escaped(
    client, today_visitor
):
    client.force_login(_staff(perm=True))
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-figure="visits">2<' in html
    assert 'data-figure="add_to_basket">1<' in html
    assert 'data-figure="paid-orders">1<' in html
    assert "12 requests from bots left out" in html
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html  # shown, as text
    assert "50.0 %" in html  # product views from visits
    assert "Export CSV" in html


def test_the_csv(client, today_visitor):
    client.force_login(_staff(perm=True))
    response = client.get(URL, {"export": "csv", "by": "source"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["day", "Visit", "Product view"]
    assert rows[0][-2:] == ["paid orders (all, from orders)", "bot requests left out"]
    today, total = rows[30], rows[31]  # last 30 days, then the totals
    assert today[0] == timezone.localdate().isoformat()
    assert today[1:] == ["2", "1", "1", "0", "0", "0", "1", "12"]
    assert total == ["total (distinct visitors)", "2", "1", "1", "0", "0", "0", "1", "12"]
    assert rows[32] == [] and rows[33][0] == "by source"
    assert sorted(rows[34:]) == sorted(
        [
            ['\'=HYPERLINK("http://evil.example")', "1", "0", "0", "0", "0", "0"],
            [HOSTILE, "1", "1", "1", "0", "0", "0"],
        ]
    )


def test_a_source_that_would_be_a_formula_filters_the_report(client, today_visitor):
    client.force_login(_staff(perm=True))
    formula = '=HYPERLINK("http://evil.example")'
    response = client.get(URL, {"source": formula})
    assert 'data-figure="visits">1<' in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        {"source": "x" * 5000},
        {"device": "<script>"},
        {"segment": "\u202e" * 10},
        {"by": "id; DROP TABLE growth_event"},
        {"preset": "custom", "start": "9999-12-31", "end": "0001-01-01"},
        {"start": "not a date"},
        {"visitor_kind": "👜"},
    ],
)
def test_forged_filters_are_left_out_not_a_500(client, today_visitor, query):
    client.force_login(_staff(perm=True))
    response = client.get(URL, query)
    assert response.status_code == 200
    assert Event.objects.count() == 4


def test_a_nul_in_a_filter_is_the_shops_400_page(client, today_visitor):
    client.force_login(_staff(perm=True))
    assert client.get(URL, {"source": "a\x00b"}).status_code == 400  # shop.common.request_guard


def test_the_growth_menu_has_the_funnel(client):
    client.force_login(_staff(perm=True))
    html = client.get("/dashboard/").content.decode()
    assert 'href="/dashboard/growth/funnel/"' in html
    assert ">Funnel<" in html or "Funnel\n" in html


def test_a_filtered_report_by_device_and_day(client, today_visitor):
    client.force_login(_staff(perm=True))
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = client.get(
        URL, {"preset": "custom", "start": yesterday.isoformat(), "end": yesterday.isoformat()}
    )
    assert 'data-figure="visits">0<' in response.content.decode()
    response = client.get(URL, {"device": "mobile", "by": "device"})
    assert 'data-figure="visits">0<' in response.content.decode()
