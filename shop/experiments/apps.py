from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "shop.experiments"
    label = "experiments"
    verbose_name = "A/B experiments"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from shop.experiments import receivers

        # Sign-in and registration (which signs in): the account keeps one variant.
        user_logged_in.connect(receivers.on_sign_in, dispatch_uid="experiments-sign-in")
