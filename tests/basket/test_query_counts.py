"""A visitor with a basket of three personalized lines: the basket page and adding to the
basket stay within their query budgets, whatever the size of the catalogue."""

import json
import re
from pathlib import Path

import pytest
from django.db import connection

from shop.catalogue.models import Product
from shop.catalogue.services import catalogue_load
from tests.basket.helpers import another_line, fill_basket
from tests.perf.catalogue_generator import generate_catalogue

ROOT = Path(__file__).resolve().parents[2]
CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT)\b", re.I)
# 3 statements (the basket with its lines and their attributes, personalisation offers with
# their values joined, the menu's categories) and the SAVEPOINT pair of the request's
# transaction inside the test's. It was 15 (13 used) before the lines' pictures, the voucher
# check and whether any site offer is active joined the lines' query, then 8 before the values
# joined the offers, 7 before the attributes joined the lines, 6 before the basket did.
BASKET_PAGE_BUDGET = 5
ADD_TO_BASKET_BUDGET = 20


def _statements(client, path: str) -> int:
    """SQL statements one request runs."""
    count = 0

    def counter(execute, sql, params, many, context):
        nonlocal count
        count += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counter):
        assert client.get(path).status_code == 200
    return count


def _grow_catalogue():
    base = json.loads((ROOT / "fixtures" / "catalogue.json").read_text())
    catalogue_load(data=generate_catalogue(base, products=60))


@pytest.mark.django_db
def test_basket_page_queries_stay_in_budget_and_do_not_grow(
    client, demo_personalization, django_assert_max_num_queries
):
    fill_basket(client)
    client.get("/basket/")  # the "added" message shown
    with django_assert_max_num_queries(BASKET_PAGE_BUDGET):
        response = client.get("/basket/")
    assert response.status_code == 200
    assert response.context["basket"].num_lines == 3
    small = _statements(client, "/basket/")
    _grow_catalogue()
    client.get("/basket/")  # personalization offers cached again after the catalogue changed
    assert _statements(client, "/basket/") == small


# No test transaction around the request: its own (ATOMIC_REQUESTS) runs as in production,
# BEGIN and COMMIT, and the SAVEPOINT pair of Oscar's get_or_create for the new line: four
# transaction-control statements on top of the budget, which counts SQL statements as
# `make bench` does (without them).
TRANSACTION_CONTROL = 4


@pytest.mark.django_db(transaction=True)
def test_add_to_basket_queries_stay_in_budget(
    client, demo_personalization, django_assert_max_num_queries
):
    fill_basket(client)
    client.get("/basket/")
    path, data = another_line()
    with django_assert_max_num_queries(ADD_TO_BASKET_BUDGET + TRANSACTION_CONTROL) as queries:
        response = client.post(path, data)
    assert response.status_code == 302
    statements = [q["sql"] for q in queries.captured_queries]
    assert len([s for s in statements if not CONTROL.match(s)]) <= ADD_TO_BASKET_BUDGET
    assert client.get("/basket/").context["basket"].num_lines == 4


@pytest.mark.django_db
def test_pages_for_a_visitor_with_a_basket_cost_one_query_when_cached(
    client, demo_personalization, django_assert_max_num_queries
):
    fill_basket(client)
    client.get("/")  # the "added" message shown (not from the cache)
    paths = ["/", "/catalogue/", "/search/?q=wallet", Product.objects.get(upc="MV-EG-TOT")]
    for path in paths:
        path = path if isinstance(path, str) else path.get_absolute_url()
        client.get(path)
        with django_assert_max_num_queries(1):
            response = client.get(path)
        assert response["X-Page-Cache"] == "hit", path
        assert "Basket, 3 items" in response.content.decode()


@pytest.mark.django_db
def test_an_uncached_page_shows_a_visitors_count_without_loading_their_basket(
    client, demo_personalization
):
    """A search no one made before (a page-cache miss): the header's count is the cached
    count's (one aggregate at most), not the whole basket read and priced."""
    fill_basket(client)
    client.get("/")  # the "added" message shown
    for n, path in enumerate(["/search/?q=wallet", "/catalogue/?sort_by=price-asc"]):
        statements = []

        def record(execute, sql, params, many, context, statements=statements):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            response = client.get(f"{path}&_n=uncached-{n}")
        assert response.status_code == 200 and response["X-Page-Cache"] != "hit", path
        assert "Basket, 3 items" in response.content.decode()
        lines = [sql for sql in statements if '"basket_line"' in sql]
        assert all("SUM(" in sql for sql in lines), lines  # the count, not the lines
        assert not any("personalization_personalizationoffer" in sql for sql in statements)
