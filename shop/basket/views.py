"""Oscar's basket views, with the reads the basket page and add-to-basket need done in bulk,
and the basket page's content rendered from plain data, kept under a digest of it."""

import uuid

from django.contrib import messages
from django.contrib.sessions.serializers import JSONSerializer
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils.decorators import method_decorator
from django.utils.functional import LazyObject, SimpleLazyObject, empty
from django.utils.safestring import mark_safe
from django.views.generic import FormView
from oscar.apps.basket.views import *  # noqa: F403
from oscar.apps.basket.views import BasketAddView as CoreBasketAddView
from oscar.apps.basket.views import BasketView as CoreBasketView
from oscar.core.utils import redirect_to_referrer

from shop.basket.fragments import get_templates, render_fragment
from shop.basket.selectors import basket_page
from shop.catalogue.models import Option, Product

CONTENT_TEMPLATE = "oscar/basket/partials/basket_content.html"
LINE_TEMPLATE = "oscar/basket/partials/basket_line.html"
SAVED_TEMPLATE = "oscar/basket/partials/saved_basket.html"
# Stands for the CSRF token in kept HTML (the token is the visitor's): random per process,
# so no text a shop sells can be taken for it.
CSRF_SENTINEL = f"mvcsrf{uuid.uuid4().hex}"


def loaded_basket(request):
    """request.basket loaded, and put back on the request as itself: Oscar's middleware hands
    it out as a lazy object, through whose proxy every attribute read goes (~200 on a basket
    page: its totals, lines, offers and template)."""
    basket = request.basket
    if isinstance(basket, LazyObject):
        if basket._wrapped is empty:
            basket._setup()
        basket = request.basket = basket._wrapped
    return basket


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class BasketView(CoreBasketView):
    """The page reads only: no request transaction (ATOMIC_REQUESTS' BEGIN and COMMIT, two
    of its round trips to PostgreSQL). Changes to the lines keep theirs (post)."""

    def post(self, request, *args, **kwargs):
        with transaction.atomic():
            return super().post(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        """Oscar's, with the line formset built only if something asks for it: the lines as
        they are are shown from basket_page (the same names, ids and values); the basket
        only read, its totals summed once each."""
        with loaded_basket(request).totals_kept():
            self.object_list = self.get_queryset()
            self._unbuilt_formset = SimpleLazyObject(self.construct_formset)
            context = self.get_context_data(formset=self._unbuilt_formset)
        return self.render_to_response(context)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        formset = kwargs.get("formset")
        if formset is getattr(self, "_unbuilt_formset", None):
            formset = None
        context["basket_content"] = self.basket_content(context, formset)
        return context

    def get_shipping_methods(self, basket):
        """Oscar's, worked out only if asked for: its context entry is for templates that list
        the methods, and ours shows the default method only (Oscar's get_context_data asks the
        shipping repository for both)."""
        return SimpleLazyObject(lambda: list(super(BasketView, self).get_shipping_methods(basket)))

    def get_upsell_messages(self, basket):
        """Oscar's, from the offers the basket middleware applied to this basket for this
        request (shop.basket.middleware) when it did; Oscar's own reads them again."""
        applied_for = getattr(basket, "offers_applied_for", None)
        if applied_for is None or applied_for[0] is not self.request:
            return super().get_upsell_messages(basket)
        applied_offers = list(basket.offer_applications.offers.values())
        return [
            {"message": offer.get_upsell_message(basket), "offer": offer}
            for offer in applied_for[1]
            if offer.is_condition_partially_satisfied(basket) and offer not in applied_offers
        ]

    def basket_content(self, context, formset) -> str:
        """The lines and the summary: rendered from their data (shop.basket.selectors), or the
        HTML already made from the same data (shop.basket.fragments); each line likewise."""
        page = basket_page(
            basket=self.request.basket,
            formset=formset,
            prefix=self.get_prefix() or self.formset_class.get_default_prefix(),
            user_is_authenticated=self.request.user.is_authenticated,
            warnings=context["basket_warnings"],
            upsells=context["upsell_messages"],
            shipping_method=context["shipping_method"],
            shipping_charge=context["shipping_charge"],
            surcharges=context["surcharges"],
            order_total=context["order_total"],
            voucher_form=context["voucher_form"],
        )
        content, line = get_templates(CONTENT_TEMPLATE, LINE_TEMPLATE)

        def render_line(row) -> str:
            return render_fragment([line], row, lambda: line.render({"row": row}))

        def render() -> str:
            lines_html = [mark_safe(render_line(row)) for row in page.lines]
            context = {"page": page, "lines_html": lines_html, "csrf_token": CSRF_SENTINEL}
            return content.render(context)

        html = render_fragment([content, line], page, render)
        return mark_safe(html.replace(CSRF_SENTINEL, get_token(self.request)))

    def json_response(self, ctx, flash_messages):
        # Oscar's, with our content (rendered from its data) and the saved lines under it.
        saved = render_to_string(SAVED_TEMPLATE, context=ctx, request=self.request)
        return JsonResponse(
            {"content_html": ctx["basket_content"] + saved, "messages": flash_messages.as_dict()}
        )


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
