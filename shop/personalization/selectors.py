"""Reads for personalization: what a product offers, priced; open choices on lines."""

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import FilteredRelation, Q

from shop.personalization.models import PersonalizationOffer
from shop.personalization.rules import Choices, OfferView, Quote, ValueView, quote

LINE_OPTION_CODE = "personalization"


def offers_for_product(*, product) -> dict[str, OfferView]:
    """Active offers for a product, by kind, in two queries.

    A child (colour variant) takes its parent's offers. An offer on the product itself
    overrides its class's offer of the same kind (an inactive one switches that kind off).
    """
    cached = getattr(product, "_personalization_offers", None)
    if cached is not None:
        return cached
    offers_for_products(products=[product])
    return product._personalization_offers


def _offer_base(product):
    return product.parent if product.is_child and product.parent_id else product


def offers_for_products(
    *, products: Iterable, memo: dict[int, dict[str, OfferView]] | None = None
) -> None:
    """Work out the offers of several products (a basket's lines) at once, in two queries
    however many there are; each product keeps them for offers_for_product (one lookup per
    product object). `memo` (offers by parent or stand-alone product id, e.g. one basket's
    for one request) saves the queries for products it already knows."""
    todo = [p for p in products if getattr(p, "_personalization_offers", None) is None]
    if not todo:
        return
    memo = {} if memo is None else memo
    bases = {p.pk: _offer_base(p) for p in todo}
    missing = {base.pk: base for base in bases.values() if base.pk not in memo}
    if missing:
        memo.update(_offers_by_base(list(missing.values())))
    for product in todo:
        product._personalization_offers = memo[bases[product.pk].pk]


_OFFER_FIELDS = ("pk", "product_id", "product_class_id", "kind", "is_active")
_OFFER_PRICE_FIELDS = ("surcharge", "cost", "lead_days")
_VALUE_FIELDS = ("group", "code", "label", "hex", "surcharge", "cost", "lead_days")


def _offers_by_base(bases: list) -> dict[int, dict[str, OfferView]]:
    """Active offers by kind for each base product (a parent or a stand-alone): one query,
    each offer's active values joined to it in their display order."""
    rows = (
        PersonalizationOffer.objects.filter(
            Q(product_id__in={b.pk for b in bases})
            | Q(product_class_id__in={b.product_class_id for b in bases}, product__isnull=True)
        )
        .annotate(active=FilteredRelation("values", condition=Q(values__is_active=True)))
        .order_by("kind", "pk", "active__group", "active__display_order", "active__pk")
        .values_list(
            *_OFFER_FIELDS,
            *_OFFER_PRICE_FIELDS,
            "active__pk",
            *(f"active__{name}" for name in _VALUE_FIELDS),
        )
    )
    offers: dict[int, tuple] = {}  # pk -> (product_id, product_class_id, kind, is_active)
    views: dict[int, OfferView] = {}
    for row in rows:
        pk, product_id, class_id, kind, is_active, surcharge, cost, lead_days = row[:8]
        if pk not in offers:
            offers[pk] = (product_id, class_id, kind, is_active)
            views[pk] = OfferView(
                kind=kind, surcharge=surcharge, cost=cost, lead_days=lead_days, values={}
            )
        if row[8] is not None:  # an active value
            group, code, label, hex_, v_surcharge, v_cost, v_lead_days = row[9:]
            views[pk].values.setdefault(group, {})[code] = ValueView(
                code=code,
                label=label,
                hex=hex_,
                surcharge=v_surcharge,
                cost=v_cost,
                lead_days=v_lead_days,
            )
    result: dict[int, dict[str, OfferView]] = {}
    for base in bases:
        chosen: dict[str, int] = {}
        for pk, (product_id, class_id, kind, _active) in offers.items():
            if product_id == base.pk or (product_id is None and class_id == base.product_class_id):
                if product_id is not None or kind not in chosen:
                    chosen[kind] = pk
        result[base.pk] = {kind: views[pk] for kind, pk in chosen.items() if offers[pk][3]}
    return result


def line_choices(line) -> Choices:
    """The personalization stored on a basket or order line. Order line attributes name their
    option in `type`; basket line attributes are read with their option (the basket prefetches
    `attributes__option`, see shop.basket.models)."""
    for attribute in line.attributes.all():
        code = getattr(attribute, "type", None) or attribute.option.code
        if code == LINE_OPTION_CODE:
            return Choices.from_line_value(attribute.value)
    return Choices()


def options_surcharge(*, product, options: list[dict]) -> Decimal:
    """Surcharge for the options a line is about to be created with (basket.add_product)."""
    for option in options:
        if option["option"].code == LINE_OPTION_CODE:
            choices = Choices.from_line_value(option["value"])
            return quote(offers=offers_for_product(product=product), choices=choices).surcharge
    return Decimal("0.00")


def line_quote(line, offers: dict[str, OfferView] | None = None) -> Quote:
    choices = line_choices(line)
    if choices.is_empty():
        return Quote()
    if offers is None:
        offers = offers_for_product(product=line.product)
    return quote(offers=offers, choices=choices)


def personalization_option():
    """The Oscar Option that carries personalization on lines. A data migration makes it;
    it is made again here if staff deleted it."""
    from shop.catalogue.models import Option

    option, _ = Option.objects.get_or_create(
        code=LINE_OPTION_CODE, defaults={"name": "Personalization", "type": Option.TEXT}
    )
    return option


def product_personalization_context(*, product) -> dict:
    """What the product page's preview script needs: each option's surcharge and colour,
    and the dispatch date for every lead time a choice can add."""
    from shop.common.workdays import dispatch_date

    offers = offers_for_product(product=product)
    lead_times = {0} | {o.lead_days for o in offers.values()}
    lead_times |= {
        v.lead_days for o in offers.values() for g in o.values.values() for v in g.values()
    }
    return {
        "offers": {
            kind: {
                "surcharge": str(offer.surcharge),
                "lead_days": offer.lead_days,
                "values": {
                    group: {
                        code: {
                            "label": v.label,
                            "hex": v.hex,
                            "surcharge": str(v.surcharge),
                            "lead_days": v.lead_days,
                        }
                        for code, v in values.items()
                    }
                    for group, values in offer.values.items()
                },
            }
            for kind, offer in offers.items()
        },
        "dispatch_dates": {
            str(days): dispatch_date(extra_days=days).isoformat() for days in sorted(lead_times)
        },
    }
