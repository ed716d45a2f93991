"""The sales channels, a first shipping cost rate table and the cost price history's first
row for every stock record that already exists."""

from decimal import Decimal

from django.db import migrations
from django.utils import timezone

CHANNELS = [
    ("online", "Online store", True, 0),
    ("boutique", "Boutique (Walsall)", False, 1),
    ("wholesale", "Wholesale", False, 2),
    ("marketplace", "Marketplace", False, 3),
    ("event", "Events and fairs", False, 4),
]

# What a parcel costs us (carrier price, packaging, label), estimated; staff keep it current.
RATES = [
    ("royal-mail-tracked-48", "Royal Mail Tracked 48", Decimal("3.95")),
    ("dpd-next-day", "Next working day (DPD)", Decimal("7.20")),
]


def seed(apps, schema_editor):
    Channel = apps.get_model("reports", "Channel")
    ShippingRate = apps.get_model("reports", "ShippingRate")
    StockRecord = apps.get_model("partner", "StockRecord")
    CostPriceRecord = apps.get_model("reports", "CostPriceRecord")
    for code, name, online, order in CHANNELS:
        Channel.objects.get_or_create(
            code=code, defaults={"name": name, "is_online": online, "display_order": order}
        )
    for code, name, cost in RATES:
        ShippingRate.objects.get_or_create(
            shipping_code=code, defaults={"name": name, "cost_per_order": cost}
        )
    now = timezone.now()
    CostPriceRecord.objects.bulk_create(
        CostPriceRecord(
            stockrecord_id=pk,
            cost_price=cost,
            changed_at=created or now,
            source="initial",
        )
        for pk, cost, created in StockRecord.objects.values_list(
            "pk", "cost_price", "date_created"
        )
    )


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
