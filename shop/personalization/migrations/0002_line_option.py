from django.db import migrations


def create_option(apps, schema_editor):
    Option = apps.get_model("catalogue", "Option")
    Option.objects.get_or_create(
        code="personalization",
        defaults={"name": "Personalization", "type": "text", "required": False},
    )


class Migration(migrations.Migration):
    dependencies = [
        ("personalization", "0001_initial"),
        ("catalogue", "0032_category_exclude_from_menu_category_long_description"),
    ]

    operations = [migrations.RunPython(create_option, migrations.RunPython.noop)]
