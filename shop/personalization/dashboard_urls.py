"""Mounted under /dashboard/personalization/ by config/urls.py."""

from django.urls import path

from shop.personalization import dashboard

app_name = "personalization-dashboard"

urlpatterns = [
    path("", dashboard.offer_list, name="offer-list"),
    path("offers/new/", dashboard.offer_create, name="offer-create"),
    path("offers/<int:pk>/", dashboard.offer_update, name="offer-update"),
    path("offers/<int:pk>/delete/", dashboard.offer_delete, name="offer-delete"),
]
