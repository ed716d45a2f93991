"""Mounted under /dashboard/fulfilment/ by config/urls.py."""

from django.urls import path

from shop.order import dashboard

app_name = "order-dashboard"

urlpatterns = [
    path("", dashboard.fulfilment_list, name="fulfilment"),
    path("orders/<str:number>/ship/", dashboard.order_ship, name="order-ship"),
    path("orders/<str:number>/move/", dashboard.order_move, name="order-move"),
    path("orders/<str:number>/cancel/", dashboard.order_cancel_view, name="order-cancel"),
]
