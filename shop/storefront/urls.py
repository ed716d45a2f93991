from django.urls import path

from shop.storefront import views

app_name = "storefront"

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path("pages/<slug:slug>/", views.content_page, name="page"),
    path("favicon.ico", views.favicon, name="favicon"),
]
