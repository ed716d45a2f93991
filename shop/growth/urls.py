"""The shop's own pages of growth, mounted at the site root by config/urls.py."""

from django.urls import path

from shop.growth import views

app_name = "growth"

urlpatterns = [
    path("cookies/", views.cookie_settings, name="cookies"),
    path("cookies/choice/", views.consent, name="consent"),
]
