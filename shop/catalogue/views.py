"""Browsing from the database: all products, a category, search. Filters come in the query
string; a value we do not offer is a 400 (branded page), an unknown page number a 404."""

import math
from urllib.parse import unquote

from django.conf import settings
from django.core.exceptions import BadRequest
from django.core.paginator import InvalidPage, Paginator
from django.db import transaction
from django.http import Http404, HttpResponsePermanentRedirect
from django.utils.decorators import method_decorator
from django.views.generic import ListView
from oscar.apps.catalogue.views import ProductDetailView as CoreProductDetailView

from shop.catalogue import selectors
from shop.catalogue.extensions import PRODUCT_PAGE_CONTEXT
from shop.catalogue.forms import CatalogueFilterForm, ProductSearchForm, query_without
from shop.catalogue.models import Category
from shop.common.parsing import parse_id
from shop.common.precompiled import Precompiled
from shop.common.workdays import dispatch_date

MAX_PAGE_PARAM_LENGTH = 6
# A category page reads its category by id: compiled once (through the ORM it cost three
# times the query's round trip).
CATEGORY_BY_ID = Precompiled(lambda pk: Category.objects.filter(pk=pk), -918273645)


@method_decorator(transaction.non_atomic_requests, name="dispatch")
class FilteredProductListView(ListView):
    """A listing reads only: no request transaction (ATOMIC_REQUESTS), whose BEGIN and COMMIT
    were two of a cold listing's five round trips to PostgreSQL."""

    context_object_name = "products"
    paginate_by = settings.OSCAR_PRODUCTS_PER_PAGE
    form_class = CatalogueFilterForm
    template_name = "oscar/catalogue/browse.html"

    def get_form(self):
        if len(self.request.GET.get("page", "")) > MAX_PAGE_PARAM_LENGTH:
            raise Http404("No such page.")
        form = self.form_class(self.request.GET)
        if not form.is_valid():
            raise BadRequest("; ".join(str(e) for errs in form.errors.values() for e in errs))
        self.form = form
        return form

    def get(self, request, *args, **kwargs):
        self.get_form()
        return super().get(request, *args, **kwargs)

    def list_kwargs(self) -> dict:
        return {"filters": self.form.filters()}

    def get_queryset(self):
        return None  # the page's products come from paginate_queryset: ids, in one statement

    def paginate_queryset(self, queryset, page_size):
        """One page of ids and the listing's count (selectors.listing_page); an unknown page
        is a 404, as Django's pagination has it ("last" included)."""
        listing = self.list_kwargs()
        raw = self.request.GET.get("page") or 1
        if raw == "last":
            number = max(1, math.ceil(selectors.listing_count(**listing) / page_size))
        else:
            try:
                number = int(raw)
            except ValueError:
                raise Http404("No such page.") from None
        ids: list[int] = []
        total = 0
        if number >= 1:
            ids, total = selectors.listing_page(
                offset=(number - 1) * page_size, limit=page_size, sort=self.form.sort(), **listing
            )
        paginator = Paginator(_PageOfIds(ids, total), page_size)
        try:
            page = paginator.page(number)
        except InvalidPage:
            raise Http404("No such page.") from None
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        self.form.show_counts(selectors.filter_counts(**self.list_kwargs()))
        ctx["filter_form"] = self.form
        ctx["active_filters"] = self.form.active_filters()
        ctx["filter_chips"] = self.form.filter_chips(self.request.path)
        ctx["query_without_page"] = query_without(self.request.GET)
        ctx["summary"] = "All products"
        return ctx


class _PageOfIds:
    """What Paginator pages over: the listing's count, and the one page of ids fetched."""

    def __init__(self, ids: list[int], total: int):
        self.ids, self.total = ids, total

    def count(self) -> int:
        return self.total

    def __getitem__(self, key: slice) -> list[int]:
        return self.ids


class CatalogueView(FilteredProductListView):
    pass


class ProductCategoryView(FilteredProductListView):
    template_name = "oscar/catalogue/category.html"

    def get(self, request, *args, **kwargs):
        pk = parse_id(self.kwargs["pk"])
        found = CATEGORY_BY_ID.run(pk) if pk is not None else []
        if not found:
            raise Http404("No such category.")
        self.category = found[0]
        if not (self.category.is_public or request.user.is_staff):
            raise Http404("No such category.")
        expected_path = self.category.get_absolute_url()
        if unquote(expected_path) != unquote(request.path):
            return HttpResponsePermanentRedirect(expected_path)
        return super().get(request, *args, **kwargs)

    def list_kwargs(self) -> dict:
        return {**super().list_kwargs(), "category": self.category}

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["category"] = self.category
        ctx["summary"] = self.category.name
        return ctx


class ProductSearchView(FilteredProductListView):
    form_class = ProductSearchForm
    template_name = "oscar/search/results.html"

    def get(self, request, *args, **kwargs):
        self.get_form()
        self.plan = selectors.search_plan(self.form.cleaned_data["q"])
        return super(FilteredProductListView, self).get(request, *args, **kwargs)

    def list_kwargs(self) -> dict:
        return {**super().list_kwargs(), "plan": self.plan}

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["query"] = self.form.cleaned_data["q"]
        ctx["summary"] = f"Search: {ctx['query']}" if ctx["query"] else "Search"
        if self.plan.was_corrected and ctx["paginator"].count:
            ctx["searched_for"] = self.plan.corrected_text
        if not ctx["paginator"].count:
            listing = {k: v for k, v in self.list_kwargs().items() if k != "plan"}
            ctx["did_you_mean"] = selectors.did_you_mean(self.plan, **listing)
        return ctx


class ProductDetailView(CoreProductDetailView):
    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        for name, value_for in PRODUCT_PAGE_CONTEXT.items():  # personalization's offers
            ctx[name] = value_for(self.object)
        ctx["dispatch_date"] = dispatch_date()
        return ctx
