from django.urls import path

from shop.payments.localstripe_views import localstripe_confirm
from shop.payments.webhooks import stripe_webhook

app_name = "payments"

urlpatterns = [
    path("stripe/webhook/", stripe_webhook, name="stripe-webhook"),
    path("localstripe/confirm/", localstripe_confirm, name="localstripe-confirm"),
]
