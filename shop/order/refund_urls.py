"""Staff refunds of card-paid orders, mounted under /dashboard/payments/ by config/urls.py
(the URL and its names unchanged since the view moved from payments to order)."""

from django.urls import path

from shop.order import refund_dashboard as dashboard

app_name = "payments-dashboard"

urlpatterns = [
    path("orders/<str:order_number>/refund/", dashboard.order_refund_view, name="order-refund"),
]
