"""Requests that answered 500 on Oscar's catalogue dashboard (issue "No request gets a
500"): far dates on the reviews list, ids that are not ids in the categories' bulk form."""

import pytest
from django.test import Client
from oscar.core.loading import get_model
from oscar.test.factories import UserFactory

pytestmark = pytest.mark.django_db
Category = get_model("catalogue", "Category")


@pytest.fixture
def boss(db):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "query",
    [
        {"date_to": "9999-12-31"},
        {"date_from": "2020-01-01", "date_to": "9999-12-31"},
        {"date_from": "9999-12-31"},
    ],
)
def test_reviews_list_with_date_to_in_year_9999(boss, query):
    assert boss.get("/dashboard/reviews/", query).status_code == 200


@pytest.mark.parametrize("bad", ["²", "abc", "99999999999"])
def test_reviews_bulk_with_ids_that_are_not_ids(boss, bad):
    response = boss.post(
        "/dashboard/reviews/", {"action": "update_selected_review_status", "selected_review": bad}
    )
    assert response.status_code in (200, 302)


@pytest.mark.parametrize("bad", ["²", "abc", "99999999999"])
def test_categories_bulk_with_ids_that_are_not_ids(boss, bad):
    category = Category.add_root(name="Wallets", is_public=True)
    response = boss.post(
        "/dashboard/catalogue/categories/",
        {"action": "make_non_public", "selected_category": [str(category.pk), bad]},
        follow=True,
    )
    assert response.status_code == 200
    category.refresh_from_db()
    assert category.is_public


@pytest.mark.parametrize("bad", ["²", "abc", "99999999999"])
def test_child_categories_bulk_with_ids_that_are_not_ids(boss, bad):
    category = Category.add_root(name="Wallets", is_public=True)
    child = category.add_child(name="Bifold", is_public=True)
    response = boss.post(
        f"/dashboard/catalogue/categories/{category.pk}/",
        {"action": "make_non_public", "selected_category": [str(child.pk), bad]},
        follow=True,
    )
    assert response.status_code == 200
    child.refresh_from_db()
    assert child.is_public
