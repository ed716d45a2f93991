from django.apps import AppConfig


class PersonalizationConfig(AppConfig):
    name = "shop.personalization"
    label = "personalization"
    verbose_name = "Personalization"
