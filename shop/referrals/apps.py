from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "shop.referrals"
    label = "referrals"
    verbose_name = "Referrals"
