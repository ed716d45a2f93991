"""A shopper's basket of three personalized lines, filled through the real pages (also used by
tests/perf/bench.py for its basket visitor)."""

from shop.catalogue.models import Product

# (upc of a product, or of a parent whose first colour in stock is taken; the choices)
PERSONALIZED_LINES = (
    (
        "MV-EG-HOL",
        {
            "initials": "JB",
            "style": "foil",
            "position": "inside",
            "thread": "oxblood",
            "finish": "gunmetal",
            "gift_message": "Happy anniversary",
        },
    ),
    ("MV-EG-TOT", {"initials": "AM", "style": "deboss", "position": "front"}),
    ("MV-EG-BIF", {"initials": "DV", "style": "deboss", "thread": "oxblood"}),
)


def fill_basket(client) -> list[Product]:
    """Add the three personalized lines with `client` (a django.test.Client); returns the
    products added. Each add must redirect (302): a refused add is a broken fixture."""
    added = []
    for upc, choices in PERSONALIZED_LINES:
        product = Product.objects.get(upc=upc)
        data = {"quantity": 1, **choices}
        if product.is_parent:
            child = (
                product.children.filter(is_public=True, stockrecords__num_in_stock__gt=0)
                .order_by("pk")
                .first()
            )
            data["child_id"] = child.pk
        response = client.post(f"/basket/add/{product.pk}/", data)
        if response.status_code != 302:
            raise AssertionError(f"adding {upc} answered {response.status_code}")
        added.append(product)
    return added


def another_line() -> tuple[str, dict]:
    """Where to post, and what, to add a fourth line to that basket: a colour of the last
    product (one shoppers have added before, so Oscar's analytics update their counter row
    rather than create it), personalized."""
    from django.test import Client

    product = Product.objects.get(upc=PERSONALIZED_LINES[-1][0])
    child = product.children.filter(is_public=True).order_by("-pk").first()
    data = {"quantity": 1, "child_id": child.pk, "initials": "MV", "style": "deboss"}
    path = f"/basket/add/{product.pk}/"
    Client(HTTP_HOST="localhost").post(path, data)  # another shopper, earlier
    return path, data
