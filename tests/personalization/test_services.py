"""Personalized basket lines: pricing, merging, editing, and the snapshot on order lines."""

from decimal import Decimal

import pytest
from oscar.test.factories import create_order

from shop.basket.models import Basket
from shop.catalogue.models import Product
from shop.order.models import Line as OrderLine
from shop.partner.strategy import UKStrategy
from shop.personalization.models import OrderLinePersonalization, PersonalizationValue
from shop.personalization.rules import Choices, PersonalizationError
from shop.personalization.selectors import line_choices, offers_for_product
from shop.personalization.services import (
    basket_add_personalized,
    basket_line_personalize,
    personalization_validate,
)

pytestmark = pytest.mark.django_db
D = Decimal


def _basket():
    basket = Basket.objects.create()
    basket.strategy = UKStrategy()
    return basket


def _wallet():
    return Product.objects.get(upc="MV-EG-CHF")  # a standalone folding card holder


def _bag():
    return Product.objects.get(upc="MV-EG-HOL")  # a standalone holdall


FOIL_AB = Choices(initials="AB", style="foil", thread="navy")


def test_unit_price_is_product_price_plus_surcharges(demo_personalization):
    basket = _basket()
    product = _wallet()
    line, created = basket_add_personalized(
        basket=basket, product=product, quantity=2, choices=FOIL_AB
    )
    assert created
    price = product.stockrecords.get().price
    assert line.unit_price_incl_tax == price + D("15.00")
    assert line.unit_price_excl_tax + line.unit_tax == line.unit_price_incl_tax
    assert basket.total_incl_tax == (price + D("15.00")) * 2
    assert line_choices(line) == FOIL_AB


def test_identical_choices_merge_and_different_ones_stay_apart(demo_personalization):
    basket = _basket()
    product = _wallet()
    basket_add_personalized(basket=basket, product=product, quantity=1, choices=FOIL_AB)
    basket_add_personalized(basket=basket, product=product, quantity=1, choices=FOIL_AB)
    basket_add_personalized(
        basket=basket, product=product, quantity=1, choices=Choices(initials="CD", style="deboss")
    )
    basket_add_personalized(basket=basket, product=product, quantity=1, choices=Choices())
    lines = list(basket.lines.order_by("pk"))
    assert [ln.quantity for ln in lines] == [2, 1, 1]
    assert [line_choices(ln) for ln in lines] == [
        FOIL_AB,
        Choices(initials="CD", style="deboss"),
        Choices(),
    ]


def test_changing_choices_keeps_the_line_or_merges_into_its_twin(demo_personalization):
    basket = _basket()
    product = _wallet()
    first, _ = basket_add_personalized(basket=basket, product=product, quantity=1, choices=FOIL_AB)
    second, _ = basket_add_personalized(
        basket=basket, product=product, quantity=3, choices=Choices(thread="forest")
    )

    new = Choices(initials="XY", style="deboss", thread="forest")
    kept = basket_line_personalize(basket=basket, line=first, choices=new)
    assert kept.pk == first.pk and line_choices(kept) == new and kept.quantity == 1

    merged = basket_line_personalize(basket=basket, line=kept, choices=Choices(thread="forest"))
    assert merged.pk == second.pk and merged.quantity == 4
    assert basket.lines.count() == 1


def test_order_lines_keep_the_surcharges_they_were_sold_at(demo_personalization):
    basket = _basket()
    bag = _bag()
    choices = Choices(
        initials="MV", style="deboss", position="front", finish="brass", gift_message="For Jo"
    )
    basket_add_personalized(basket=basket, product=bag, quantity=1, choices=choices)
    order = create_order(basket=basket)
    line = order.lines.get()
    price = bag.stockrecords.get().price
    assert line.unit_price_incl_tax == price + D("22.00")  # deboss 10 + hardware 12
    rows = {r.kind: r for r in line.personalizations.all()}
    assert set(rows) == {"monogram", "hardware", "gift_message"}
    assert rows["monogram"].description == "MV, blind deboss, front corner"
    assert rows["monogram"].surcharge == D("10.00") and rows["monogram"].cost == D("3.30")
    assert rows["hardware"].surcharge == D("12.00") and rows["hardware"].lead_days == 2
    assert rows["gift_message"].data == {"message": "For Jo"}
    assert line.unit_cost_price == bag.stockrecords.get().cost_price
    assert line.attributes.get().value == choices.as_line_value()

    # Staff raise the deboss surcharge: the placed order does not move.
    PersonalizationValue.objects.filter(code="deboss").update(surcharge=D("20.00"))
    line = OrderLine.objects.get(pk=line.pk)
    assert line.unit_price_incl_tax == price + D("22.00")
    assert OrderLinePersonalization.objects.get(line=line, kind="monogram").surcharge == D("10.00")


def test_product_level_offer_overrides_its_class(demo_personalization):
    bag_offers = offers_for_product(product=_bag())
    assert set(bag_offers["monogram"].values["position"]) == {"front", "inside"}
    assert "hardware" in bag_offers
    wallet_offers = offers_for_product(product=_wallet())
    assert "position" not in wallet_offers["monogram"].values and "hardware" not in wallet_offers
    strap_offers = offers_for_product(product=Product.objects.get(upc="MV-EG-STR"))
    assert "monogram" not in strap_offers  # switched off for watch straps
    assert "thread" in strap_offers


def test_children_take_their_parents_offers(demo_personalization):
    parent = Product.objects.filter(structure=Product.PARENT).first()
    child = parent.children.first()
    assert offers_for_product(product=child).keys() == offers_for_product(product=parent).keys()


def test_a_tampered_surcharge_is_refused(demo_personalization):
    data = {"initials": "AB", "style": "foil"}
    assert (
        personalization_validate(product=_wallet(), data=data, quoted_surcharge="15.00").initials
        == "AB"
    )
    for tampered in ("0.00", "1", "-15", "abc", "NaN", "1e9"):
        with pytest.raises(PersonalizationError) as exc:
            personalization_validate(product=_wallet(), data=data, quoted_surcharge=tampered)
        assert "__all__" in exc.value.errors


def test_a_switched_off_value_cannot_be_chosen(demo_personalization):
    PersonalizationValue.objects.filter(code="navy").update(is_active=False)
    with pytest.raises(PersonalizationError) as exc:
        personalization_validate(product=_wallet(), data={"thread": "navy"})
    assert "thread" in exc.value.errors


def test_offers_and_vouchers_discount_the_surcharged_price(demo_personalization):
    from oscar.apps.offer.applicator import Applicator
    from oscar.apps.offer.models import Benefit, Condition
    from oscar.test.factories import ConditionalOfferFactory, RangeFactory

    everything = RangeFactory(includes_all_products=True)
    ConditionalOfferFactory(
        name="Ten per cent off",
        condition=Condition.objects.create(range=everything, type=Condition.COUNT, value=1),
        benefit=Benefit.objects.create(range=everything, type=Benefit.PERCENTAGE, value=10),
    )
    basket = _basket()
    bag = _bag()
    basket_add_personalized(
        basket=basket, product=bag, quantity=1, choices=Choices(initials="AB", style="foil")
    )
    Applicator().apply(basket)
    unit = bag.stockrecords.get().price + D("15.00")
    assert basket.total_incl_tax_excl_discounts == unit
    assert basket.total_incl_tax == (unit * D("0.9")).quantize(D("0.01"))
    order = create_order(basket=basket)
    assert order.total_incl_tax == (unit * D("0.9")).quantize(D("0.01")) + order.shipping_incl_tax
    assert order.lines.get().personalizations.get().surcharge == D("15.00")
