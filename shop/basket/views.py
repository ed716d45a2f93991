"""Oscar's basket views, with the reads the basket page and add-to-basket need done in bulk."""

from django.db.models import Exists, OuterRef, prefetch_related_objects
from django.shortcuts import get_object_or_404
from django.views.generic import FormView
from oscar.apps.basket.views import *  # noqa: F403
from oscar.apps.basket.views import BasketAddView as CoreBasketAddView
from oscar.apps.basket.views import BasketView as CoreBasketView

from shop.catalogue.models import Option, Product


class BasketView(CoreBasketView):
    def get_context_data(self, **kwargs):
        # Each line's picture (a colour shows its parent's): two queries for the whole page.
        lines = list(self.request.basket.all_lines())
        prefetch_related_objects(lines, "product__images", "product__parent__images")
        return super().get_context_data(**kwargs)


class BasketAddView(CoreBasketAddView):
    def post(self, request, *args, **kwargs):
        # The product with its class and whether it has options, in one query (Oscar's view
        # reads the product, then its class and its options separately).
        self.product = get_object_or_404(
            Product.objects.select_related("product_class").annotate(
                has_product_class_options=Exists(
                    Option.objects.filter(productclass=OuterRef("product_class"))
                ),
                has_product_options=Exists(Option.objects.filter(product=OuterRef("pk"))),
            ),
            pk=kwargs["pk"],
        )
        return FormView.post(self, request, *args, **kwargs)
