from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "shop.experiments"
    label = "experiments"
    verbose_name = "A/B experiments"
