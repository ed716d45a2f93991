"""A NUL byte in a URL's path or query is a 400, never the database's DataError (a 500)."""

import pytest
from django.test import Client


@pytest.fixture
def staff_client(db):
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.create_superuser("boss", "boss@example.com", "x")
    client = Client(raise_request_exception=False)
    client.force_login(staff)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/dashboard/fulfilment/orders/1%00/ship/",
        "/catalogue/wallet%00_1/",
        "/dashboard/business-reports/customers/a%00b/",
        "/dashboard/orders/?order_number=1%00",
        "/search/?q=wal%00let",
    ],
)
def test_a_nul_in_the_url_is_a_400(staff_client, url):
    response = staff_client.get(url)
    assert response.status_code == 400, url


def test_a_nul_in_a_post_to_a_path_is_a_400_too(staff_client):
    response = staff_client.post("/dashboard/fulfilment/orders/1%00/ship/", {"x": "1"})
    assert response.status_code == 400


def test_ordinary_urls_pass(client, db):
    assert client.get("/search/?q=wallet").status_code == 200
