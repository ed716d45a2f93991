from django.core.management import call_command
from django.core.management.base import BaseCommand

from shop.storefront import services


class Command(BaseCommand):
    help = "Migrate, load the demo catalogue and create the staff login (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--domain", default="127.0.0.1:8000")
        parser.add_argument("--no-demo-data", action="store_true")

    def handle(self, *args, domain: str, no_demo_data: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        services.site_configure(domain=domain)
        services.shipping_countries_ensure()
        if not no_demo_data:
            services.demo_data_load()
        login = services.staff_login_ensure()
        if login.password:
            self.stdout.write(
                self.style.WARNING(
                    f"Staff login created: {login.email} / {login.password}\n"
                    "This password is shown once; write it down "
                    "(reset it with `manage.py changepassword staff`)."
                )
            )
        else:
            self.stdout.write(
                f"Staff login: {login.email} (its password was shown when it was created; "
                "reset it with `manage.py changepassword staff`)."
            )
