"""Mounted under /accounts/credit/ by config/urls.py."""

from django.urls import path

from shop.credit import views

app_name = "credit"

urlpatterns = [path("", views.credit_view, name="history")]
