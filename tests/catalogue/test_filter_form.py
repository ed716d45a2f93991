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


def test_each_form_has_its_own_fields_and_the_class_keeps_its_own(demo_catalogue):
    """The form copies its class's fields without deep copies (forms._field_copy): what one
    form changes (counts beside the values, a widget's attributes, an error message) stays in
    that form."""
    first = CatalogueFilterForm(QueryDict("line=Evergreen"))
    assert first.is_valid(), first.errors
    first.show_counts(selectors.filter_counts(filters=first.filters()))
    first.fields["line"].widget.attrs["data-x"] = "1"
    first.fields["line"].error_messages["invalid_choice"] = "changed"
    first.fields["sort_by"].validators.append(lambda value: None)
    second = CatalogueFilterForm(QueryDict(""))
    for form in (second, CatalogueFilterForm.base_fields):
        fields = form.fields if hasattr(form, "fields") else form
        assert "data-x" not in fields["line"].widget.attrs
        assert fields["line"].error_messages["invalid_choice"] != "changed"
        assert fields["sort_by"].validators == []
    assert all("(" not in label for _, label in second.fields["line"].choices)
    assert any("(" in label for _, label in first.fields["line"].choices)
    assert list(second.fields) == list(CatalogueFilterForm.base_fields)
    assert list(ProductSearchForm(QueryDict("q=belt")).fields) == [
        "tanning",
        "certification",
        "line",
        "sort_by",
        "q",
    ]
    # A choice the form does not offer is still refused, with Django's message.
    bad = CatalogueFilterForm(QueryDict("line=Nope"))
    assert not bad.is_valid()
    assert "Select a valid choice" in str(bad.errors["line"])


@pytest.mark.parametrize(
    "query, keys, expected",
    [
        ("line=Evergreen&page=3&sort_by=name", (), "line=Evergreen&sort_by=name"),
        ("q=tan+belt&line=A%26B&page=2", ("line",), "q=tan+belt"),
        ("q=caf%C3%A9&tanning=x&tanning=y", ("q",), "tanning=x&tanning=y"),
        ("page=2", (), ""),
    ],
)
def test_query_without_drops_the_keys_and_the_page(query, keys, expected):
    from shop.catalogue.forms import query_without

    params = QueryDict(query)
    assert query_without(params, *keys) == expected
    assert params.urlencode() == QueryDict(query).urlencode()  # the request's own untouched
