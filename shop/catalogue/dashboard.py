"""Oscar's catalogue dashboard views (categories, reviews, stock alerts) repaired by thin
subclasses, mounted before Oscar's patterns in config/urls.py: ids that are not ids in a bulk
form, dates past the year 2100 and a stock-alert status that is not a status answered 500
(issue "No request gets a 500"); a category search printed category names unescaped."""

from __future__ import annotations

from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from oscar.core.loading import get_class

from shop.common.oscar_views import ClampedDateRangeMixin, IdProductSelect, IdSafeBulkEditMixin

OscarCategoryListView = get_class("dashboard.catalogue.views", "CategoryListView")
OscarCategoryDetailListView = get_class("dashboard.catalogue.views", "CategoryDetailListView")
OscarCategoryTable = get_class("dashboard.catalogue.tables", "CategoryTable")
OscarProductCreateUpdateView = get_class("dashboard.catalogue.views", "ProductCreateUpdateView")
OscarProductRecommendationFormSet = get_class(
    "dashboard.catalogue.formsets", "ProductRecommendationFormSet"
)
OscarStockAlertListView = get_class("dashboard.catalogue.views", "StockAlertListView")
OscarReviewListView = get_class("dashboard.reviews.views", "ReviewListView")
OscarReviewSearchForm = get_class("dashboard.reviews.forms", "ProductReviewSearchForm")


class CategoryTable(OscarCategoryTable):
    """Oscar's category table, whose name column, while `?name=` searches, marked the
    category's full name safe to bold the name in it: a category named `<script>` ran in
    every staff member's browser that searched. Here the names are escaped first."""

    def render_name(self, value, record):
        url = reverse("dashboard:catalogue-category-update", args=[record.pk])
        if self.request.GET.get("name"):
            name = escape(value)
            value = mark_safe(escape(record.full_name).replace(name, f"<strong>{name}</strong>"))
        return format_html('<a href="{}">{}</a>', url, value)

    class Meta(OscarCategoryTable.Meta):  # django-tables2 does not inherit Meta by itself
        pass


class CategoryListView(IdSafeBulkEditMixin, OscarCategoryListView):
    table_class = CategoryTable


class CategoryDetailListView(IdSafeBulkEditMixin, OscarCategoryDetailListView):
    table_class = CategoryTable


class ProductRecommendationFormSet(OscarProductRecommendationFormSet):
    """Oscar's recommendations on the product page: a recommendation that is not a product
    id (`primary_recommendations-0-recommendation=abc`) was a 500 when the page showed the
    form again ("Field 'id' expected a number"); its select now drops such values."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        field = form.fields["recommendation"]
        widget = IdProductSelect(attrs=field.widget.attrs)
        widget.choices, widget.is_required = field.widget.choices, field.widget.is_required
        field.widget = widget


class ProductCreateUpdateView(OscarProductCreateUpdateView):
    recommendations_formset = ProductRecommendationFormSet


class StockAlertListView(OscarStockAlertListView):
    """Oscar's stock alerts set the page's description only when `?status=` is valid: an
    empty status, or one with a NUL, was an AttributeError (a 500). Here it lists all."""

    def get_queryset(self):
        self.description = _("All alerts")
        return super().get_queryset()


class ProductReviewSearchForm(ClampedDateRangeMixin, OscarReviewSearchForm):
    """Oscar's review search with its dates held within 2000..2100 (Oscar adds a day to
    date_to: year 9999 overflowed)."""


class ReviewListView(IdSafeBulkEditMixin, OscarReviewListView):
    form_class = ProductReviewSearchForm
