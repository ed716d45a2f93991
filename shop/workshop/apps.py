from django.apps import AppConfig


class WorkshopConfig(AppConfig):
    name = "shop.workshop"
    label = "workshop"
    verbose_name = "Workshop"
