from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from oscar.apps.catalogue.abstract_models import AbstractProduct

from shop.common.urls import reverse_once

BROWSABLE = models.Q(parent_id__isnull=True, is_public=True)
# The listing facts of an Evergreen piece contain this (the "line" attribute's option): the
# featured sort puts them first (shop.catalogue.selectors), through the index below.
EVERGREEN_FACETS = {"line": "Evergreen"}


class Product(AbstractProduct):
    """Oscar's product with its search document (shop.catalogue.search): title, category,
    attributes and colours, description, weighted A to D; and its listing facts, what a
    listing filters and sorts on in one table (no joins per request): the lowest price of its
    own stock or else of its variants', its filter attributes' options (attribute code ->
    option) and its categories with their ancestors. Both are marked dirty when anything they
    hold changes (shop.catalogue.receivers) and refreshed together by a task
    (services.search_refresh)."""

    search_vector = SearchVectorField(null=True, editable=False)
    search_dirty = models.BooleanField(default=True, editable=False)
    listing_price = models.DecimalField(max_digits=12, decimal_places=2, null=True, editable=False)
    listing_facets = models.JSONField(default=dict, editable=False)
    listing_categories = ArrayField(models.IntegerField(), default=list, editable=False)

    class Meta(AbstractProduct.Meta):
        indexes = [
            # Only browsable products are searched: at 20,000 products the planner then walks
            # this index instead of filtering every row (50 -> 29 ms for "leather wallets").
            GinIndex(
                fields=["search_vector"],
                name="product_search_browsable",
                condition=BROWSABLE,
            ),
            GinIndex(fields=["listing_categories"], name="product_listing_categories"),
            GinIndex(
                fields=["listing_facets"],
                name="product_listing_facets",
                opclasses=["jsonb_path_ops"],
            ),
            # A browsable listing's sorts (selectors.SORTS; "newest" walks Oscar's index on
            # date_created): a page of a large category is read by walking one of these and
            # stops after its rows, instead of sorting every product in the category (at
            # 18,000 products 20 ms -> 0.5-4 ms; price-desc up to 14 ms).
            models.Index(
                models.ExpressionWrapper(
                    models.Q(listing_facets__contains=EVERGREEN_FACETS),
                    output_field=models.BooleanField(),
                ).desc(),
                models.F("date_created").desc(),
                models.F("id"),
                name="product_browse_featured",
                condition=BROWSABLE,
            ),
            models.Index(
                fields=["listing_price", "id"], name="product_browse_price", condition=BROWSABLE
            ),
            models.Index(
                models.F("listing_price").desc(),
                models.F("id"),
                name="product_browse_price_desc",
                condition=BROWSABLE,
            ),
            models.Index(fields=["title", "id"], name="product_browse_title", condition=BROWSABLE),
            models.Index(
                fields=["search_dirty"],
                name="product_search_dirty",
                condition=models.Q(search_dirty=True),
            ),
        ]

    def get_absolute_url(self) -> str:
        """Oscar's address, worked out once per process (a basket page shows three)."""
        return reverse_once("catalogue:detail", kwargs={"product_slug": self.slug, "pk": self.id})


class ListingEntry(models.Model):
    """A product's place in the listing of one of its categories (each category of its listing
    facts: its own and their ancestors), with the sort keys copied from those facts. A category
    page walks the category's own index in the page's order and stops after its rows; walking
    the product table's sort index instead passed every product of other categories first (at
    18,000 products, Bags by price ascending skipped 12,680 rows). Kept for every product that
    is not a variant, written with its listing facts by the same refresh
    (services.search_refresh); whether it is browsable is read from the product itself."""

    category = models.ForeignKey("catalogue.Category", on_delete=models.CASCADE, related_name="+")
    product = models.ForeignKey("catalogue.Product", on_delete=models.CASCADE, related_name="+")
    is_evergreen = models.BooleanField()
    date_created = models.DateTimeField()
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True)
    title = models.CharField(max_length=255)
    facets = models.JSONField(default=dict)

    class Meta:
        app_label = "catalogue"
        constraints = [
            models.UniqueConstraint(fields=["product", "category"], name="listing_entry_unique")
        ]
        # One per sort of selectors.SORTS, each led by the category.
        indexes = [
            models.Index(
                models.F("category"),
                models.F("is_evergreen").desc(),
                models.F("date_created").desc(),
                models.F("product"),
                name="listing_entry_featured",
            ),
            models.Index(
                models.F("category"),
                models.F("date_created").desc(),
                models.F("product"),
                name="listing_entry_newest",
            ),
            models.Index(fields=["category", "price", "product"], name="listing_entry_price"),
            models.Index(
                models.F("category"),
                models.F("price").desc(),
                models.F("product"),
                name="listing_entry_price_desc",
            ),
            models.Index(fields=["category", "title", "product"], name="listing_entry_title"),
        ]


class SearchWord(models.Model):
    """The words shoppers can mean (titles, categories, attributes, colours and the synonym
    list, unaccented, lower case), for typo tolerance and "did you mean" by trigram similarity.
    Rebuilt with the search documents."""

    word = models.CharField(max_length=64, primary_key=True)
    products = models.PositiveIntegerField(default=0)  # how many products use it

    class Meta:
        app_label = "catalogue"
        indexes = [
            # Nearest words first (ORDER BY word <-> typed): a GiST index walks them in order.
            GistIndex(fields=["word"], name="search_word_trgm", opclasses=["gist_trgm_ops"]),
        ]

    def __str__(self) -> str:
        return self.word


from oscar.apps.catalogue.models import *  # noqa: E402,F403
