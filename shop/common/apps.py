from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "shop.common"
    label = "common"
