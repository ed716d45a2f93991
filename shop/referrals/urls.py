"""The shop's own pages of referrals, mounted at the site root by config/urls.py."""

from django.urls import path

from shop.referrals import views

app_name = "referrals"

urlpatterns = [
    # Any text after /r/ (slashes too): whatever a link carries is answered the same way.
    path("r/<path:code>/", views.share, name="share"),
    path("accounts/referrals/", views.invite, name="invite"),
]
