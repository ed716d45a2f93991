"""Requests that answered 500 on the personalization pages (issue "No request gets a 500"):
each is sent exactly as it came and ends in a message or a form error."""

import pytest
from oscar.test.factories import UserFactory

from shop.catalogue.models import Product
from shop.personalization.models import PersonalizationOffer

pytestmark = pytest.mark.django_db
NEW = "/dashboard/personalization/offers/new/"


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True))
    return client


@pytest.mark.parametrize("quoted", ["sNaN", "NaN", "-Infinity", "1e999999"])
def test_basket_add_with_a_monogram_and_a_quoted_surcharge_of_snan(
    client, demo_personalization, quoted
):
    product = Product.objects.get(upc="MV-EG-HOL")
    response = client.post(
        f"/basket/add/{product.pk}/",
        {
            "quantity": 1,
            "initials": "AB",
            "style": "foil",
            "position": "front",
            "quoted_surcharge": quoted,
        },
        HTTP_REFERER=product.get_absolute_url(),
    )
    assert response.status_code == 302
    assert list(client.get("/basket/").context["basket"].all_lines()) == []
    assert "price shown" in client.get(response["Location"]).content.decode()


def test_offer_create_with_a_superscript_product_in_the_query(staff_client, demo_personalization):
    response = staff_client.get(NEW, {"product": "²"})
    assert response.status_code == 200


def test_offer_create_with_a_text_product_on_post(staff_client, demo_personalization):
    before = PersonalizationOffer.objects.count()
    response = staff_client.post(
        NEW,
        {
            "product": "abc",
            "kind": "monogram",
            "is_active": "on",
            "surcharge": "5.00",
            "cost": "1.00",
            "lead_days": "0",
        },
    )
    assert response.status_code in (200, 400)
    assert "Select a valid choice" in response.content.decode()
    assert PersonalizationOffer.objects.count() == before
