import oscar.apps.order.apps as apps


class OrderConfig(apps.OrderConfig):
    name = "shop.order"

    def ready(self):
        super().ready()
        from shop.order import analytics, services
        from shop.payments import signals

        analytics.connect()
        signals.payment_succeeded.connect(services.on_payment_succeeded, dispatch_uid="order-paid")
        signals.payment_failed.connect(services.on_payment_failed, dispatch_uid="order-unpaid")
        signals.payment_refunded.connect(
            services.on_payment_refunded, dispatch_uid="order-refunded"
        )
