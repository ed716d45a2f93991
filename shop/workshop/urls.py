"""Mounted under /dashboard/workshop/ by config/urls.py."""

from django.urls import path

from shop.workshop import views

app_name = "workshop"

urlpatterns = [
    path("", views.JobListView.as_view(), name="job-list"),
    path("jobs/<int:pk>/advance/", views.job_advance, name="job-advance"),
    path("jobs/<int:pk>/ticket/", views.job_ticket, name="job-ticket"),
    path("jobs/<int:pk>/ticket.pdf", views.job_ticket_pdf, name="job-ticket-pdf"),
    path("orders/<str:order_number>/", views.order_jobs, name="order-jobs"),
]
