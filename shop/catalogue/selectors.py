"""Catalogue reads: browsing, filtering and search run in the database (no search index)."""

from functools import reduce
from operator import and_

from django.db.models import Min, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce

from shop.catalogue.models import AttributeOption, Category, Product, ProductAttributeValue

# Attribute codes of the leather-goods product class (see fixtures/catalogue.json).
FILTER_ATTRIBUTES = {"tanning": "tanning_method", "certification": "certification", "line": "line"}
SORTS = {
    "featured": ("-is_evergreen", "-date_created", "pk"),
    "newest": ("-date_created", "pk"),
    "price-asc": ("from_price", "pk"),
    "price-desc": ("-from_price", "pk"),
    "name": ("title", "pk"),
}
MAX_QUERY_TERMS = 8


def filter_options() -> dict[str, list[str]]:
    """The option values shoppers can filter on, per filter key, in display order."""
    codes = {code: key for key, code in FILTER_ATTRIBUTES.items()}
    options: dict[str, list[str]] = {key: [] for key in FILTER_ATTRIBUTES}
    rows = (
        AttributeOption.objects.filter(
            group__product_attributes__code__in=codes.keys(),
        )
        .values_list("group__product_attributes__code", "option")
        .order_by("group__product_attributes__code", "pk")
        .distinct()
    )
    for code, option in rows:
        if option not in options[codes[code]]:
            options[codes[code]].append(option)
    return options


def _card_queryset() -> QuerySet:
    """Everything a product card shows, fetched in a fixed number of queries."""
    public_children = Product.objects.filter(is_public=True).prefetch_related("stockrecords")
    evergreen = ProductAttributeValue.objects.filter(
        attribute__code="line", value_option__option="Evergreen"
    )
    return (
        Product.objects.browsable()
        .select_related("product_class")
        .prefetch_related(
            "images",
            "stockrecords",
            Prefetch("children", queryset=public_children, to_attr="_prefetched_public_children"),
        )
        .annotate(
            from_price=Coalesce(Min("stockrecords__price"), Min("children__stockrecords__price")),
            is_evergreen=Q(pk__in=evergreen.values("product_id")),
        )
    )


def product_list(
    *,
    category: Category | None = None,
    filters: dict[str, str] | None = None,
    query: str = "",
    sort: str = "featured",
) -> QuerySet:
    """Browsable products, optionally in a category (and its subcategories), filtered,
    matched against a search query, and sorted."""
    qs = _card_queryset()
    if category is not None:
        qs = qs.filter(categories__in=category.get_descendants_and_self()).distinct()
    for key, value in (filters or {}).items():
        if not value:
            continue
        code = FILTER_ATTRIBUTES[key]
        matching = ProductAttributeValue.objects.filter(
            attribute__code=code, value_option__option=value
        ).values("product_id")
        qs = qs.filter(pk__in=matching)
    terms = query.split()[:MAX_QUERY_TERMS]
    if terms:
        qs = qs.filter(reduce(and_, (_term_filter(term) for term in terms))).distinct()
    return qs.order_by(*SORTS.get(sort, SORTS["featured"]))


def _term_filter(term: str) -> Q:
    return (
        Q(title__icontains=term)
        | Q(description__icontains=term)
        | Q(upc__iexact=term)
        | Q(categories__name__icontains=term)
        | Q(children__title__icontains=term)
    )


def evergreen_highlights(*, limit: int = 8) -> QuerySet:
    return product_list(filters={"line": "Evergreen"}, sort="featured")[:limit]


def menu_categories() -> QuerySet:
    return Category.objects.browsable().filter(depth=1).order_by("path")
