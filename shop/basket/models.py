from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Exists, OuterRef, Q, prefetch_related_objects
from django.db.models.functions import Coalesce, JSONArray
from django.utils import timezone
from oscar.apps.basket.abstract_models import AbstractBasket
from oscar.core.loading import get_model

from shop.common.precompiled import Precompiled, PrecompiledRows


class Basket(AbstractBasket):
    def all_lines(self):
        """Oscar's cached lines, read once per request with all that pricing and the basket
        page need (LINES below: each line's attributes with their options among them) and
        the products' personalization offers. Evaluated here, so counting, totals and pricing
        reuse the same rows (a 3-line basket page went from 39 queries to 13, then to 3)."""
        if self.id is None:
            return self.lines.model.objects.none()
        if self._lines is None:
            from shop.personalization.selectors import offers_for_products

            lines = self.__dict__.pop("_lines_read", None)  # keep_lines_read
            if lines is None:
                lines = LINES.run(self.id, timezone.now(), known={"basket": self})
            options = {}
            for line in lines:
                attributes = [attribute_from_row(row, options) for row in line.attribute_rows]
                for attribute in attributes:
                    attribute.line = line
                prefetched(line, "attributes", attributes)
                if line.stockrecord is not None and line.stockrecord.product_id == line.product_id:
                    # The same product: placing the order reads its class through the stock
                    # record (allocation) as well as through the line.
                    line.stockrecord.product = line.product
            offers_for_products(
                products=[line.product for line in lines],
                memo=self.offers_memo,
                read_rows=read_personalization_offers,
            )
            # Vouchers with the lines (the offer applicator reads them twice per request); none
            # to read when the lines say the basket has none.
            if lines and not lines[0].basket_has_vouchers:
                prefetched(self, "vouchers", [])
            elif lines:
                prefetch_related_objects([self], "vouchers")
            # Whether any site offer was active when the lines were read: if none, the offer
            # applicator need not look (shop.basket.middleware.BasketApplicator).
            self.site_offers_active = lines[0].site_offers_active if lines else None
            # A queryset holding the lines, as Oscar's was (formsets, count(), exists()). Its
            # filter stays deferred until a copy of it is made (order_by() built it at once:
            # 2.5% of the basket page's instructions); a copy orders by Line's own ordering.
            self._lines = self.lines.all()
            self._lines._result_cache = lines
            self._lines._prefetch_done = True
        return self._lines

    def keep_lines_read(self, lines: list) -> None:
        """Lines read with the basket (shop.basket.selectors.open_anonymous_basket): the next
        all_lines takes them instead of reading them again, unless the basket changes first."""
        self._lines_read = lines

    def reset_offer_applications(self):
        self._forget_what_was_read()
        super().reset_offer_applications()

    def flush(self):
        self._forget_what_was_read()
        super().flush()

    def _forget_what_was_read(self) -> None:
        self.__dict__.pop("_lines_read", None)
        if self.__dict__.get("_totals_kept"):
            self._totals_kept = {}

    def _get_total(self, model_property):
        kept = self.__dict__.get("_totals_kept")
        if kept is None:
            return super()._get_total(model_property)
        if model_property not in kept:
            kept[model_property] = super()._get_total(model_property)
        return kept[model_property]

    @contextmanager
    def totals_kept(self) -> Iterator["Basket"]:
        """While the basket is only shown: each of its totals summed once (Oscar sums the
        lines again for every ask: the shipping method, the order total, the page)."""
        self._totals_kept = {}
        try:
            yield self
        finally:
            self.__dict__.pop("_totals_kept", None)

    @property
    def offers_memo(self) -> dict:
        """Personalization offers by product, for this basket object (one request): the
        lines, the add-to-basket form and the new line's price read them once."""
        return self.__dict__.setdefault("_offers_memo", {})

    def product_quantity(self, product):
        """Items of `product` in the basket, from the lines already read (Oscar sums them in
        another query)."""
        if self.id is None:
            return 0
        return sum(line.quantity for line in self.all_lines() if line.product_id == product.id)

    def get_stock_info(self, product, options):
        """Price a new line with its personalization, so the price the line records on adding
        is the price it shows (Oscar would otherwise warn of a "price change")."""
        from shop.partner.strategy import with_surcharge
        from shop.personalization.selectors import offers_for_products, options_surcharge

        offers_for_products(products=[product], memo=self.offers_memo)
        info = super().get_stock_info(product, options)
        return with_surcharge(info, options_surcharge(product=product, options=options))


# Read with every basket, compiled once (shop.common.precompiled). The lines: product, parent
# and product class (stock policy), stock record and partner (placing the order), each line's
# picture (`picture`: the file of the product's first image, else its parent's, as Oscar's
# primary_image chooses; None when neither has one), whether the basket has vouchers, and the
# line's attributes with their options (`attribute_rows`, _line_attributes).
BASKET_ID = -918273645  # a marker: the basket's id goes there
NOW = datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)  # a marker: the time goes there


