"""Catalogue reads: browsing, filtering and search run in PostgreSQL (full-text search with
trigram typo tolerance: shop.catalogue.search)."""

from functools import reduce
from operator import and_, or_

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from shop.catalogue import search
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
    # The lowest price of the product's own stock, else of its variants': correlated
    # subqueries on indexed columns, not a GROUP BY over the joined result, so a page costs
    # the rows it sorts (PostgreSQL computes them after the LIMIT unless sorting by price).
    stock = Product._meta.get_field("stockrecords").related_model.objects.order_by("price")
    own_price = stock.filter(product_id=OuterRef("pk")).values("price")[:1]
    variant_price = stock.filter(product__parent_id=OuterRef("pk")).values("price")[:1]
    return (
        Product.objects.browsable()
        .select_related("product_class")
        .prefetch_related(
            "images",
            "stockrecords",
            Prefetch("children", queryset=public_children, to_attr="_prefetched_public_children"),
        )
        .annotate(
            from_price=Coalesce(Subquery(own_price), Subquery(variant_price)),
            is_evergreen=Q(pk__in=evergreen.values("product_id")),
        )
    )


def product_list(
    *,
    category: Category | None = None,
    filters: dict[str, str] | None = None,
    query: str = "",
    sort: str = "featured",
    plan: search.SearchPlan | None = None,
) -> QuerySet:
    """Browsable products, optionally in a category (and its subcategories), filtered,
    matched against a search query (best matches first, then ``sort``), and sorted. Pass the
    ``plan`` of ``search_plan(query)`` when the caller has it (one query fewer)."""
    qs = _filtered(_card_queryset(), category=category, filters=filters)
    order = SORTS.get(sort, SORTS["featured"])
    if plan is None and query:
        plan = search_plan(query)
    if plan is not None and plan.terms:
        tsquery = _tsquery(plan)
        qs = qs.filter(search_vector=tsquery).annotate(
            relevance=SearchRank(F("search_vector"), tsquery, weights=search.RANK_WEIGHTS)
        )
        order = ("-relevance", *order)
    return qs.order_by(*order)


def _filtered(
    qs: QuerySet, *, category: Category | None, filters: dict[str, str] | None
) -> QuerySet:
    if category is not None:
        in_category = Product.categories.through.objects.filter(
            category__in=category.get_descendants_and_self()
        ).values("product_id")
        qs = qs.filter(pk__in=in_category)
    for key, value in (filters or {}).items():
        if not value:
            continue
        code = FILTER_ATTRIBUTES[key]
        matching = ProductAttributeValue.objects.filter(
            attribute__code=code, value_option__option=value
        ).values("product_id")
        qs = qs.filter(pk__in=matching)
    return qs


def _tsquery(plan: search.SearchPlan) -> SearchQuery:
    """AND of the plan's groups, each an OR of its phrases (plainto_tsquery: no syntax)."""
    return reduce(
        and_,
        (
            reduce(or_, (SearchQuery(p, config=search.CONFIG) for p in group))
            for group in plan.groups
        ),
    )


def search_plan(query: str) -> search.SearchPlan:
    """What ``query`` searches for, each word not in the vocabulary read as the nearest one
    that is (trigram similarity; one indexed query, none for an empty query)."""
    terms = search.query_terms(query)
    corrections = _nearest_words(terms, search.CORRECTION_SIMILARITY) if terms else {}
    return search.plan(terms, corrections)


def _nearest_words(terms: list[str], similarity: float) -> dict[str, str]:
    """term -> the known word most like it (itself if known), for those with one at least
    ``similarity`` alike: one statement, the trigram GiST index walking the nearest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.term, w.word
            FROM unnest(%s::text[]) AS t(term)
            CROSS JOIN LATERAL (
                SELECT s.word, similarity(s.word, t.term) AS alike
                FROM catalogue_searchword s
                ORDER BY s.word <-> t.term
                LIMIT 1
            ) AS w
            WHERE w.alike >= %s
            """,
            [list(dict.fromkeys(terms)), similarity],
        )
        return dict(cursor.fetchall())


def did_you_mean(plan: search.SearchPlan, **listing) -> str:
    """For a search that found nothing: the query with each word read as the nearest known
    one (more loosely than the search does) and words like none left out, when that finds
    something; "" otherwise. ``listing``: the category and filters of the search."""
    if not plan.terms:
        return ""
    nearest = _nearest_words(list(plan.terms), search.SUGGESTION_SIMILARITY)
    words = tuple(dict.fromkeys(nearest[term] for term in plan.terms if term in nearest))
    if not words or words in (plan.terms, plan.corrected):
        return ""
    suggestion = " ".join(words)
    found = product_list(query=suggestion, **listing).exists()
    return suggestion if found else ""


def filter_counts(
    *,
    category: Category | None = None,
    filters: dict[str, str] | None = None,
    plan: search.SearchPlan | None = None,
) -> dict[str, dict[str, int]]:
    """For each filter, how many products of the current result each of its values would
    leave: the result under the other filters (a value of the same filter replaces the
    chosen one). One query for all filters."""
    filters = {k: v for k, v in (filters or {}).items() if v}
    base = _filtered(Product.objects.browsable(), category=category, filters=None)
    if plan is not None and plan.terms:
        base = base.filter(search_vector=_tsquery(plan))
    keys = {code: key for key, code in FILTER_ATTRIBUTES.items()}
    rows = ProductAttributeValue.objects.filter(
        attribute__code__in=keys, product__in=base.values("pk")
    )
    for key, value in filters.items():  # a row counts if its product meets the other filters
        meets = _filtered(Product.objects.all(), category=None, filters={key: value})
        rows = rows.filter(
            Q(attribute__code=FILTER_ATTRIBUTES[key]) | Q(product__in=meets.values("pk"))
        )
    counts: dict[str, dict[str, int]] = {key: {} for key in FILTER_ATTRIBUTES}
    for code, option, n in (
        rows.values_list("attribute__code", "value_option__option")
        .annotate(n=Count("product_id", distinct=True))
        .order_by()
    ):
        counts[keys[code]][option] = n
    return counts


def evergreen_highlights(*, limit: int = 8) -> QuerySet:
    return product_list(filters={"line": "Evergreen"}, sort="featured")[:limit]


def menu_categories() -> QuerySet:
    return Category.objects.browsable().filter(depth=1).order_by("path")
