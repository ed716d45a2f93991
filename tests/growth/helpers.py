"""What the growth tests build again and again: browsers with or without the analytics
choice, and the background work done at once."""

from django.test import Client

from shop.growth import visitor
from shop.growth.buffer import events_flush
from shop.growth.services import events_drain

BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15"
)
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
VISITOR_ID = "AbCdEfGhIjKlMnOpQrStUv"


def browser(**cookies) -> Client:
    """A browser (a real user agent) with these cookies."""
    client = Client(HTTP_USER_AGENT=BROWSER)
    for name, value in cookies.items():
        client.cookies[name] = value
    return client


def accepted(visitor_id: str = VISITOR_ID, **cookies) -> Client:
    """A browser that accepted analytics and has its visitor id."""
    return browser(
        **{visitor.CONSENT_COOKIE: visitor.CONSENT_ACCEPTED, visitor.VISITOR_COOKIE: visitor_id},
        **cookies,
    )


def drain():
    """What the shop does in the background, now: this process's buffer to Redis, Redis to
    the tables."""
    events_flush()
    return events_drain()


def moment(day, hour: int = 12, minute: int = 0):
    """An aware moment on a local date of the store."""
    import datetime

    from django.utils import timezone

    naive = datetime.datetime.combine(day, datetime.time(hour, minute))
    return timezone.make_aware(naive, timezone.get_default_timezone())


def order_paid(number: str, *, at, status: str = "Paid", user=None):
    """An order as the funnel report reads it: its status and when it was paid."""
    from decimal import Decimal

    from oscar.core.loading import get_model

    return get_model("order", "Order").objects.create(
        number=number,
        user=user,
        guest_email="" if user else "guest@example.com",
        currency="GBP",
        total_incl_tax=Decimal("29.50"),
        total_excl_tax=Decimal("24.58"),
        status=status,
        date_placed=at,
        paid_at=at if status != "Pending payment" else None,
    )
