"""Mounted under /dashboard/payments/ by config/urls.py."""

from django.urls import path

from shop.payments import dashboard

app_name = "payments-dashboard"

urlpatterns = [
    path("orders/<str:order_number>/refund/", dashboard.order_refund_view, name="order-refund"),
]
