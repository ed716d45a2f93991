"""The four campaigns, one row per kind, with their default parameters (staff change them
on the dashboard). The same defaults as shop.lifecycle.services.CAMPAIGN_DEFAULTS, written
out here because a migration must not change when the code does."""

from django.db import migrations

DEFAULTS = {
    # kind: (wait, segments)
    "abandoned_basket": (24, []),
    "win_back": (120, ["Loyal, slipping", "At risk", "Lost", "Needs attention"]),
    "takeback_reminder": (730, []),
    "review_request": (7, []),
}


def seed(apps, schema_editor):
    Campaign = apps.get_model("lifecycle", "Campaign")
    for kind, (wait, segments) in DEFAULTS.items():
        Campaign.objects.get_or_create(kind=kind, defaults={"wait": wait, "segments": segments})


class Migration(migrations.Migration):
    dependencies = [("lifecycle", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
