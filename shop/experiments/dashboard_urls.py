"""Staff screens of experiments, mounted under /dashboard/experiments/ by config/urls.py."""

from django.urls import path

from shop.experiments import dashboard

app_name = "experiments-dashboard"

urlpatterns: list = [
    path("", dashboard.experiment_list, name="list"),
    path("new/", dashboard.experiment_create, name="create"),
    path("<int:pk>/edit/", dashboard.experiment_edit, name="edit"),
    path("<int:pk>/start/", dashboard.experiment_start, name="start"),
    path("<int:pk>/stop/", dashboard.experiment_stop, name="stop"),
    path("<int:pk>/report/", dashboard.experiment_report, name="report"),
]
