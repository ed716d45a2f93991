from django.apps import AppConfig


class CreditConfig(AppConfig):
    name = "shop.credit"
    label = "credit"
    verbose_name = "Store credit"
