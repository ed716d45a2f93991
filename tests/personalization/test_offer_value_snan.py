"""A 500 the hostile sweep (tests/security/test_sweep.py) found: sNaN in a blank value row of
an offer's page (Django compared it with the row's initial 0.00 before validating)."""

import pytest
from django.test import Client
from oscar.test.factories import UserFactory

from shop.personalization.models import PersonalizationOffer
from tests.security.test_sweep import PageParser

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("amount", ["sNaN", "NaN", "Infinity"])
def test_offer_page_with_snan_in_a_blank_value_row(demo_personalization, amount):
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    offer = PersonalizationOffer.objects.filter(values__isnull=False).order_by("pk").first()
    url = f"/dashboard/personalization/offers/{offer.pk}/"
    parser = PageParser()
    parser.feed(client.get(url).content.decode())
    (form,) = [f for f in parser.forms if any(n == "values-TOTAL_FORMS" for n, *_ in f["fields"])]
    data = {n: v for n, kind, v in form["fields"] if kind not in ("unchecked", "file")}
    last = int(data["values-TOTAL_FORMS"]) - 1  # a blank row
    response = client.post(url, {**data, f"values-{last}-surcharge": amount})
    assert response.status_code == 200
    assert "Enter an amount in pounds and pence" in response.content.decode()
