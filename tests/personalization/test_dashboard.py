"""Dashboard screens for personalization offers: access, list, create, edit with values,
refusals of bad input (never a 500), and placed orders untouched by later edits."""

from decimal import Decimal

import pytest
from django.test import Client
from oscar.test.factories import UserFactory

from shop.basket.models import Basket
from shop.catalogue.models import Product, ProductClass
from shop.order.models import Line as OrderLine
from shop.partner.strategy import UKStrategy
from shop.personalization.models import (
    OrderLinePersonalization,
    PersonalizationOffer,
    PersonalizationValue,
)
from shop.personalization.rules import Choices
from shop.personalization.services import basket_add_personalized
from tests.workshop.helpers import form_post_data, place_order

pytestmark = pytest.mark.django_db
D = Decimal
LIST = "/dashboard/personalization/"
NEW = "/dashboard/personalization/offers/new/"


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True))
    return client


@pytest.fixture
def customer_client(client):
    client.force_login(UserFactory(is_staff=False))
    return client


def _edit_url(offer) -> str:
    return f"/dashboard/personalization/offers/{offer.pk}/"


def _leather_goods() -> ProductClass:
    return ProductClass.objects.get(slug="leather-goods")


def _holdall() -> Product:
    return Product.objects.get(upc="MV-EG-HOL")  # a bag: product-level monogram + hardware


def _create_data(**overrides) -> dict[str, str]:
    data = {
        "product_class": "",
        "product": "",
        "kind": "hardware",
        "is_active": "on",
        "surcharge": "12.00",
        "cost": "4.00",
        "lead_days": "2",
    }
    data.update(overrides)
    return data


def _edit_data(client, offer) -> dict[str, str]:
    """The edit page's form and formset posted back as they are."""
    response = client.get(_edit_url(offer))
    assert response.status_code == 200
    return form_post_data(response.context["form"], response.context["formset"])


# --- access -------------------------------------------------------------------------------


def test_only_staff_get_in(customer_client, demo_personalization):
    offer = PersonalizationOffer.objects.first()
    urls = [LIST, NEW, _edit_url(offer), f"{_edit_url(offer)}delete/"]
    for url in urls:
        response = Client().get(url)
        assert response.status_code == 302 and "/dashboard/login/" in response["Location"], url
    for url in urls:
        assert customer_client.get(url).status_code == 403, url
    response = customer_client.post(f"{_edit_url(offer)}delete/")
    assert response.status_code == 403
    assert PersonalizationOffer.objects.filter(pk=offer.pk).exists()


def test_staff_find_offers_in_the_dashboard_menu(staff_client, demo_personalization):
    html = staff_client.get("/dashboard/").content.decode()
    assert 'href="/dashboard/personalization/"' in html


# --- list ---------------------------------------------------------------------------------


def test_list_shows_offers_and_filters_them(staff_client, demo_personalization):
    response = staff_client.get(LIST)
    assert response.status_code == 200
    assert len(response.context["offers"]) == PersonalizationOffer.objects.count()
    html = response.content.decode()
    assert "Class: Leather goods" in html and "Evergreen weekend holdall" in html

    response = staff_client.get(LIST, {"q": "MV-EG-HOL"})
    offers = list(response.context["offers"])
    assert offers and {o.product_id for o in offers} == {_holdall().pk}

    response = staff_client.get(LIST, {"product_class": _leather_goods().pk, "kind": "thread"})
    assert {o.kind for o in response.context["offers"]} == {"thread"}

    response = staff_client.get(LIST, {"active": "no"})
    assert {o.is_active for o in response.context["offers"]} == {False}

    # Nonsense filters are ignored, not a 500.
    response = staff_client.get(LIST, {"product_class": "abc", "kind": "x", "page": "999"})
    assert response.status_code == 200


# --- create -------------------------------------------------------------------------------


def test_create_an_offer_for_a_product(staff_client, demo_personalization):
    wallet = Product.objects.get(upc="MV-EG-CHF")  # no hardware offered on wallets
    response = staff_client.post(NEW, _create_data(product=wallet.pk))
    offer = PersonalizationOffer.objects.get(product=wallet, kind="hardware")
    assert response.status_code == 302 and response["Location"] == _edit_url(offer)
    assert (offer.surcharge, offer.cost, offer.lead_days) == (D("12.00"), D("4.00"), 2)
    assert offer.product_class is None and offer.is_active


