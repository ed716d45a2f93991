"""Staff screens of lifecycle, mounted under /dashboard/lifecycle/ by config/urls.py."""

from django.urls import path

from shop.lifecycle import dashboard

app_name = "lifecycle-dashboard"

urlpatterns = [
    path("", dashboard.index, name="index"),
    path("<slug:kind>/pause/", dashboard.pause, name="pause"),
    path("<slug:kind>/edit/", dashboard.edit, name="edit"),
]
