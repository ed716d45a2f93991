from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "shop.reports"
    label = "reports"
    verbose_name = "Business reports"

    def ready(self) -> None:
        from shop.reports import signals  # noqa: F401  (cost price history)
