"""Default credit rules (any product), so estimates work before staff refine them."""

from decimal import Decimal

from django.db import migrations

DEFAULTS = {
    "A": ("20.00", "30.00"),
    "B": ("12.00", "20.00"),
    "C": ("6.00", "12.00"),
    "D": ("2.00", "5.00"),
}


def seed(apps, schema_editor):
    CreditRule = apps.get_model("takeback", "CreditRule")
    for grade, (low, high) in DEFAULTS.items():
        CreditRule.objects.get_or_create(
            product=None,
            product_class=None,
            grade=grade,
            defaults={"min_amount": Decimal(low), "max_amount": Decimal(high)},
        )


class Migration(migrations.Migration):
    dependencies = [("takeback", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
