from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "shop.lifecycle"
    label = "lifecycle"
    verbose_name = "Lifecycle emails"
