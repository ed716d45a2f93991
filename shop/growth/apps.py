from django.apps import AppConfig


class GrowthConfig(AppConfig):
    name = "shop.growth"
    label = "growth"
    verbose_name = "Growth: consent, events and funnel"
