from datetime import date

from django.db import migrations


def move(apps, schema_editor):
    """What staff had set in the old rate table becomes the first entry of the parcel cost
    history (shipping.ParcelCost), valid from the start."""
    ShippingRate = apps.get_model("reports", "ShippingRate")
    ParcelCost = apps.get_model("shipping", "ParcelCost")
    for rate in ShippingRate.objects.all():
        ParcelCost.objects.update_or_create(
            shipping_code=rate.shipping_code,
            valid_from=date(2000, 1, 1),
            defaults={"cost": rate.cost_per_order},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0003_fact_tables"),
        ("shipping", "0004_parcel_cost"),
    ]

    operations = [
        migrations.RunPython(move, migrations.RunPython.noop),
        migrations.DeleteModel(name="ShippingRate"),
    ]
