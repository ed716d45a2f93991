"""Amounts of credit and take-backs show as money, two decimals and all: an amount that
reaches a template as Decimal("29.5") (arithmetic, a form's cleaned value) reads £29.50,
never £29.5. The templates format with Oscar's `currency` filter, not "£{{ amount }}"."""

from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def request_for(django_user_model):
    user = django_user_model.objects.create_user("mo", "mo@example.com", "a long pass phrase")
    request = RequestFactory().get("/accounts/credit/")
    request.user = user
    return request


def test_credit_history_shows_two_decimals(request_for):
    entries = [
        SimpleNamespace(
            created_at=datetime(2026, 12, 1, tzinfo=UTC),
            get_kind_display="Spent",
            takeback=None,
            order_number="100001",
            amount=D("-29.5"),
            magnitude=D("29.5"),
        ),
        SimpleNamespace(
            created_at=datetime(2026, 11, 30, tzinfo=UTC),
            get_kind_display="Issued",
            takeback=None,
            order_number="",
            amount=D("30"),
            magnitude=D("30"),
        ),
    ]
    html = render_to_string(
        "shop/credit/history.html",
        {"balance": D("0.5"), "entries": entries, "active_tab": "credit"},
        request=request_for,
    )
    assert "&minus;£29.50</td>" in html
    assert "+£30.00</td>" in html
    assert "data-credit-balance>£0.50<" in html
    assert "£29.5<" not in html and "£0.5<" not in html


def test_payment_page_credit_box_shows_two_decimals(request_for):
    from django.template import Context, Template

    # Only the credit box of the payment step (the full page needs a whole checkout).
    source = Template(
        "{% load currency_filters %}"
        + open(_template("oscar/checkout/payment_details.html"))
        .read()
        .split("{% block payment_details_content %}", 1)[1]
        .split("{% elif payment_unavailable %}", 1)[0]
        + "{% endif %}"
    )
    html = source.render(
        Context(
            {
                "credit_available": D("40.5"),
                "credit_applied": D("29.5"),
                "amount_due": D("0"),
                "credit_covers_total": True,
                "csrf_token": "x",
            }
        )
    )
    assert "&minus;£29.50</strong> (of £40.50)" in html
    assert "Pay £29.50 with store credit and place order" in html


def _template(name: str) -> str:
    from django.template.loader import get_template

    return get_template(name).origin.name
