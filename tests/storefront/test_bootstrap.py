"""`make run`'s set-up step runs twice cleanly and shows the staff password only once."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from shop.catalogue.models import Product, ProductImage
from shop.partner.models import StockRecord


@pytest.mark.django_db
def test_bootstrap_twice_keeps_data_and_prints_the_password_once(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    first, second = StringIO(), StringIO()
    call_command("bootstrap_store", domain="127.0.0.1:8123", stdout=first)
    counts = (Product.objects.count(), StockRecord.objects.count(), ProductImage.objects.count())
    call_command("bootstrap_store", domain="127.0.0.1:8123", stdout=second)

    staff = get_user_model().objects.get(username="staff")
    assert staff.is_staff and staff.is_superuser
    password = first.getvalue().split(f"{staff.email} / ")[1].split()[0]
    assert staff.check_password(password)
    assert password not in second.getvalue()
    assert "Staff login: " in second.getvalue()

    assert (
        counts[0] >= 24
        and counts[2] >= counts[0] - Product.objects.filter(structure="child").count()
    )
    assert counts == (
        Product.objects.count(),
        StockRecord.objects.count(),
        ProductImage.objects.count(),
    )
    assert get_user_model().objects.filter(is_staff=True).count() == 1
