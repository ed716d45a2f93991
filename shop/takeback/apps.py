from django.apps import AppConfig


class TakeBackConfig(AppConfig):
    name = "shop.takeback"
    label = "takeback"
    verbose_name = "Take-back scheme"
