"""What the basket page works out once and keeps for the rest of its request: the basket's
totals while it is only shown (Basket.totals_kept), and each line's personalization quote
(shop.personalization.selectors.line_quote). Kept only while what they come from is the same."""

from decimal import Decimal

import pytest
from oscar.apps.basket.abstract_models import AbstractBasket

from shop.basket.models import Basket
from shop.partner.strategy import Selector
from shop.personalization.selectors import line_quote, offers_for_product
from tests.basket.helpers import fill_basket

pytestmark = pytest.mark.django_db


@pytest.fixture
def basket(client, demo_personalization) -> Basket:
    fill_basket(client)
    basket = Basket.objects.get()
    basket.strategy = Selector().strategy()
    return basket


@pytest.fixture
def sums(monkeypatch) -> list[str]:
    """Every time Oscar sums the lines for a total."""
    calls = []
    original = AbstractBasket._get_total

    def counted(self, model_property):
        calls.append(model_property)
        return original(self, model_property)

    monkeypatch.setattr(AbstractBasket, "_get_total", counted)
    return calls


def test_totals_are_summed_once_while_kept_and_again_after_a_change(basket, sums):
    expected = sum(line.line_price_incl_tax_incl_discounts for line in basket.all_lines())
    with basket.totals_kept():
        assert basket.total_incl_tax == expected == basket.total_incl_tax > Decimal("0")
        assert basket.total_excl_tax < expected
        assert sums == ["line_price_incl_tax_incl_discounts", "line_price_excl_tax_incl_discounts"]
        line = basket.all_lines()[0]  # a change, then Oscar's reset: summed again
        line.quantity = 2
        line.save()
        basket.reset_offer_applications()
        assert basket.total_incl_tax > expected
        assert len(sums) == 3
    assert basket.total_incl_tax == basket.total_incl_tax  # no longer kept
    assert len(sums) == 5


def test_a_lines_quote_is_kept_for_the_same_choices_and_offers_only(basket):
    line = next(line for line in basket.all_lines() if line.product.upc == "MV-EG-HOL")
    quoted = line_quote(line)
    assert line_quote(line) is quoted and quoted.surcharge > 0
    # Other offers (another read of them), the same choices: priced again, the same price.
    offers = dict(offers_for_product(product=line.product))
    again = line_quote(line, offers=offers)
    assert again is not quoted and again.surcharge == quoted.surcharge
    # Other choices on the same line object: priced again.
    attribute = line.attributes.all()[0]
    attribute.value = {"gift_message": "Happy birthday"}
    changed = line_quote(line, offers=offers)
    assert changed is not again and [item.kind for item in changed.items] == ["gift_message"]
