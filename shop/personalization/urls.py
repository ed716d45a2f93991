from django.urls import path

from shop.personalization import views

app_name = "personalization"

urlpatterns = [
    path("basket/lines/<int:line_id>/personalize/", views.line_personalize, name="line-edit"),
]
