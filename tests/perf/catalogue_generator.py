"""A large catalogue for `make bench`, in the schema of ``fixtures/catalogue.json``.

The generated data goes through the real loader (``shop.catalogue.services.catalogue_load``),
so the products, colour variants, stock records, categories and sustainability attributes are
written exactly as the demo's are. Each new product is a variation of a demo product (same
category, shape and variant structure; another fact set, price, stock and figures), so pages
at 2,000 products show the same kinds of product as at the demo size, only more of them.
"""

from __future__ import annotations

import copy
import random
from decimal import Decimal

PENNY = Decimal("0.01")
# Price multipliers for a variation, so that sorting by price mixes demo and generated products.
PRICE_FACTORS = tuple(Decimal(f) for f in ("0.85", "0.95", "1.00", "1.10", "1.25"))


def generate_catalogue(base: dict, *, products: int, seed: int = 1962) -> dict:
    """Catalogue data holding ``products`` new top-level products cloned from ``base``'s.

    The product class, categories, partner and fact sets are ``base``'s (the loader finds them
    unchanged). Every entry records the demo product it was cloned from under ``_clone_of``
    (keys starting with ``_`` are comments for the loader), which the benchmark uses to give
    the clone the demo product's image. Deterministic for a given ``seed``.
    """
    if products < 0:
        raise ValueError("products must be >= 0")
    templates = base["products"]
    if not templates:
        raise ValueError("the base catalogue has no products to vary")
    rng = random.Random(seed)
    fact_sets = sorted(base.get("fact_sets", {}))
    data = {key: copy.deepcopy(value) for key, value in base.items() if key != "products"}
    data["products"] = [
        _variation(templates[i % len(templates)], serial=i + 1, rng=rng, fact_sets=fact_sets)
        for i in range(products)
    ]
    return data


def _variation(template: dict, *, serial: int, rng: random.Random, fact_sets: list[str]) -> dict:
    entry = copy.deepcopy(template)
    tag = f"B{serial:04d}"
    factor = rng.choice(PRICE_FACTORS)
    entry["_clone_of"] = template["upc"]
    entry["upc"] = f"{template['upc']}-{tag}"
    entry["title"] = f"{template['title']} No. {serial}"
    entry.pop("slug", None)
    if fact_sets and template.get("facts"):
        entry["facts"] = rng.choice(fact_sets)
    attributes = entry.setdefault("attributes", {})
    if "recycled_content" in attributes:
        attributes["recycled_content"] = rng.randint(0, 60)
    if "carbon_footprint" in attributes:
        footprint = float(attributes["carbon_footprint"]) * rng.uniform(0.7, 1.3)
        attributes["carbon_footprint"] = round(footprint, 1)
    for child in entry.get("children", []):
        child["_clone_of"] = child["upc"]
        child["upc"] = f"{child['upc']}-{tag}"
        child.pop("title", None)  # the loader names it "<parent title>, <colour>"
        _vary_stock(child, tag=tag, factor=factor, rng=rng)
    if "stock" in entry:
        _vary_stock(entry, tag=tag, factor=factor, rng=rng)
    return entry


def _vary_stock(entry: dict, *, tag: str, factor: Decimal, rng: random.Random) -> None:
    stock = entry["stock"]
    stock["sku"] = f"{stock['sku']}-{tag}"
    stock["price"] = str((Decimal(str(stock["price"])) * factor).quantize(PENNY))
    if stock.get("cost_price") is not None:
        stock["cost_price"] = str((Decimal(str(stock["cost_price"])) * factor).quantize(PENNY))
    stock["num_in_stock"] = rng.randint(0, 40)


def clone_sources(data: dict) -> dict[str, str]:
    """UPC of every generated product (parents, stand-alones and variants) -> its demo UPC."""
    sources = {}
    for entry in data["products"]:
        sources[entry["upc"]] = entry["_clone_of"]
        for child in entry.get("children", []):
            sources[child["upc"]] = child["_clone_of"]
    return sources