def site_offers_query(now: datetime):
    """Oscar's Applicator.get_site_offers: ConditionalOffer.active (open, and started and not
    ended at `now`) site offers with their condition and benefit."""
    offer = get_model("offer", "ConditionalOffer")
    return (
        offer.objects.filter(
            Q(end_datetime__gte=now) | Q(end_datetime=None),
            Q(start_datetime__lte=now) | Q(start_datetime=None),
        )
        .filter(status=offer.OPEN)
        .filter(offer_type=offer.SITE)
        .select_related("condition", "benefit")
    )


# Columns of the lines' products (and their parents) that nothing from the basket page to a
# placed order reads: the search document and description (the widest), the listing's own
# columns (JSON and an array, decoded per row), the dates (timestamps parsed in Python). Left
# out of the lines' query: a 3-line basket page 15.4M -> 14.7M instructions (callgrind).
# tests/basket/test_unread_columns.py walks a basket to a placed order and fails if one is
# read back (a query per line).
_PRODUCT_COLUMNS_UNREAD = (
    "search_vector",
    "description",
    "meta_title",
    "meta_description",
    "rating",
    "date_created",
    "date_updated",
    "listing_price",
    "listing_facets",
    "listing_categories",
    "search_dirty",
)
_UNREAD_PRODUCT_FIELDS = (
    *(f"product__{name}" for name in _PRODUCT_COLUMNS_UNREAD),
    *(f"product__parent__{name}" for name in _PRODUCT_COLUMNS_UNREAD),
)


def _lines_query(basket_id: int, now: datetime):
    from shop.catalogue.selectors import first_picture

    return (
        get_model("basket", "Line")
        .objects.filter(basket_id=basket_id)
        .select_related(
            "product__product_class",
            "product__parent__product_class",
            "stockrecord__partner",
        )
        .defer(*_UNREAD_PRODUCT_FIELDS)
        .annotate(
            picture=Coalesce(first_picture("product_id"), first_picture("product__parent_id")),
            basket_has_vouchers=Exists(
                Basket.vouchers.through.objects.filter(basket_id=OuterRef("basket_id"))
            ),
            site_offers_active=Exists(site_offers_query(now)),
            attribute_rows=_line_attributes(),
        )
        .order_by("pk")
    )


def _attribute_columns() -> tuple[list[str], list[str]]:
    """The columns of a line attribute and of its option, in their models' field order."""
    attribute, option = get_model("basket", "LineAttribute"), get_model("catalogue", "Option")
    return (
        [field.attname for field in attribute._meta.concrete_fields],
        [field.attname for field in option._meta.concrete_fields],
    )


def _line_attributes() -> ArraySubquery:
    """A line's attributes, each with its option, as an array of JSON rows (attribute_from_row
    makes them model instances): read with the lines, a round trip fewer on every basket read
    than reading them apart. Every column is a JSON number, string, boolean or null, or the
    value itself (JSON): read back as the ORM reads it (tests/basket/test_precompiled.py)."""
    attribute = get_model("basket", "LineAttribute")
    own, option = _attribute_columns()
    row = JSONArray(*own, *(f"option__{name}" for name in option))
    return ArraySubquery(
        attribute.objects.filter(line_id=OuterRef("pk")).order_by("pk").values(row=row)
    )


def attribute_from_row(row: list, options: dict[int, Any]):
    """A line attribute and its option (one instance per option in `options`) from a row of
    _line_attributes."""
    attribute, option = get_model("basket", "LineAttribute"), get_model("catalogue", "Option")
    width = len(attribute._meta.concrete_fields)
    instance = attribute.from_db(DEFAULT_DB_ALIAS, None, row[:width])
    option_id = instance.option_id
    if option_id not in options:
        options[option_id] = option.from_db(DEFAULT_DB_ALIAS, None, row[width:])
    instance.option = options[option_id]
    return instance


# What makes a basket a visitor's (their cookie names it): open, and no one's; the same said
# of a line's basket.
OPEN_ANONYMOUS = {"owner": None, "status": Basket.OPEN}
IN_OPEN_ANONYMOUS = {f"basket__{name}": value for name, value in OPEN_ANONYMOUS.items()}


def _open_anonymous_lines_query(basket_id: int, now: datetime):
    """LINES of the open anonymous basket `basket_id`, each with the basket."""
    return _lines_query(basket_id, now).filter(**IN_OPEN_ANONYMOUS).select_related("basket")


