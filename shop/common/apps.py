from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "shop.common"
    label = "common"

    def ready(self) -> None:
        from shop.common import signals  # noqa: F401
