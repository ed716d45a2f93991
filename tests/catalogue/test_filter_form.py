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
