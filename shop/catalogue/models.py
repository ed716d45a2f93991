from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from oscar.apps.catalogue.abstract_models import AbstractProduct


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
                condition=models.Q(parent_id__isnull=True, is_public=True),
            ),
            GinIndex(fields=["listing_categories"], name="product_listing_categories"),
            GinIndex(
                fields=["listing_facets"],
                name="product_listing_facets",
                opclasses=["jsonb_path_ops"],
            ),
            models.Index(
                fields=["search_dirty"],
                name="product_search_dirty",
                condition=models.Q(search_dirty=True),
            ),
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
