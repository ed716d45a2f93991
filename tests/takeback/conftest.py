import pytest
from oscar.test.factories import create_product

from shop.catalogue.models import Product, ProductClass
from tests.takeback.helpers import TOTE, WALLET, D


@pytest.fixture
def catalogue(db):
    """Two products in colour variants (a £95 wallet, a £245 tote): much faster than the
    demo catalogue, and all the scheme needs."""
    leather, _ = ProductClass.objects.get_or_create(
        name="Leather goods", defaults={"slug": "leather-goods", "track_stock": True}
    )
    for upc, title, price in (
        (WALLET, "Evergreen bifold wallet", "95.00"),
        (TOTE, "Evergreen tote", "245.00"),
    ):
        parent = Product.objects.create(
            upc=upc, title=title, structure=Product.PARENT, product_class=leather
        )
        create_product(
            upc=f"{upc}-01",
            title=f"{title} (Chestnut)",
            parent=parent,
            product_class="Leather goods",
            price=D(price),
            num_in_stock=50,
            partner_name="Marlow & Vale",
        )
    return leather
