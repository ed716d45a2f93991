"""Customers who consented, baskets left alone, orders delivered long ago, and the sends a
sweep queued, for the lifecycle tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import Permission
from django.utils import timezone
from oscar.test.factories import UserFactory

from shop.basket.models import Basket, Line
from shop.lifecycle.models import Campaign, ConsentSource, Send
from shop.lifecycle.services import consent_set, lifecycle_send_deliver
from shop.order import pipeline
from shop.order.models import Order
from shop.partner.strategy import UKStrategy
from tests.takeback.helpers import delivered_order, product

__all__ = ["delivered_order", "product"]


def customer(email: str = "jo@example.com", *, consent: bool = True, **kwargs):
    user = UserFactory(email=email, first_name="Jo", last_name="Walker", **kwargs)
    if consent:
        consent_set(user=user, opted_in=True, source=ConsentSource.ACCOUNT)
    return user


def left_basket(user, *, hours_ago: float = 30, upc: str = "MV-EG-BIF") -> Basket:
    """An open basket of the customer with one line, last touched `hours_ago`."""
    basket = Basket.objects.create(owner=user)
    basket.strategy = UKStrategy()
    basket.add_product(product(upc), quantity=1)
    touch(basket, hours_ago=hours_ago)
    return basket


def touch(basket: Basket, *, hours_ago: float) -> None:
    Line.objects.filter(basket=basket).update(
        date_updated=timezone.now() - timedelta(hours=hours_ago)
    )


def order_delivered(user, *, days_ago: float, status: str = pipeline.DELIVERED, **kwargs):
    """A paid order of the customer, delivered (and paid) `days_ago`."""
    order = delivered_order(user=user, status=status, **kwargs)
    at = timezone.now() - timedelta(days=days_ago)
    Order.objects.filter(pk=order.pk).update(
        paid_at=at - timedelta(days=3), shipped_at=at - timedelta(days=1), delivered_at=at
    )
    order.refresh_from_db()
    return order


def campaign(kind: str, **changes) -> Campaign:
    from shop.lifecycle.services import campaigns_ensure

    campaigns_ensure()
    row = Campaign.objects.get(kind=kind)
    for name, value in changes.items():
        setattr(row, name, value)
    row.save()
    return row


def sends(kind: str) -> list[Send]:
    return list(Send.objects.filter(campaign__kind=kind).order_by("pk"))


def deliver_all(kind: str | None = None, now: datetime | None = None) -> list[str]:
    """Run the send task's service for every queued send (what the worker does)."""
    queued = Send.objects.filter(status=Send.Status.QUEUED).order_by("pk")
    if kind:
        queued = queued.filter(campaign__kind=kind)
    return [
        lifecycle_send_deliver(send_id=pk, now=now) for pk in queued.values_list("pk", flat=True)
    ]


def staff_member(
    *, view: bool = True, manage: bool = True, email: str = "mo@marlowandvale.example"
):
    user = UserFactory(email=email, is_staff=True)
    codenames = [
        c for c, wanted in (("view_campaign", view), ("manage_campaigns", manage)) if wanted
    ]
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="lifecycle", codename__in=codenames)
    )
    return user
