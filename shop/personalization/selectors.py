"""Reads for personalization: what a product offers, priced; open choices on lines."""

from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

from django.db.models import FilteredRelation, Prefetch, Q

from shop.personalization.models import (
    OrderLinePersonalization,
    PersonalizationOffer,
    PersonalizationValue,
)
from shop.personalization.rules import (
    Choices,
    OfferView,
    PersonalizationError,
    Quote,
    ValueView,
    makes_to_order,
    quote,
)

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


# Reads the offers that may apply to base products (product ids, product class ids) with
# their active values (`active_values`): what bases_offers_query and active_values_query say,
# read another way (the basket reads them with queries compiled once, shop.basket.models).
# Model instances, or plain objects with the fields below: all that choosing among the offers
# and viewing them reads (_offers_by_base, _view).
OfferRowsReader = Callable[[Sequence[int], Sequence[int | None]], list]
OFFER_FIELDS = (
    "pk",
    "product_id",
    "product_class_id",
    "kind",
    "is_active",
    "surcharge",
    "cost",
    "lead_days",
)
VALUE_FIELDS = ("offer_id", "group", "code", "label", "hex", "surcharge", "cost", "lead_days")


def offers_for_products(
    *,
    products: Iterable,
    memo: dict[int, dict[str, OfferView]] | None = None,
    read_rows: OfferRowsReader | None = None,
) -> None:
    """Work out the offers of several products (a basket's lines) at once, in two queries
    however many there are; each product keeps them for offers_for_product (one lookup per
    product object). `memo` (offers by parent or stand-alone product id, e.g. one basket's
    for one request) saves the queries for products it already knows; `read_rows` reads the
    rows instead of the ORM (see OfferRowsReader)."""
    todo = [p for p in products if getattr(p, "_personalization_offers", None) is None]
    if not todo:
        return
    memo = {} if memo is None else memo
    bases = {p.pk: _offer_base(p) for p in todo}
    missing = {base.pk: base for base in bases.values() if base.pk not in memo}
    if missing:
        memo.update(_offers_by_base(list(missing.values()), read_rows=read_rows))
    for product in todo:
        product._personalization_offers = memo[bases[product.pk].pk]


def bases_offers_query(*, product_ids, product_class_ids):
    """The offers that may apply to base products (a parent or a stand-alone): the
    products' own, and their classes' class-wide ones (_offers_by_base picks among them)."""
    return PersonalizationOffer.objects.filter(
        Q(product_id__in=product_ids)
        | Q(product_class_id__in=product_class_ids, product__isnull=True)
    )


# The values shoppers may choose (an offer's `active_values`): active ones.
ACTIVE_VALUE = {"is_active": True}


def active_values_query():
    """The values shoppers may choose, in their order."""
    return PersonalizationValue.objects.filter(**ACTIVE_VALUE)


def active_values_relation() -> FilteredRelation:
    """An offer's values shoppers may choose, as a relation to join (one row per value, an
    offer without any joined to nothing); annotated as `active_values`, ordered by
    ACTIVE_VALUES_ORDER (the values' own order)."""
    return FilteredRelation(
        "values", condition=Q(**{f"values__{name}": v for name, v in ACTIVE_VALUE.items()})
    )


ACTIVE_VALUES_ORDER = tuple(
    f"active_values__{name}" for name in PersonalizationValue._meta.ordering
)


def _offers_by_base(
    bases: list, read_rows: OfferRowsReader | None = None
) -> dict[int, dict[str, OfferView]]:
    """Active offers by kind for each base product (a parent or a stand-alone), two queries."""
    product_ids = sorted({b.pk for b in bases})
    product_class_ids = sorted({b.product_class_id for b in bases}, key=lambda pk: pk or 0)
    if read_rows is not None:
        rows = read_rows(product_ids, product_class_ids)
    else:
        rows = list(
            bases_offers_query(
                product_ids=product_ids, product_class_ids=product_class_ids
            ).prefetch_related(
                Prefetch("values", queryset=active_values_query(), to_attr="active_values")
            )
        )
    views: dict[int, OfferView] = {}
    result: dict[int, dict[str, OfferView]] = {}
    for base in bases:
        chosen: dict[str, PersonalizationOffer] = {}
        for offer in rows:
            if offer.product_id == base.pk or (
                offer.product_id is None and offer.product_class_id == base.product_class_id
            ):
                if offer.product_id is not None or offer.kind not in chosen:
                    chosen[offer.kind] = offer
        result[base.pk] = {}
        for kind, offer in chosen.items():
            if offer.is_active:
                if offer.pk not in views:
                    views[offer.pk] = _view_of(offer)
                result[base.pk][kind] = views[offer.pk]
    return result


