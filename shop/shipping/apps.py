import oscar.apps.shipping.apps as apps


class ShippingConfig(apps.ShippingConfig):
    name = "shop.shipping"

    def ready(self) -> None:
        super().ready()
        from django.db.models.signals import post_migrate

        post_migrate.connect(_ensure_parcel_costs, sender=self)


def _ensure_parcel_costs(sender, using="default", **kwargs) -> None:
    """The first parcel costs exist after every migrate (and test database flush)."""
    from shop.shipping.services import parcel_costs_ensure

    parcel_costs_ensure(using=using)
