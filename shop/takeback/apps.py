from django.apps import AppConfig


class TakeBackConfig(AppConfig):
    name = "shop.takeback"
    label = "takeback"
    verbose_name = "Take-back scheme"

    def ready(self) -> None:
        from oscar.apps.order.signals import order_status_changed

        from shop.takeback import (
            checks,  # noqa: F401  (registers the system check)
            receivers,
        )

        order_status_changed.connect(
            receivers.order_status_changed, dispatch_uid="takeback-order-status"
        )
        receivers.refund_deduction_connect()
