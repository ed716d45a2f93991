"""Catalogue reads: browsing, filtering and search run in PostgreSQL (full-text search with
trigram typo tolerance: shop.catalogue.search)."""

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property, reduce
from operator import and_, or_
from typing import Any, TypeVar

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    DecimalField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.expressions import RawSQL
from django.urls import reverse
from psycopg.types.json import Jsonb

from shop.catalogue import search
from shop.catalogue.models import (
    EVERGREEN_FACETS,
    AttributeOption,
    Category,
    Product,
    ProductAttributeValue,
    ProductImage,
)
from shop.common import cache_writes
from shop.common.kept import Kept, Recent

# Attribute codes of the leather-goods product class (see fixtures/catalogue.json).
FILTER_ATTRIBUTES = {"tanning": "tanning_method", "certification": "certification", "line": "line"}
SORTS = {
    "featured": ("-is_evergreen", "-date_created", "pk"),
    "newest": ("-date_created", "pk"),
    "price-asc": ("from_price", "pk"),
    "price-desc": ("-from_price", "pk"),
    "name": ("title", "pk"),
}


logger = logging.getLogger(__name__)
T = TypeVar("T")

# --- the listing version -------------------------------------------------------------------
# Moves whenever what a listing filters, sorts, counts or corrects words against changes: each
# refresh of listing facts and search documents that changed a product, each change of a
# filter's options (services.listing_version_bump). What is derived from those alone (filter
# options, counts beside the filters, typo corrections) is cached under it.
LISTING_VERSION_KEY = "catalogue:listing-version"
LISTING_MEMO_SECONDS = 600


# Each process reads the version at most once a LISTING_VERSION_READ_SECONDS (a listing reads
# it up to three times): another process's bump is seen that much later, this process's own
# at once (services.listing_version_bump calls listing_version_seen).
LISTING_VERSION_READ_SECONDS = 1.0
_version_read = Recent(LISTING_VERSION_READ_SECONDS)


def listing_version() -> str:
    version = _version_read.get()
    if version is None:
        found = cache.get(LISTING_VERSION_KEY)
        if found is None:
            cache.add(LISTING_VERSION_KEY, str(time.time_ns()), timeout=None)
            found = cache.get(LISTING_VERSION_KEY)
        version = str(found)
        _version_read.seen(version)
    return version


def listing_version_seen(version: str | None) -> None:
    """This process set the version (or forgets what it read, and what it kept, with None)."""
    if version is None:
        _version_read.forget()
        _kept.clear()
    else:
        _version_read.seen(version)


# What this process read from the memo (a listing asks for its counts twice and the filter
# options on every page) and the typo corrections. Read-only values.
_kept = Kept(entries=512)


def _memo(name: str, parts: Any, compute: Callable[[], T]) -> T:
    """``compute()``, kept under the listing version (in the cache, and in this process once
    read); a cache that does not answer is logged and the value computed (a listing never
    fails because Redis is down)."""
    try:
        key = f"mv-listing:{listing_version()}:{name}:{_digest(repr(parts))}"
        found = _kept.read([key], cache).get(key)
        if found is not None:
            return found
    except Exception:  # the cache backend's own errors (redis.ConnectionError...)
        logger.warning("listing memo: cache unavailable", exc_info=True)
        return compute()
    found = compute()
    try:
        cache_writes.set_many({key: found}, timeout=LISTING_MEMO_SECONDS)
    except Exception:
        logger.warning("listing memo: cache unavailable", exc_info=True)
        return found
    _kept.update({key: found})
    return found


