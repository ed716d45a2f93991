from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "shop.common"
    label = "common"

    def ready(self) -> None:
        from shop.common import csrf_tokens, signals  # noqa: F401

        csrf_tokens.install()
