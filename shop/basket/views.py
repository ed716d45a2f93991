"""Oscar's basket views, with the reads the basket page and add-to-basket need done in bulk."""

from django.contrib import messages
from django.contrib.sessions.serializers import JSONSerializer
from django.db.models import Exists, OuterRef, prefetch_related_objects
from django.shortcuts import get_object_or_404
from django.views.generic import FormView
from oscar.apps.basket.views import *  # noqa: F403
from oscar.apps.basket.views import BasketAddView as CoreBasketAddView
from oscar.apps.basket.views import BasketView as CoreBasketView
from oscar.core.utils import redirect_to_referrer

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

    def form_invalid(self, form):
        # Oscar's own joins `error.as_text()`, which Django's form renderer has already
        # HTML-escaped; the message template escapes it again, so shoppers read
        # "We&#x27;re sorry". The plain error strings instead, escaped once when shown.
        # Each field's error says which choice it is about ("Monogram style: Please choose
        # one."), not only "Please choose one." above a long form.
        errors = [
            f"{form.fields[name].label}: {error}" if name in form.fields else str(error)
            for name, field_errors in form.errors.items()
            for error in field_errors
        ]
        messages.error(self.request, " ".join(errors))
        # As Oscar: the posted choices come back on the product page (JSON, never pickle).
        data = JSONSerializer().dumps(self.request.POST).decode("latin-1")
        self.request.session[f"add_to_basket_form_post_data_{self.product.pk}"] = data
        return redirect_to_referrer(self.request, "basket:summary")
