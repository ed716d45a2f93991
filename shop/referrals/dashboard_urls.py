"""Staff screens of referrals, mounted under /dashboard/referrals/ by config/urls.py."""

from django.urls import path

from shop.referrals import dashboard

app_name = "referrals-dashboard"

urlpatterns = [path("", dashboard.index, name="index")]
