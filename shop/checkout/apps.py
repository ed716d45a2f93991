import oscar.apps.checkout.apps as apps
from django.urls import path
from oscar.core.loading import get_class


class CheckoutConfig(apps.CheckoutConfig):
    name = "shop.checkout"

    def ready(self):
        super().ready()
        self.payment_confirm_view = get_class("checkout.views", "PaymentConfirmView")

    def get_urls(self):
        urls = super().get_urls()
        urls.append(
            path("payment-confirm/", self.payment_confirm_view.as_view(), name="payment-confirm")
        )
        return self.post_process_urls(urls)
