"""The shop's own pages of lifecycle, mounted at the site root by config/urls.py."""

from django.urls import path

from shop.lifecycle import views

app_name = "lifecycle"

urlpatterns = [
    path("accounts/email-preferences/", views.preferences, name="email-preferences"),
    path("email/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
