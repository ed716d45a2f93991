"""A listing's filter and sort selects, drawn by CatalogueFilterForm.filter_fields without a
bound field each: the same markup as Django's own rendering of each field with its label."""

import pytest
from django.http import QueryDict
from django.template import Context, Template

from shop.catalogue import selectors
from shop.catalogue.forms import CatalogueFilterForm, ProductSearchForm

pytestmark = pytest.mark.django_db

AS_DJANGO_DRAWS_THEM = Template(
    "{% for field in form %}{% if field.name != 'q' %}"
    '<div class="mv-field"><label for="{{ field.id_for_label }}">{{ field.label }}</label>'
    "{{ field }}</div>{% endif %}{% endfor %}"
)


@pytest.mark.parametrize(
    "form_class, query",
    [
        (CatalogueFilterForm, ""),
        (CatalogueFilterForm, "line=Evergreen&sort_by=price-desc"),
        (CatalogueFilterForm, "tanning=Vegetable-tanned&certification=&page=2"),
        (ProductSearchForm, "q=wallet&line=Heritage&sort_by=name"),
    ],
)
def test_filter_fields_are_the_fields_as_django_draws_them(demo_catalogue, form_class, query):
    form = form_class(QueryDict(query))
    assert form.is_valid(), form.errors
    form.show_counts(selectors.filter_counts(filters=form.filters()))
    expected = AS_DJANGO_DRAWS_THEM.render(Context({"form": form}))
    drawn = form.filter_fields()
    assert drawn == expected
    assert drawn.count("<select") == 4 and 'name="q"' not in drawn
    chosen = dict(QueryDict(query).items())
    if chosen.get("line"):
        assert f'value="{chosen["line"]}" selected' in drawn
    assert "(" in drawn  # the counts beside the values


# What shop/partials/active_filters.html drew, before the form drew the chips itself.
CHIPS_AS_THE_TEMPLATE_DREW_THEM = Template(
    "{% load storefront_tags %}{% if active_filters %}"
    '<ul class="mv-chips" aria-label="Active filters">'
    "{% for field in filter_form %}{% if field.name in active_filters %}"
    '<li><a class="mv-chip" href="?{% query_without request.GET field.name %}">'
    '<span><span class="mv-sr">Remove filter </span>{{ field.label }}: {{ field.value }}</span>'
    '<span aria-hidden="true">&times;</span></a></li>'
    "{% endif %}{% endfor %}"
    '<li><a href="{{ request.path }}{% if query %}?q={{ query|urlencode }}{% endif %}">'
    "Clear all</a></li></ul>{% endif %}"
)


@pytest.mark.parametrize(
    "form_class, query",
    [
        (CatalogueFilterForm, ""),
        (CatalogueFilterForm, "sort_by=name&page=2"),
        (CatalogueFilterForm, "line=Evergreen&sort_by=price-desc&page=3"),
        (CatalogueFilterForm, "tanning=Vegetable-tanned&certification=&line=Heritage"),
        (ProductSearchForm, "q=brown+wallet/<b>&line=Heritage&sort_by=name"),
        (ProductSearchForm, "q=belt&tanning=Chrome-free+%28wet-white%29&page=2"),
    ],
)
def test_filter_chips_are_the_chips_the_template_drew(rf, demo_catalogue, form_class, query):
    request = rf.get("/catalogue/category/wallets_1/", QueryDict(query))
    form = form_class(request.GET)
    assert form.is_valid(), form.errors
    active = {k: v for k, v in form.filters().items() if v}
    context = {
        "active_filters": active,
        "filter_form": form,
        "request": request,
        "query": form.cleaned_data.get("q"),
    }
    expected = CHIPS_AS_THE_TEMPLATE_DREW_THEM.render(Context(context))
    drawn = form.filter_chips(request.path)
    assert drawn == expected
    assert drawn.count('class="mv-chip"') == len(active)
    if active:
        assert "Clear all" in drawn and "page=" not in drawn
