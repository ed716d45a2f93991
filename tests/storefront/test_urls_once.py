"""Addresses worked out once per process (shop.common.urls.reverse_once) and the {% url %} tag
that uses it (shop.storefront.templatetags.urls_once, a template builtin): the same answers
as Django's, kept under everything the answer depends on, never kept for arguments that are
not plain values; products' and categories' addresses too."""

import pytest
from django.template import Context, Template, TemplateSyntaxError
from django.test import Client, override_settings
from django.urls import NoReverseMatch, clear_script_prefix, reverse, set_script_prefix
from django.urls import path as url_path

from shop.common import urls
from shop.storefront.templatetags import urls_once

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_kept_urls():
    urls.clear_urls()
    yield
    urls.clear_urls()


@pytest.fixture
def reversals(monkeypatch):
    """The calls reverse_once makes to Django's reverse."""
    calls = []

    def counted(*args, **kwargs):
        calls.append(args[0])
        return reverse(*args, **kwargs)

    monkeypatch.setattr(urls, "reverse", counted)
    return calls


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_the_tag_is_ours_in_every_template():
    assert isinstance(Template("{% url 'catalogue:index' %}").nodelist[0], urls_once.OnceURLNode)


def test_answers_as_django_and_reverses_a_name_once(reversals):
    for _ in range(3):
        assert render("{% url 'catalogue:index' %}") == reverse("catalogue:index")
        assert render("{% url 'storefront:page' slug='contact' %}") == reverse(
            "storefront:page", kwargs={"slug": "contact"}
        )
    assert reversals == ["catalogue:index", "storefront:page"]


def test_variable_arguments_are_part_of_the_key(reversals):
    source = "{% url 'storefront:page' slug=slug %}"
    assert render(source, slug="contact") == "/pages/contact/"
    assert render(source, slug="delivery") == "/pages/delivery/"
    assert render(source, slug="contact") == "/pages/contact/"
    assert len(reversals) == 2


def test_arguments_that_are_not_plain_values_are_reversed_each_time(reversals):
    class Slug:
        def __str__(self) -> str:
            return "care"

    source = "{% url 'storefront:page' slug=slug %}"
    assert render(source, slug=Slug()) == "/pages/care/"
    assert render(source, slug=Slug()) == "/pages/care/"
    assert len(reversals) == 2


def test_true_is_not_one(reversals):
    source = "{% url 'storefront:page' slug=slug %}"
    assert render(source, slug=1) == "/pages/1/"
    assert render(source, slug=True) == "/pages/True/"


def test_as_variable_and_errors_as_django():
    assert render("{% url 'catalogue:index' as u %}[{{ u }}]") == "[/catalogue/]"
    assert render("{% url 'no-such-view' as u %}[{{ u }}]") == "[]"
    with pytest.raises(NoReverseMatch):
        render("{% url 'no-such-view' %}")
    with pytest.raises(TemplateSyntaxError):
        Template("{% url %}")


def test_escaped_as_django():
    source = "{% url 'wishlist-own' key=key %}"
    assert render(source, key="a&b") == "/wishlists/a&amp;b/"
    assert render("{% autoescape off %}" + source + "{% endautoescape %}", key="a&b") == (
        "/wishlists/a&b/"
    )


def test_the_script_prefix_is_part_of_the_key():
    assert render("{% url 'catalogue:index' %}") == "/catalogue/"
    set_script_prefix("/shop/")
    try:
        assert render("{% url 'catalogue:index' %}") == "/shop/catalogue/"
    finally:
        clear_script_prefix()
    assert render("{% url 'catalogue:index' %}") == "/catalogue/"


urlpatterns = [url_path("elsewhere/", lambda request: None, name="home")]


def test_a_settings_change_forgets_what_was_kept():
    assert urls.reverse_once("storefront:home") == "/"
    with override_settings(ROOT_URLCONF=__name__):
        assert urls.reverse_once("home") == "/elsewhere/"
    assert urls.reverse_once("storefront:home") == "/"


def test_bounded(monkeypatch):
    monkeypatch.setattr(urls, "URLS_MAX", 2)
    for slug in ("a", "b", "c", "d"):
        urls.reverse_once("storefront:page", kwargs={"slug": slug})
    assert len(urls._urls) <= 2


def test_a_products_address_as_oscar_gives_it(reversals):
    from oscar.apps.catalogue.abstract_models import AbstractProduct

    from shop.catalogue.models import Product

    product = Product(pk=7, slug="bifold-wallet")
    expected = AbstractProduct.get_absolute_url(product)
    assert product.get_absolute_url() == expected == product.get_absolute_url()
    assert reversals == ["catalogue:detail"]
    product.slug = "renamed"
    assert product.get_absolute_url() == "/catalogue/renamed_7/"


def test_pages_link_as_before():
    """Through the pages: a listing's links, the home link included (the context processor's
    homepage_url), are the reversed addresses, on the first page and on the next."""
    for _ in range(2):
        html = Client().get("/search/?q=wallet").content.decode()
        assert '<li class="breadcrumb-item"><a href="/">Home</a></li>' in html
        assert f'href="{reverse("catalogue:index")}"' in html
        assert f'action="{reverse("search:search")}"' in html
