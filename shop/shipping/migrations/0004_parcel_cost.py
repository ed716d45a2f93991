from datetime import date
from decimal import Decimal

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The estimates the reports used so far (they lived in reports.ShippingRate, whose rows the
# reports migration that drops it copies over these).
FIRST_COSTS = (("royal-mail-tracked-48", Decimal("3.95")), ("dpd-next-day", Decimal("7.20")))
SINCE = date(2000, 1, 1)


def seed(apps, schema_editor):
    ParcelCost = apps.get_model("shipping", "ParcelCost")
    for code, cost in FIRST_COSTS:
        ParcelCost.objects.get_or_create(shipping_code=code, valid_from=SINCE, defaults={"cost": cost})


class Migration(migrations.Migration):
    dependencies = [
        ("shipping", "0003_auto_20181115_1953"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ParcelCost",
            fields=[
                ("id", models.AutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("shipping_code", models.CharField(max_length=128)),
                ("cost", models.DecimalField(decimal_places=2, max_digits=12, validators=[django.core.validators.MinValueValidator(Decimal("0"))])),
                ("valid_from", models.DateField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("set_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
            options={"ordering": ("shipping_code", "-valid_from")},
        ),
        migrations.AddConstraint(
            model_name="parcelcost",
            constraint=models.UniqueConstraint(fields=("shipping_code", "valid_from"), name="parcel_cost_once_a_day"),
        ),
        migrations.AddConstraint(
            model_name="parcelcost",
            constraint=models.CheckConstraint(condition=models.Q(("cost__gte", 0)), name="parcel_cost_not_negative"),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