LINES = Precompiled(_lines_query, BASKET_ID, NOW)
OPEN_ANONYMOUS_LINES = Precompiled(_open_anonymous_lines_query, BASKET_ID, NOW)
OPEN_ANONYMOUS_BASKET = Precompiled(
    lambda pk: Basket.objects.filter(pk=pk, **OPEN_ANONYMOUS), BASKET_ID
)


# The personalization offers of the lines' products (shop.personalization.selectors reads
# them, and picks among them) with their active values joined, one statement compiled once
# per number of products and of product classes, read as plain rows: making the 7 offers and
# 21 values of a 3-line basket model instances, only to be turned into views, was ~6% of the
# basket page, and reading the values in a second statement another round trip.
_OFFER_QUERIES: dict[tuple[int, int], PrecompiledRows] = {}


def _offers_query(products: int, classes: int) -> PrecompiledRows:
    from shop.personalization.selectors import (
        ACTIVE_VALUES_ORDER,
        OFFER_FIELDS,
        VALUE_FIELDS,
        active_values_relation,
        bases_offers_query,
    )

    query = _OFFER_QUERIES.get((products, classes))
    if query is None:
        markers = [BASKET_ID - n for n in range(1, products + classes + 1)]
        value_fields = [f"active_values__{name}" for name in ("pk", *VALUE_FIELDS[1:])]

        def offers(*ids):
            return (
                bases_offers_query(product_ids=ids[:products], product_class_ids=ids[products:])
                .annotate(active_values=active_values_relation())
                .order_by("kind", "pk", *ACTIVE_VALUES_ORDER)
                .values_list(*OFFER_FIELDS, *value_fields)
            )

        query = _OFFER_QUERIES[(products, classes)] = PrecompiledRows(offers, *markers)
    return query


def read_personalization_offers(product_ids, product_class_ids) -> list[SimpleNamespace]:
    """shop.personalization.selectors.OfferRowsReader: the offers with their active values,
    as plain objects of OFFER_FIELDS and VALUE_FIELDS, in one statement compiled once (a row
    per offer and value, the values in their order). The same rows give the same objects
    again (kept per process; their views, built once, with them): only what the rows say
    makes them, so a change of an offer or value is a change of the rows."""
    from shop.personalization.selectors import OFFER_FIELDS, VALUE_FIELDS

    query = _offers_query(len(product_ids), len(product_class_ids))
    rows = tuple(query.run(*product_ids, *product_class_ids))
    kept = _OFFERS_BY_ROWS.get(rows)
    if kept is not None:
        return kept
    offers: dict[int, SimpleNamespace] = {}
    width = len(OFFER_FIELDS)
    for row in rows:
        offer = offers.get(row[0])
        if offer is None:
            fields = dict(zip(OFFER_FIELDS, row[:width], strict=True))
            offer = offers[row[0]] = SimpleNamespace(**fields, active_values=[])
        if row[width] is not None:  # the value's id: None when the offer has none active
            value = dict(zip(VALUE_FIELDS[1:], row[width + 1 :], strict=True))
            offer.active_values.append(SimpleNamespace(offer_id=offer.pk, **value))
    if len(_OFFERS_BY_ROWS) >= _OFFERS_KEPT:
        _OFFERS_BY_ROWS.clear()
    kept = _OFFERS_BY_ROWS[rows] = list(offers.values())
    return kept


_OFFERS_BY_ROWS: dict[tuple, list[SimpleNamespace]] = {}
_OFFERS_KEPT = 2048  # sets of rows (a few KB each); all forgotten when full


def prefetched(instance, name: str, objects: list) -> None:
    """Mark the related manager `name` of `instance` as prefetched with `objects`, as
    prefetch_related does: reading it costs no query."""
    relation = instance._meta.get_field(name)
    if relation.one_to_many and relation.field.target_field.primary_key:
        queryset = _reverse_queryset(instance, relation)
    else:
        queryset = getattr(instance, name).all()
    queryset._result_cache = objects
    queryset._prefetch_done = True
    instance.__dict__.setdefault("_prefetched_objects_cache", {})[name] = queryset


def _reverse_queryset(instance, relation):
    """What `instance.<relation>.all()` gives for a foreign key to instance's primary key
    (Django's related manager's queryset: the instance's rows, the filter deferred until a
    copy is made, the instance known to the rows), made directly: building the manager and
    cloning its queryset for each line cost ~1.5% of the basket page (callgrind).
    tests/basket/test_precompiled.py holds the two equal."""
    field = relation.field
    queryset = relation.related_model._default_manager.get_queryset()
    queryset._add_hints(instance=instance)
    queryset._deferred_filter = (False, (), {field.name: instance})
    queryset._known_related_objects = {field: {instance.pk: instance}}
    return queryset


from oscar.apps.basket.models import *  # noqa: E402,F403
