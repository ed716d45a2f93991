from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "shop.reports"
    label = "reports"
    verbose_name = "Business reports"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from shop.reports import signals  # noqa: F401  (cost price history)

        post_migrate.connect(_ensure_reference_data, sender=self)


def _ensure_reference_data(sender, using="default", **kwargs) -> None:
    """The sales channels and the first shipping rate table exist after every migrate (and
    after a test database flush, which emits post_migrate too)."""
    from shop.reports.services import reports_reference_data_ensure

    reports_reference_data_ensure(using=using)
