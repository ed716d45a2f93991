"""The search documents of the products that existed were filled here; the refresh now also
writes the listing facts, columns 0036 adds, so the fill runs there (every product is still
marked dirty from 0034 at this point)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0034_product_search_vector")]

    operations = []
