"""Mounted under /dashboard/business-reports/ by config/urls.py."""

from django.urls import path

from shop.reports import views

app_name = "business-reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("online-share/", views.online_share, name="online-share"),
    path("customers/", views.customers, name="customers"),
    path("customers/<path:key>/", views.customer_detail, name="customer-detail"),
    path("segments/", views.segments, name="segments"),
    path("lead-time/", views.lead_time, name="lead-time"),
    path("personalization/", views.personalization, name="personalization"),
    path("production-cost/", views.production_cost, name="production-cost"),
    path("imports/", views.imports, name="imports"),
    path("imports/<int:pk>/", views.import_detail, name="import-detail"),
]
