"""PostgreSQL's unaccent and pg_trgm, and the text search configuration product search uses:
English stemming over unaccented words (`shop_english`)."""

from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations

CREATE_CONFIG = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'shop_english') THEN
        CREATE TEXT SEARCH CONFIGURATION shop_english (COPY = pg_catalog.english);
        ALTER TEXT SEARCH CONFIGURATION shop_english
            ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;
    END IF;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0032_category_exclude_from_menu_category_long_description")]

    operations = [
        UnaccentExtension(),
        TrigramExtension(),
        migrations.RunSQL(CREATE_CONFIG, "DROP TEXT SEARCH CONFIGURATION IF EXISTS shop_english"),
    ]
