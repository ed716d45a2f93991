from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from oscar.apps.order.abstract_models import AbstractLine, AbstractOrder, AbstractOrderStatusChange


class Order(AbstractOrder):
    # The dispatch date promised to the shopper at checkout: the stock lead time plus the
    # longest personalization lead time among the lines, in working days.
    promised_dispatch_date = models.DateField(_("Promised dispatch date"), null=True, blank=True)
    paid_at = models.DateTimeField(_("Paid at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("Shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("Delivered at"), null=True, blank=True)
    tracking_number = models.CharField(_("Tracking number"), max_length=64, blank=True)

    class Meta(AbstractOrder.Meta):
        indexes = [
            models.Index(fields=("status", "promised_dispatch_date"), name="order_status_promised"),
        ]

    def set_status(self, new_status):
        """Every status change goes through the pipeline's rules and leaves an event row,
        whoever asks for it (Oscar's own code included)."""
        from shop.order.services import order_status_change

        order_status_change(order=self, to_status=new_status)
        self.refresh_from_db()

    set_status.alters_data = True

    def available_statuses(self):
        """Statuses staff may pick in a plain status form for this order now (shipping, which
        needs a tracking number, and refunds, which move money, have their own forms)."""
        from shop.order.pipeline import manual_statuses

        return manual_statuses(order=self)


class OrderStatusChange(AbstractOrderStatusChange):
    class Source(models.TextChoices):
        STAFF = "staff", "Staff"
        CUSTOMER = "customer", "Customer"
        PAYMENT = "payment", "Payment"
        SYSTEM = "system", "System"

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.SYSTEM)
    # Shown to staff only; customers see the status change itself.
    note = models.TextField(blank=True)

    class Meta(AbstractOrderStatusChange.Meta):
        pass


class Line(AbstractLine):
    # Snapshot of the stock record's cost price when the order was placed, so that later
    # cost changes never rewrite history. Null when the stock record had no cost recorded.
    unit_cost_price = models.DecimalField(
        _("Unit cost price"), max_digits=12, decimal_places=2, null=True, blank=True
    )

    class Meta(AbstractLine.Meta):
        pass


from oscar.apps.order.models import *  # noqa: E402,F403
