"""First-party analytics: visitors who accepted analytics, and the funnel events the server
wrote for them (shop.growth.visitor says who may be counted).

Events reach these tables in batches (the request only appends to a Redis list; a periodic
task moves them here), so a row's `at` is when the page was served, not when it was stored.
"""

from django.conf import settings
from django.db import models


class Step(models.TextChoices):
    """The funnel, in order."""

    VISIT = "visit", "Visit"
    PRODUCT_VIEW = "product_view", "Product view"
    ADD_TO_BASKET = "add_to_basket", "Add to basket"
    CHECKOUT_STARTED = "checkout_started", "Checkout started"
    PAYMENT_PAGE = "payment_page", "Payment page"
    ORDER_PAID = "order_paid", "Order paid"


FUNNEL_STEPS: tuple[str, ...] = tuple(Step.values)


class Visitor(models.Model):
    """One browser that accepted analytics, with what it arrived with on its first visit
    (kept: a later visit from elsewhere does not change its source)."""

    class Device(models.TextChoices):
        DESKTOP = "desktop", "Desktop"
        MOBILE = "mobile", "Mobile"
        TABLET = "tablet", "Tablet"

    id = models.CharField(primary_key=True, max_length=22)  # the visitor cookie's token
    first_seen_at = models.DateTimeField(db_index=True)
    last_seen_at = models.DateTimeField()
    utm_source = models.CharField(max_length=64, blank=True)
    utm_medium = models.CharField(max_length=64, blank=True)
    utm_campaign = models.CharField(max_length=64, blank=True)
    referrer_host = models.CharField(max_length=128, blank=True)
    landing_path = models.CharField(max_length=200, blank=True)
    device = models.CharField(max_length=8, choices=Device.choices, default=Device.DESKTOP)
    # The customer account last seen with this browser (signed in).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    def __str__(self) -> str:
        return f"Visitor {self.id}"


class Event(models.Model):
    """A funnel step one visitor reached, written by the server."""

    id = models.BigAutoField(primary_key=True)
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="events")
    step = models.CharField(max_length=20, choices=Step.choices)
    at = models.DateTimeField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    path = models.CharField(max_length=200, blank=True)
    order_number = models.CharField(max_length=128, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=("at", "step")),
            models.Index(fields=("visitor", "step", "at")),
        ]

    def __str__(self) -> str:
        return f"{self.step} by {self.visitor_id} at {self.at:%Y-%m-%d %H:%M}"


class BotDay(models.Model):
    """Requests from bots (known crawler agents, or no user agent) on one day in the store's
    time zone: never events, only this number, so the report can say how many it left out."""

    day = models.DateField(primary_key=True)
    requests = models.PositiveBigIntegerField(default=0)

    class Meta:
        permissions = [("view_funnel", "Can view the growth funnel report")]

    def __str__(self) -> str:
        return f"{self.requests} bot requests on {self.day}"
