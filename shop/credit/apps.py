from django.apps import AppConfig


class CreditConfig(AppConfig):
    name = "shop.credit"
    label = "credit"
    verbose_name = "Store credit"

    def ready(self) -> None:
        from shop.credit import signals

        signals.connect()
