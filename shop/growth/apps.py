from django.apps import AppConfig


class GrowthConfig(AppConfig):
    name = "shop.growth"
    label = "growth"
    verbose_name = "Growth: consent, events and funnel"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from oscar.apps.customer.signals import user_registered

        from shop.growth import receivers

        user_logged_in.connect(receivers.visitor_signed_in, dispatch_uid="growth-signed-in")
        user_registered.connect(receivers.visitor_signed_in, dispatch_uid="growth-registered")
