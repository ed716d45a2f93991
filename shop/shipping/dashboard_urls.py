"""Mounted under /dashboard/parcel-costs/ by config/urls.py."""

from django.urls import path

from shop.shipping import views

app_name = "shipping-dashboard"

urlpatterns = [path("", views.parcel_costs, name="parcel-costs")]
