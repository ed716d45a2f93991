"""Staff pages, mounted under /dashboard/take-back/ by config/urls.py."""

from django.urls import path

from shop.takeback import dashboard

app_name = "takeback-dashboard"

urlpatterns = [
    path("", dashboard.queue, name="queue"),
    path("bulk/", dashboard.bulk, name="bulk"),
    path("receive/", dashboard.receive, name="receive"),
    path("rules/", dashboard.rules, name="rules"),
    path("report/", dashboard.report, name="report"),
    path("photos/<int:pk>/", dashboard.photo, name="photo"),
    path("<int:pk>/", dashboard.detail, name="detail"),
    path("<int:pk>/<slug:action>/", dashboard.act, name="act"),
]
