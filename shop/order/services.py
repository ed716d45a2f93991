"""Order side effects. Placement itself stays Oscar's (shop.order.utils.OrderCreator)."""

import logging

from django.contrib.sites.models import Site
from django.db import transaction
from django.urls import reverse
from oscar.apps.communication.models import CommunicationEventType
from oscar.apps.order.utils import OrderDispatcher

from shop.order.models import CommunicationEvent, Order

logger = logging.getLogger(__name__)


def order_placed_followups(*, order: Order) -> None:
    """After a paid order commits: the confirmation email, and workshop jobs for its
    personalized lines (both idempotent Celery tasks)."""
    from shop.workshop.services import workshop_jobs_enqueue

    order_confirmation_enqueue(order=order)
    workshop_jobs_enqueue(order=order)


def order_confirmation_enqueue(*, order: Order) -> None:
    """Queue the confirmation email to go out after the surrounding transaction commits."""
    from shop.order.tasks import send_order_confirmation

    order_id = order.pk
    transaction.on_commit(lambda: send_order_confirmation.delay(order_id))


def order_status_path(*, order: Order) -> str:
    """Path of the order's status page: a signed link for guests, the account page otherwise."""
    if order.is_anonymous:
        path = reverse(
            "customer:anon-order",
            kwargs={"order_number": order.number, "hash": order.verification_hash()},
        )
    else:
        path = reverse("customer:order", kwargs={"order_number": order.number})
    return path


def order_confirmation_send(*, order_id: int) -> bool:
    """Send the order confirmation once. Returns False when it had already been sent.

    The order row is locked while we check and record the communication event, so two
    deliveries of the same task (a retry, a redelivery after a worker died) send one email.
    """
    code = OrderDispatcher.ORDER_PLACED_EVENT_CODE
    event_type, _ = CommunicationEventType.objects.get_or_create(
        code=code,
        defaults={"name": "Order placed", "category": CommunicationEventType.ORDER_RELATED},
    )
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if CommunicationEvent.objects.filter(order=order, event_type=event_type).exists():
            logger.info("Order %s: confirmation already sent", order.number)
            return False
        lines = list(order.lines.prefetch_related("personalizations"))
        context = {
            "order": order,
            "lines": lines,
            "made_to_order": any(
                p.kind != "gift_message" for line in lines for p in line.personalizations.all()
            ),
            "user": order.user,
            "status_url": True,
            "status_path": order_status_path(order=order),
            "site": Site.objects.get_current(),
        }
        OrderDispatcher(logger=logger).send_order_placed_email_for_user(order, context)
        if not CommunicationEvent.objects.filter(order=order, event_type=event_type).exists():
            # Oscar records the event only when a message went out (and the event type
            # exists); record it regardless so a redelivery never sends a second email.
            CommunicationEvent.objects.create(order=order, event_type=event_type)
    return True
