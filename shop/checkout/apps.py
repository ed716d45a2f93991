import oscar.apps.checkout.apps as apps
from django.urls import path
from oscar.core.loading import get_class


class CheckoutConfig(apps.CheckoutConfig):
    name = "shop.checkout"

    def ready(self):
        super().ready()
        from shop.checkout import services
        from shop.payments import signals

        signals.payment_succeeded.connect(
            services.payment_succeeded_place, dispatch_uid="checkout-place-paid-attempt"
        )
        self.payment_confirm_view = get_class("checkout.views", "PaymentConfirmView")
        self.payment_check_view = get_class("checkout.views", "PaymentCheckView")
        self.store_credit_view = get_class("checkout.views", "StoreCreditView")
        self.store_credit_place_view = get_class("checkout.views", "StoreCreditPlaceView")

    def get_urls(self):
        urls = super().get_urls()
        urls.append(
            path("payment-confirm/", self.payment_confirm_view.as_view(), name="payment-confirm")
        )
        urls += [
            path("payment-check/", self.payment_check_view.as_view(), name="payment-check"),
            path("store-credit/", self.store_credit_view.as_view(), name="store-credit"),
            path(
                "store-credit/place/",
                self.store_credit_place_view.as_view(),
                name="store-credit-place",
            ),
        ]
        return self.post_process_urls(urls)
