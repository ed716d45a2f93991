from django.apps import AppConfig


class TakeBackConfig(AppConfig):
    name = "shop.takeback"
    label = "takeback"
    verbose_name = "Take-back scheme"

    def ready(self) -> None:
        from shop.takeback import checks  # noqa: F401  (registers the system check)