def test_create_an_offer_for_a_product_class(staff_client, demo_personalization):
    PersonalizationOffer.objects.filter(product_class__isnull=False, kind="thread").delete()
    response = staff_client.post(
        NEW, _create_data(product_class=_leather_goods().pk, kind="thread", surcharge="0")
    )
    assert response.status_code == 302
    offer = PersonalizationOffer.objects.get(product_class=_leather_goods(), kind="thread")
    assert offer.surcharge == D("0.00") and offer.product is None


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"surcharge": "-1.00"}, "surcharge", "zero or more"),
        ({"cost": "-0.01"}, "cost", "zero or more"),
        ({"surcharge": "1.234"}, "surcharge", "2 decimal places"),
        ({"surcharge": "abc"}, "surcharge", "pounds and pence"),
        ({"surcharge": "NaN"}, "surcharge", "pounds and pence"),
        ({"surcharge": "1e400"}, "surcharge", ""),
        ({"surcharge": "99999999999"}, "surcharge", "too large"),
        ({"lead_days": "-1"}, "lead_days", "zero or more"),
        ({"lead_days": "400"}, "lead_days", "at most 60"),
        ({"kind": "tattoo"}, "kind", ""),
        ({"product_class": "", "product": ""}, "product_class", "product class or the product"),
        ({"product": "BOTH"}, "product", "not both"),
        ({"product": "999999"}, "product", ""),
        ({"product": "CHILD"}, "product", ""),
    ],
)
def test_create_refuses_bad_input_clearly(
    staff_client, demo_personalization, overrides, field, message
):
    wallet = Product.objects.get(upc="MV-EG-CHF")
    base = {"product": wallet.pk}
    if overrides.get("product") == "BOTH":
        overrides = {"product": wallet.pk, "product_class": _leather_goods().pk}
    elif overrides.get("product") == "CHILD":
        child = Product.objects.filter(structure=Product.CHILD).first()
        overrides = {"product": child.pk}
    before = PersonalizationOffer.objects.count()
    response = staff_client.post(NEW, _create_data(**{**base, **overrides}))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert "Constraint" not in response.content.decode()
    assert PersonalizationOffer.objects.count() == before


def test_a_second_offer_of_the_same_kind_is_refused(staff_client, demo_personalization):
    response = staff_client.post(
        NEW, _create_data(product_class=_leather_goods().pk, kind="monogram")
    )
    assert response.status_code == 200
    assert "already has a monogram offer" in " ".join(response.context["form"].errors["kind"])
    response = staff_client.post(NEW, _create_data(product=_holdall().pk, kind="hardware"))
    assert response.status_code == 200
    assert "already has a hardware finish offer" in response.content.decode()


# --- edit ---------------------------------------------------------------------------------


def test_edit_offer_and_its_values(staff_client, demo_personalization):
    offer = PersonalizationOffer.objects.get(product=_holdall(), kind="hardware")
    data = _edit_data(staff_client, offer)
    data["surcharge"] = "14.50"
    data["lead_days"] = "3"
    # Change an existing value, delete one, add one in the first blank row.
    forms = {data[f"values-{i}-code"]: i for i in range(int(data["values-INITIAL_FORMS"]))}
    data[f"values-{forms['brass']}-surcharge"] = "5.00"
    data[f"values-{forms['nickel']}-DELETE"] = "on"
    new = int(data["values-INITIAL_FORMS"])
    data.update(
        {
            f"values-{new}-group": "finish",
            f"values-{new}-code": "Antique-Brass",
            f"values-{new}-label": "Antique brass",
            f"values-{new}-hex": "#8a6d3b",
            f"values-{new}-surcharge": "8.00",
            f"values-{new}-cost": "2.50",
            f"values-{new}-lead_days": "1",
            f"values-{new}-is_active": "on",
            f"values-{new}-display_order": "4",
        }
    )
    response = staff_client.post(_edit_url(offer), data)
    assert response.status_code == 302, response.context and response.context["formset"].errors
    offer.refresh_from_db()
    assert (offer.surcharge, offer.lead_days) == (D("14.50"), 3)
    values = {v.code: v for v in offer.values.all()}
    assert set(values) == {"brass", "gunmetal", "antique-brass"}
    assert values["brass"].surcharge == D("5.00")
    assert values["antique-brass"].hex == "#8A6D3B" and values["antique-brass"].lead_days == 1


def test_saving_the_page_unchanged_changes_nothing(staff_client, demo_personalization):
    offer = PersonalizationOffer.objects.get(product=_holdall(), kind="monogram")
    before = list(offer.values.values())
    response = staff_client.post(_edit_url(offer), _edit_data(staff_client, offer))
    assert response.status_code == 302
    assert list(offer.values.values()) == before


