"""Mounted under /dashboard/tasks/ by config/urls.py."""

from django.urls import path

from shop.common import dashboard

app_name = "common-dashboard"

urlpatterns = [
    path("", dashboard.task_list, name="tasks"),
    path("<int:pk>/retry/", dashboard.task_retry, name="task-retry"),
]
