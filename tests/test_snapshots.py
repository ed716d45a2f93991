"""The demo fixtures' snapshots (tests/snapshots.py) give a test what the real loaders give."""

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from shop.catalogue.models import Product
from tests import snapshots
from tests.conftest import _load_demo_catalogue, _load_demo_personalization

TABLES_SQL = "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"


def _picture() -> dict:
    """Row counts of every table and the loaders' content, without ids (sequences differ)."""
    with connection.cursor() as cursor:
        cursor.execute(TABLES_SQL)
        counts = {}
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
        cursor.execute(
            """SELECT p.upc, p.title, p.slug, p.search_vector::text, p.search_dirty,
                      c.name AS category, s.partner_sku, s.num_in_stock, s.price
                 FROM catalogue_product p
                 LEFT JOIN catalogue_productcategory pc ON pc.product_id = p.id
                 LEFT JOIN catalogue_category c ON c.id = pc.category_id
                 LEFT JOIN partner_stockrecord s ON s.product_id = p.id
                ORDER BY 1, 6, 7"""
        )
        products = cursor.fetchall()
        cursor.execute("SELECT word, products FROM catalogue_searchword ORDER BY word")
        words = cursor.fetchall()
        cursor.execute(
            """SELECT o.option, v.value_text, a.name FROM catalogue_productattributevalue v
                 JOIN catalogue_productattribute a ON a.id = v.attribute_id
                 JOIN catalogue_product p ON p.id = v.product_id
                 LEFT JOIN catalogue_attributeoption o ON o.id = v.value_option_id
                ORDER BY p.upc, a.name"""
        )
        attributes = cursor.fetchall()
    return {"counts": counts, "products": products, "words": words, "attributes": attributes}


def _rolled_back(make) -> dict:
    with transaction.atomic():
        make()
        picture = _picture()
        transaction.set_rollback(True)
    return picture


@pytest.mark.django_db
def test_restored_catalogue_and_offers_are_what_the_loaders_make(loader_snapshots):
    def restored():
        snapshots.restore(loader_snapshots["catalogue"], _load_demo_catalogue)
        snapshots.restore(loader_snapshots["personalization"], _load_demo_personalization)

    def loaded():
        _load_demo_catalogue()
        _load_demo_personalization()

    by_snapshot, by_loaders = _rolled_back(restored), _rolled_back(loaded)
    assert by_snapshot["counts"]["catalogue_product"] == 63
    assert by_snapshot == by_loaders


@pytest.mark.django_db
def test_loading_again_after_a_restore_changes_nothing(demo_personalization, capsys):
    call_command("load_catalogue")
    assert "Catalogue already up to date" in capsys.readouterr().out
    new = Product.objects.create(upc="MV-NEW-1", title="New")  # ids do not collide
    assert new.pk > max(Product.objects.exclude(pk=new.pk).values_list("pk", flat=True))


@pytest.mark.django_db
def test_the_real_loader_runs_when_the_tests_own_rows_are_in_the_way(loader_snapshots):
    snapshot = loader_snapshots["catalogue"]
    taken = Product.objects.create(upc="MV-EG-BIF", title="Made by the test")  # UPC is unique
    fallbacks = snapshot.fallbacks
    snapshots.restore(snapshot, _load_demo_catalogue)
    assert snapshot.fallbacks == fallbacks + 1
    taken.refresh_from_db()
    assert taken.title == "Evergreen bifold wallet"  # the loader found it by its UPC
    assert Product.objects.count() == 63