@pytest.mark.parametrize(
    "change, message",
    [
        ({"hex": "red"}, "six hex digits"),
        ({"hex": "#12345G"}, "six hex digits"),
        ({"hex": "#1234567"}, ""),
        ({"surcharge": "-5"}, "zero or more"),
        ({"cost": "0.001"}, "2 decimal places"),
        ({"code": "two words"}, "lowercase letters"),
        ({"code": ""}, "required"),
        ({"group": "finish"}, "valid choice"),  # a finish on a monogram offer
        ({"code": "DUPLICATE"}, "already used"),
    ],
)
def test_bad_values_are_refused_clearly(staff_client, demo_personalization, change, message):
    offer = PersonalizationOffer.objects.get(product=_holdall(), kind="monogram")
    before = list(offer.values.order_by("pk").values())
    data = _edit_data(staff_client, offer)
    field, value = next(iter(change.items()))
    if value == "DUPLICATE":
        value = data["values-1-code"]  # the first row takes the second row's code
        data["values-1-group"] = data["values-0-group"]
    data[f"values-0-{field}"] = value
    response = staff_client.post(_edit_url(offer), data)
    assert response.status_code == 200
    formset = response.context["formset"]
    row_errors = " ".join(str(e) for row in formset.errors for e in row.values())
    assert row_errors, formset.errors
    assert message in row_errors + " ".join(formset.non_form_errors())
    assert list(offer.values.order_by("pk").values()) == before


def test_duplicate_codes_in_new_rows_are_refused(staff_client, demo_personalization):
    offer = PersonalizationOffer.objects.get(product=_holdall(), kind="hardware")
    data = _edit_data(staff_client, offer)
    new = int(data["values-INITIAL_FORMS"])
    for i in (new, new + 1):
        data.update(
            {
                f"values-{i}-group": "finish",
                f"values-{i}-code": "chrome",
                f"values-{i}-label": f"Chrome {i}",
            }
        )
    response = staff_client.post(_edit_url(offer), data)
    assert response.status_code == 200
    assert "“chrome” (hardware finish)" in " ".join(response.context["formset"].non_form_errors())
    assert not offer.values.filter(code="chrome").exists()


def test_delete_an_offer(staff_client, demo_personalization):
    offer = PersonalizationOffer.objects.get(product=_holdall(), kind="hardware")
    assert staff_client.get(f"{_edit_url(offer)}delete/").status_code == 200
    response = staff_client.post(f"{_edit_url(offer)}delete/")
    assert response.status_code == 302 and response["Location"] == LIST
    assert not PersonalizationOffer.objects.filter(pk=offer.pk).exists()
    assert staff_client.get(_edit_url(offer)).status_code == 404


# --- placed orders keep their prices ---------------------------------------------------------


def test_changing_a_surcharge_leaves_placed_orders_alone(staff_client, demo_personalization):
    bag = _holdall()
    choices = Choices(initials="JO", style="deboss", position="front", finish="brass")
    order = place_order(lines=[(bag, choices, 1)])
    line = order.lines.get()
    price = bag.stockrecords.get().price
    assert line.unit_price_incl_tax == price + D("22.00")  # deboss 10 + hardware 12
    snapshot = list(line.personalizations.order_by("pk").values())
    totals = (order.total_incl_tax, line.line_price_incl_tax)

    # Staff raise the hardware offer's surcharge and the deboss value's.
    hardware = PersonalizationOffer.objects.get(product=bag, kind="hardware")
    data = _edit_data(staff_client, hardware)
    data["surcharge"] = "20.00"
    assert staff_client.post(_edit_url(hardware), data).status_code == 302
    monogram = PersonalizationOffer.objects.get(product=bag, kind="monogram")
    data = _edit_data(staff_client, monogram)
    deboss = next(k for k, v in data.items() if v == "deboss")
    data[deboss.replace("-code", "-surcharge")] = "25.00"
    assert staff_client.post(_edit_url(monogram), data).status_code == 302
    assert PersonalizationValue.objects.get(offer=monogram, code="deboss").surcharge == D("25")

    line = OrderLine.objects.get(pk=line.pk)
    assert line.unit_price_incl_tax == price + D("22.00")
    assert (line.order.total_incl_tax, line.line_price_incl_tax) == totals
    assert list(OrderLinePersonalization.objects.filter(line=line).order_by("pk").values()) == (
        snapshot
    )
    # A new basket (a new request, so a fresh product object) pays the new prices.
    basket = Basket.objects.create()
    basket.strategy = UKStrategy()
    bag = Product.objects.get(pk=bag.pk)
    new_line, _ = basket_add_personalized(basket=basket, product=bag, quantity=1, choices=choices)
    assert new_line.unit_price_incl_tax == price + D("45.00")
