"""The search documents of the products that exist (all marked dirty by 0034), now."""

from django.db import migrations


def fill(apps, schema_editor):
    from shop.catalogue.services import search_refresh

    search_refresh()


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0034_product_search_vector")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
