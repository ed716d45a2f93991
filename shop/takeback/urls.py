"""Customer pages, mounted under /accounts/take-back/ by config/urls.py."""

from django.urls import path

from shop.takeback import views

app_name = "takeback"

urlpatterns = [
    path("", views.takeback_list, name="list"),
    path("new/", views.takeback_register_view, name="register"),
    path("<int:pk>/", views.takeback_detail, name="detail"),
    path("<int:pk>/label.pdf", views.takeback_label, name="label"),
    path("<int:pk>/posted/", views.takeback_shipped, name="shipped"),
    path("<int:pk>/offer/", views.takeback_offer, name="offer"),
    path("<int:pk>/photos/", views.takeback_photos, name="photos"),
    path("<int:pk>/photos/<int:photo_pk>/", views.takeback_photo, name="photo"),
]
