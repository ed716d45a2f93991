from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from oscar.apps.catalogue.abstract_models import AbstractProduct


class Product(AbstractProduct):
    """Oscar's product with its search document (shop.catalogue.search): title, category,
    attributes and colours, description, weighted A to D. Marked dirty when any of those
    changes (shop.catalogue.receivers) and refreshed by a task (services.search_refresh)."""

    search_vector = SearchVectorField(null=True, editable=False)
    search_dirty = models.BooleanField(default=True, editable=False)

    class Meta(AbstractProduct.Meta):
        indexes = [
            GinIndex(fields=["search_vector"], name="product_search_vector_gin"),
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
