"""Default resale price rules (share of the new price per grade), so publishing works before
staff refine them. Keep in step with services.DEFAULT_RESALE_RULES."""

from django.db import migrations

DEFAULTS = {"A": (55, 70), "B": (40, 55)}


def seed(apps, schema_editor):
    ResaleRule = apps.get_model("takeback", "ResaleRule")
    for grade, (low, high) in DEFAULTS.items():
        ResaleRule.objects.get_or_create(
            grade=grade, defaults={"min_share": low, "max_share": high}
        )


class Migration(migrations.Migration):
    dependencies = [("takeback", "0004_preloved_piece")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