def _digest(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def filter_options() -> dict[str, list[str]]:
    """The option values shoppers can filter on, per filter key, in display order."""
    return _memo("options", (), _filter_options)


def _filter_options() -> dict[str, list[str]]:
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


def _listing(
    *,
    category: Category | None = None,
    filters: dict[str, str] | None = None,
    plan: search.SearchPlan | None = None,
    sort: str | None = "featured",
) -> QuerySet:
    """The browsable products of a listing, filtered, matched and sorted on the product row's
    own listing facts and search document (Product's docstring: no join per request)."""
    qs = Product.objects.browsable()
    if category is not None:
        qs = qs.filter(listing_categories__contains=[category.pk])
    chosen = {FILTER_ATTRIBUTES[key]: value for key, value in (filters or {}).items() if value}
    if chosen:
        qs = qs.filter(listing_facets__contains=chosen)
    if sort is None:
        order: tuple = ()
    else:
        qs = qs.annotate(from_price=F("listing_price"), is_evergreen=_IS_EVERGREEN)
        order = SORTS.get(sort, SORTS["featured"])
    if plan is not None and plan.terms:
        tsquery = _tsquery(plan)
        qs = qs.filter(search_vector=tsquery)
        if sort is not None:
            qs = qs.annotate(
                relevance=SearchRank(F("search_vector"), tsquery, weights=search.RANK_WEIGHTS)
            )
            order = ("-relevance", *order)
    return qs.order_by(*order)


_IS_EVERGREEN = Q(listing_facets__contains=EVERGREEN_FACETS)


def _with_cards(qs: QuerySet) -> QuerySet:
    """Everything a product card shows besides the listing facts, in a fixed number of
    queries."""
    public_children = Product.objects.filter(is_public=True).prefetch_related("stockrecords")
    return qs.select_related("product_class").prefetch_related(
        "images",
        "stockrecords",
        Prefetch("children", queryset=public_children, to_attr="_prefetched_public_children"),
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
    matched against a search query (best matches first, then ``sort``), and sorted, ready for
    their cards. Pass the ``plan`` of ``search_plan(query)`` when the caller has it (one query
    fewer)."""
    if plan is None and query:
        plan = search_plan(query)
    return _with_cards(_listing(category=category, filters=filters, plan=plan, sort=sort))


def listing_page(
    *,
    offset: int,
    limit: int,
    category: Category | None = None,
    filters: dict[str, str] | None = None,
    sort: str = "featured",
    plan: search.SearchPlan | None = None,
) -> tuple[list[int], int]:
    """The ids of one page of a listing (``product_list``'s order) and how many products the
    whole listing has. The count comes with the filter counts (``listing_count``: one memo,
    one statement on a miss), so the page's statement stops after its rows: on a large
    category it walks the sort's index (Product's Meta) instead of sorting them all."""
    chosen = {FILTER_ATTRIBUTES[key]: value for key, value in (filters or {}).items() if value}
    groups = _groups(plan)
    page: dict[str, list[int]] = {}
    if groups:  # counts not kept yet: read with the page, over one scan of the matches

        def facts_and_page() -> tuple[dict[str, dict[str, int]], int]:
            counts, total, page["ids"] = _search_facts_and_page(
                category, chosen, groups, sort, limit=limit, offset=offset
            )
            return counts, total

        total = _listing_facts(category, filters, plan, compute=facts_and_page)[1]
        if "ids" in page:
            return page["ids"], total
    else:
        total = listing_count(category=category, filters=filters, plan=plan)
    if offset >= total:
        return [], total
    sql, params = _page_statement(category is not None, bool(chosen), groups, sort)
    with connection.cursor() as cursor:
        cursor.execute(sql, _bound(params, category, chosen, groups) + [limit, offset])
        return [row[0] for row in cursor.fetchall()], total


def _groups(plan: search.SearchPlan | None) -> tuple[tuple[str, ...], ...]:
    return plan.groups if plan is not None and plan.terms else ()


def _bound(
    params: tuple, category: Category | None, chosen: dict[str, str], groups: tuple
) -> list[Any]:
    """A compiled statement's parameters with this listing's values where its marks are."""
    values: dict[Any, Any] = {_CATEGORY_MARK: getattr(category, "pk", None)}
    values[_FACETS_MARK] = Jsonb(chosen)
    for g, group in enumerate(groups):
        values.update({_phrase_mark(g, i): phrase for i, phrase in enumerate(group)})
    return [values.get(_mark_of(p), p) for p in params]


# A page's statement is compiled from _listing once per shape (in a category or not, filtered
# or not, the number of phrases in each search group, the sort), with marks where a request's
# values go: compiling the queryset cost about as much as running it. Tests hold the two equal.
_CATEGORY_MARK = -918273645
_FACETS_MARK = "\x00facets"  # NUL: no value a shopper sends (PostgreSQL refuses it in text)
_page_statements: dict[tuple, tuple[str, tuple]] = {}


def _phrase_mark(group: int, phrase: int) -> str:
    return f"\x00{group}.{phrase}"


def _mark_of(param: Any) -> Any:
    """The mark a compiled parameter holds (Django wraps values: Int4, Jsonb), else None."""
    if isinstance(param, Jsonb):
        return _FACETS_MARK if _FACETS_MARK in param.obj.values() else None
    if isinstance(param, str):
        return param if param.startswith("\x00") else None
    return _CATEGORY_MARK if isinstance(param, int) and param == _CATEGORY_MARK else None


def _page_statement(
    in_category: bool, filtered: bool, groups: tuple[tuple[str, ...], ...], sort: str
) -> tuple[str, tuple]:
    """The SQL and compiled parameters of a listing page's ids (LIMIT and OFFSET last)."""
    sort = sort if sort in SORTS else "featured"
    shape = (in_category, filtered, tuple(len(group) for group in groups), sort)
    found = _page_statements.get(shape)
    if found is None and in_category and not groups:
        found = _page_statements[shape] = _category_page_statement(filtered, sort)
    if found is None:
        listing = _marked_listing(in_category, filtered, groups, sort)
        sql, params = listing.values_list("pk", flat=True).query.sql_with_params()
        found = _page_statements[shape] = (f"{sql} LIMIT %s OFFSET %s", tuple(params))
    return found


def _marked_listing(
    in_category: bool, filtered: bool, groups: tuple[tuple[str, ...], ...], sort: str | None
) -> QuerySet:
    """_listing of this shape with marks where a listing's values go (_bound puts them in)."""
    marked = tuple(
        tuple(_phrase_mark(g, i) for i in range(len(group))) for g, group in enumerate(groups)
    )
    return _listing(
        category=Category(pk=_CATEGORY_MARK) if in_category else None,
        filters={"line": _FACETS_MARK} if filtered else None,
        plan=search.SearchPlan(terms=("mark",), corrected=("mark",), groups=marked)
        if groups
        else None,
        sort=sort,
    )


# The listing facts' base statement (the listing's facets, unfiltered, unsorted): compiled
# once per shape too (in a category or not, the phrases per search group).
_facts_bases: dict[tuple, tuple[str, tuple]] = {}


def _facts_base(in_category: bool, groups: tuple[tuple[str, ...], ...]) -> tuple[str, tuple]:
    shape = (in_category, tuple(len(group) for group in groups))
    found = _facts_bases.get(shape)
    if found is None:
        base = _marked_listing(in_category, False, groups, None).values("listing_facets")
        sql, params = base.query.sql_with_params()
        found = _facts_bases[shape] = (sql, tuple(params))
    return found


# A category page without search words reads the category's listing entries
# (models.ListingEntry), walking the index of its sort: the same products in the same order as
# _listing (tests hold the two equal), the product row telling whether it is browsable now.
def _order_sql(sort: str, columns: dict[str, str]) -> str:
    """SORTS[sort] as an ORDER BY over ``columns`` (each sort key's column there), in the
    directions SORTS gives: the one place the sorts are written."""
    return ", ".join(
        f"{columns[key[1:]]} DESC" if key.startswith("-") else columns[key] for key in SORTS[sort]
    )


_ENTRY_COLUMNS = {
    "is_evergreen": "e.is_evergreen",
    "date_created": "e.date_created",
    "from_price": "e.price",
    "title": "e.title",
    "pk": "e.product_id",
}


def _category_page_statement(filtered: bool, sort: str) -> tuple[str, tuple]:
    facets = " AND e.facets @> %s" if filtered else ""
    sql = (
        "SELECT e.product_id FROM catalogue_listingentry e"
        " JOIN catalogue_product p ON p.id = e.product_id"
        f" WHERE e.category_id = %s AND p.parent_id IS NULL AND p.is_public{facets}"
        f" ORDER BY {_order_sql(sort, _ENTRY_COLUMNS)} LIMIT %s OFFSET %s"
    )
    params = (_CATEGORY_MARK, Jsonb({"line": _FACETS_MARK})) if filtered else (_CATEGORY_MARK,)
    return sql, params


def listing_count(
    *,
    category: Category | None = None,
    filters: dict[str, str] | None = None,
    plan: search.SearchPlan | None = None,
) -> int:
    """How many products the listing has (kept with its filter counts, under the listing
    version)."""
    return _listing_facts(category, filters, plan)[1]


# A product's price on listings: the lowest of its own stock records, else of its variants'.
# The refresh writes it into listing_price (services._REFRESH_SQL, the product aliased p); a
# card reads it as it is now (card_products, card_rows). One rule, in SQL, for both.
LISTING_PRICE_SQL = """
    coalesce((SELECT min(s.price) FROM partner_stockrecord s WHERE s.product_id = {product}.id),
             (SELECT min(s.price) FROM partner_stockrecord s
              JOIN catalogue_product k ON k.id = s.product_id WHERE k.parent_id = {product}.id))
"""


def _live_price() -> RawSQL:
    return RawSQL(
        LISTING_PRICE_SQL.format(product='"catalogue_product"'),
        (),
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )


def _is_evergreen_now() -> Exists:
    """Whether the product is an Evergreen piece by its attribute values as they are now (the
    listing facts say the same once refreshed: EVERGREEN_FACETS)."""
    ((code, option),) = EVERGREEN_FACETS.items()
    return Exists(
        ProductAttributeValue.objects.filter(
            product_id=OuterRef("pk"), attribute__code=code, value_option__option=option
        )
    )


def first_picture(product_ref: str = "pk") -> Subquery:
    """The file of the first image, by display order, of the product ``product_ref`` names
    (an outer reference): Oscar's ``product.images.all.0``."""
    first = ProductImage.objects.filter(product_id=OuterRef(product_ref))
    return Subquery(first.order_by("display_order", "pk").values("original")[:1])


def card_products(ids: list[int]) -> list[Product]:
    """The products with these ids, ready for their cards, in the order of ``ids``: their
    price and line read from their stock records and attributes as they are now (a card is
    cached under the catalogue version, which a price change moves at once; the listing facts
    follow when the refresh has run)."""
    found = _with_cards(
        Product.objects.browsable().annotate(
            from_price=_live_price(), is_evergreen=_is_evergreen_now()
        )
    ).in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


@dataclass
class Card:
    """What a listing's product card shows, read as plain values: the attributes the card
    template reads of a product (``get_absolute_url``, ``get_title``, ``is_parent``,
    ``from_price``, ``is_evergreen``), its first picture's file name and, once the renderer
    has looked it up, that picture's card-size thumbnail."""

    pk: int
    title: str
    slug: str
    structure: str
    from_price: Decimal | None
    is_evergreen: bool
    picture: str  # the first image's file name; "" when it has none
    thumb: dict[str, Any] | None = None  # {"url", "width", "height"}

    @cached_property
    def url(self) -> str:
        return reverse("catalogue:detail", kwargs={"product_slug": self.slug, "pk": self.pk})

    def get_absolute_url(self) -> str:  # twice per card
        return self.url

    def get_title(self) -> str:
        return self.title

    @property
    def is_parent(self) -> bool:
        return self.structure == Product.PARENT


def _card_rows_query(ids) -> QuerySet:
    """card_rows' rows: `ids` an expression giving the ids (the ORM's `pk__in`)."""
    return (
        Product.objects.browsable()
        .filter(pk__in=ids)
        .annotate(
            from_price=_live_price(),
            is_evergreen=_is_evergreen_now(),
            picture=first_picture(),
        )
        .values_list("pk", "title", "slug", "structure", "from_price", "is_evergreen", "picture")
    )


# card_rows' statement, compiled once per process: its ids go in one array parameter, so the
# SQL is the same for any number of them (compiling the queryset, with its price, line and
# picture subqueries, was 8% of a search rendered at 18,000 products whose cards were new).
_CARD_IDS = RawSQL("SELECT unnest(%s::integer[])", ([-918273645],))
_card_rows_compiled: tuple[str, tuple, int] | None = None


def _card_rows_statement() -> tuple[str, tuple, int]:
    global _card_rows_compiled
    if _card_rows_compiled is None:
        sql, params = _card_rows_query(_CARD_IDS).query.sql_with_params()
        (position,) = (i for i, p in enumerate(params) if p is _CARD_IDS.params[0])
        _card_rows_compiled = (sql, tuple(params), position)
    return _card_rows_compiled


def card_rows(ids: list[int]) -> list[Card]:
    """The cards of the browsable products with these ids, in the order of ``ids``, in one
    statement: the same live price and line as ``card_products``, and the first picture by
    display order (Oscar's ``product.images.all.0``)."""
    sql, params, position = _card_rows_statement()
    bound = list(params)
    bound[position] = list(ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, bound)
        rows = cursor.fetchall()
    found = {row[0]: Card(*row[:6], picture=row[6] or "") for row in rows}
    return [found[pk] for pk in ids if pk in found]


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
    corrections = _corrections(terms) if terms else {}
    return search.plan(terms, corrections)


def _corrections(terms: list[str]) -> dict[str, str]:
    """_nearest_words at CORRECTION_SIMILARITY, each word's answer kept under the listing
    version, in the cache and in this process once read (shoppers' words repeat: only words
    not seen since the vocabulary last changed cost a query). A word with no near one is kept
    as ""."""
    words = list(dict.fromkeys(terms))
    try:
        version = listing_version()
        keys = {w: f"mv-listing:{version}:word:{_digest(w)}" for w in words}
        known = _kept.read(list(keys.values()), cache)
    except Exception:
        logger.warning("listing memo: cache unavailable", exc_info=True)
        return _nearest_words(words, search.CORRECTION_SIMILARITY)
    found = {w: known[keys[w]] for w in words if keys[w] in known}
    missing = [w for w in words if w not in found]
    if missing:
        nearest = _nearest_words(missing, search.CORRECTION_SIMILARITY)
        fresh = {w: nearest.get(w, "") for w in missing}
        found.update(fresh)
        try:
            cache_writes.set_many(
                {keys[w]: v for w, v in fresh.items()}, timeout=LISTING_MEMO_SECONDS
            )
        except Exception:
            logger.warning("listing memo: cache unavailable", exc_info=True)
        else:  # kept here too: the cache has them only once the request ends
            _kept.update({keys[w]: v for w, v in fresh.items()})
    return {w: v for w, v in found.items() if v}


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
    something; "" otherwise. ``listing``: the category and filters of the search. Kept under
    the listing version, like the typo corrections: it reads only words and products."""
    if not plan.terms:
        return ""
    category, filters = listing.get("category"), listing.get("filters") or {}
    parts = (plan.terms, getattr(category, "pk", None), sorted(filters.items()))
    return _memo("suggestion", parts, lambda: _suggestion(plan, **listing))


def _suggestion(plan: search.SearchPlan, **listing) -> str:
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
    chosen one)."""
    return _listing_facts(category, filters, plan)[0]


def _listing_facts(
    category: Category | None,
    filters: dict[str, str] | None,
    plan: search.SearchPlan | None,
    compute: Callable[[], tuple[dict[str, dict[str, int]], int]] | None = None,
) -> tuple[dict[str, dict[str, int]], int]:
    """A listing's filter counts and its own count, kept under the listing version (made by
    ``compute`` when given and not kept yet: the same counts, read with a page)."""
    chosen = {FILTER_ATTRIBUTES[key]: value for key, value in (filters or {}).items() if value}
    return _memo(
        "facts",
        (getattr(category, "pk", None), sorted(chosen.items()), plan and plan.groups),
        compute or (lambda: _count_facts(category, chosen, plan)),
    )


def _count_facts(
    category: Category | None, chosen: dict[str, str], plan: search.SearchPlan | None
) -> tuple[dict[str, dict[str, int]], int]:
    """One statement over the listing facts of the listing without its filters: each filter's
    values counted where the product meets the chosen filters other than that one, and the
    products that meet them all. Each product's three values are read out of its facets once
    (a facet holds one value per attribute), then counted per filter."""
    groups = _groups(plan)
    base_sql, marked_params = _facts_base(category is not None, groups)
    base_params = _bound(marked_params, category, chosen, groups)
    counts_sql, counts_params = _facts_counts(chosen, "")
    columns = ", ".join(f"b.facets ->> %s AS v{i}" for i in range(len(_CODES)))
    statement = f"""
        WITH b (facets) AS ({base_sql}),
             f AS MATERIALIZED (SELECT {columns} FROM b)
        {counts_sql}
    """
    with connection.cursor() as cursor:
        cursor.execute(statement, [*base_params, *_CODES, *counts_params])
        return _facts_of(cursor.fetchall())


_CODES = list(FILTER_ATTRIBUTES.values())


def _facts_counts(chosen: dict[str, str], extra: str) -> tuple[str, list[str]]:
    """The counts over f (v0, v1, v2: each product's filter values) in one pass: each filter's
    values where the other chosen filters are met (grouping set (v_i)), then the products that
    meet them all (the empty set); ``extra`` columns added to each row. A value none of those
    products has is left out, as is a product without the attribute. (Four scans of f, one per
    count, cost a broad search at 18,000 products ~12 of its ~48 ms.)"""
    chosen_at = [i for i, code in enumerate(_CODES) if code in chosen]

    def meets(others: list[int]) -> tuple[str, list[str]]:  # the chosen filters there
        sql = " AND ".join(f"v{i} = %s" for i in others) or "TRUE"
        return sql, [chosen[_CODES[i]] for i in others]

    values = ", ".join(f"v{i}" for i in range(len(_CODES)))
    everything = (1 << len(_CODES)) - 1  # GROUPING(): a bit per value not grouped on
    index_of, counts, params = [], [], []
    for i in range(len(_CODES)):
        grouped = everything ^ (1 << (len(_CODES) - 1 - i))
        sql, args = meets([j for j in chosen_at if j != i])
        index_of.append(f"WHEN {grouped} THEN {i}")
        counts.append(f"WHEN {grouped} THEN count(*) FILTER (WHERE {sql})")
        params += args
    sql, args = meets(chosen_at)
    counts.append(f"ELSE count(*) FILTER (WHERE {sql})")
    params += args
    statement = (
        f"SELECT i, v, n{extra} FROM ("
        f" SELECT CASE GROUPING({values}) {' '.join(index_of)} END AS i,"
        f" COALESCE({values}) AS v, CASE GROUPING({values}) {' '.join(counts)} END AS n"
        f" FROM f GROUP BY GROUPING SETS ({', '.join(f'(v{i})' for i in range(len(_CODES)))}, ())"
        f") counted WHERE i IS NULL OR (v IS NOT NULL AND n > 0)"
    )
    return statement, params


def _facts_of(rows) -> tuple[dict[str, dict[str, int]], int]:
    keys = {code: key for key, code in FILTER_ATTRIBUTES.items()}
    counts: dict[str, dict[str, int]] = {key: {} for key in FILTER_ATTRIBUTES}
    total = 0
    for index, option, n, *_ in rows:
        if index is None:
            total = n
        else:
            counts[keys[_CODES[index]]][option] = n
    return counts, total


# A search whose counts are not kept yet reads them and its page in one statement: the matches
# read once (a broad word matches most of the catalogue: at 18,000 products each scan cost
# ~18 ms), with the page's sort keys; compiled once per shape (in a category or not, the
# phrases per group, the sort). The page's order is _listing's (tests hold the two equal).
_MATCH_COLUMNS = {key: key for key in ("is_evergreen", "date_created", "from_price", "title", "pk")}
_search_statements: dict[tuple, tuple[str, tuple]] = {}


def _search_statement(
    in_category: bool, groups: tuple[tuple[str, ...], ...], sort: str
) -> tuple[str, tuple]:
    sort = sort if sort in SORTS else "featured"
    shape = (in_category, tuple(len(group) for group in groups), sort)
    found = _search_statements.get(shape)
    if found is None:
        matches = _marked_listing(in_category, False, groups, sort).order_by()
        sql, params = matches.values(
            "listing_facets", "relevance", *_MATCH_COLUMNS
        ).query.sql_with_params()
        found = _search_statements[shape] = (sql, tuple(params))
    return found


def _search_facts_and_page(
    category: Category | None,
    chosen: dict[str, str],
    groups: tuple[tuple[str, ...], ...],
    sort: str,
    *,
    limit: int,
    offset: int,
) -> tuple[dict[str, dict[str, int]], int, list[int]]:
    """The search's filter counts, its count and one page of its ids (filtered, sorted)."""
    sort = sort if sort in SORTS else "featured"
    matches_sql, marked = _search_statement(category is not None, groups, sort)
    counts_sql, counts_params = _facts_counts(chosen, ", NULL::int[]")
    values = ", ".join(f"m.listing_facets ->> %s AS v{i}" for i in range(len(_CODES)))
    keys = ", ".join(f"m.{column}" for column in ("relevance", *_MATCH_COLUMNS))
    meets = " AND ".join(f"v{_CODES.index(code)} = %s" for code in chosen) or "TRUE"
    order = f"relevance DESC, {_order_sql(sort, _MATCH_COLUMNS)}"
    # The matches' filter values are read out of their facets once, and the facets are not
    # kept: the rows stay narrow enough to stay in memory (with the facets, a broad search at
    # 18,000 products wrote them to a temporary file), and the page is filtered on the same
    # values the counts are.
    statement = f"""
        WITH f AS MATERIALIZED (SELECT {values}, {keys} FROM ({matches_sql}) m)
        {counts_sql}
        UNION ALL
        SELECT -1, NULL, NULL, (SELECT array_agg(q.pk ORDER BY {order}) FROM (
            SELECT * FROM f WHERE {meets} ORDER BY {order} LIMIT %s OFFSET %s
        ) q)
    """
    params = [
        *_CODES,
        *_bound(marked, category, chosen, groups),
        *counts_params,
        *chosen.values(),
        limit,
        offset,
    ]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    ids = next((row[3] or [] for row in rows if row[0] == -1), [])
    counts, total = _facts_of([row for row in rows if row[0] != -1])
    return counts, total, ids


def evergreen_highlights(*, limit: int = 8) -> QuerySet:
    return product_list(filters={"line": "Evergreen"}, sort="featured")[:limit]


def menu_categories() -> QuerySet:
    return Category.objects.browsable().filter(depth=1).order_by("path")