def _view_of(offer) -> OfferView:
    """The offer's view, built once per offer object: a reader that gives the same objects
    again for the same rows (the basket's, shop.basket.models) has them built once."""
    view = offer.__dict__.get("_offer_view")
    if view is None:
        view = offer._offer_view = _view(offer)
    return view


def _view(offer: PersonalizationOffer) -> OfferView:
    values: dict[str, dict[str, ValueView]] = {}
    for v in offer.active_values:
        values.setdefault(v.group, {})[v.code] = ValueView(
            code=v.code,
            label=v.label,
            hex=v.hex,
            surcharge=v.surcharge,
            cost=v.cost,
            lead_days=v.lead_days,
        )
    return OfferView(
        kind=offer.kind,
        surcharge=offer.surcharge,
        cost=offer.cost,
        lead_days=offer.lead_days,
        values=values,
    )


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
    """The line's personalization priced with `offers` (its product's by default). Kept on
    the line object for the same choices and offers: the basket page prices each line, then
    shows what it was priced for."""
    choices = line_choices(line)
    if choices.is_empty():
        return Quote()
    if offers is None:
        offers = offers_for_product(product=line.product)
    kept = line.__dict__.get("_mv_quote")
    if kept is not None and kept[0] is offers and kept[1] == choices:
        return kept[2]
    priced = quote(offers=offers, choices=choices)
    line._mv_quote = (offers, choices, priced)
    return priced


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


def order_made_to_order(*, order) -> bool:
    """Was a line of the order personalised so that it is made to order (one query)?"""
    kinds = (
        OrderLinePersonalization.objects.filter(line__order=order)
        .values_list("kind", flat=True)
        .distinct()
    )
    return any(makes_to_order(kind) for kind in kinds)


PERSONALISATION_LABELS = {
    "monogram": "Monogram",
    "thread": "Thread",
    "hardware": "Hardware",
    "gift_message": "Gift message",
}


def line_personalisation(line) -> list[dict]:
    """The personalisation on a basket line for display: [{kind, label, text, surcharge}].

    Reads the line's choices (prefetched attributes) and the product's offers (cached per
    product object); a choice that is no longer offered is shown without a price."""
    choices = line_choices(line)
    if choices.is_empty():
        return []
    offers = offers_for_product(product=line.product)

    def label(kind, group, code):
        offer = offers.get(kind)
        value = offer.values.get(group, {}).get(code) if offer else None
        return value.label if value else code

    try:
        items = line_quote(line, offers=offers).items
    except PersonalizationError:
        items = ()
    rows = []
    for item in items:
        if item.kind == "monogram":
            parts = [item.data.get("initials", "")]
            if item.data.get("style"):
                parts.append(label("monogram", "style", item.data["style"]))
            if item.data.get("position"):
                parts.append(label("monogram", "position", item.data["position"]))
            text = " · ".join(p for p in parts if p)
        elif item.kind == "gift_message":
            text = f"“{item.description}”"
        else:
            text = item.description
        rows.append(
            {
                "kind": item.kind,
                "label": PERSONALISATION_LABELS.get(item.kind, item.kind),
                "text": text,
                "surcharge": item.surcharge,
            }
        )
    if not rows:  # choices no longer priced: still show what was asked for
        for name, value in (
            ("Monogram", choices.initials),
            ("Thread", choices.thread),
            ("Hardware", choices.finish),
            ("Gift message", choices.gift_message),
        ):
            if value:
                rows.append({"kind": "", "label": name, "text": value, "surcharge": None})
    return rows
