"""Requests that answered 500 on the business reports (issue "No request gets a 500"): far
dates on every report, a NUL in a cell of the offline-sales import."""

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shop.reports.models import OfflineSale

pytestmark = pytest.mark.django_db

REPORTS = ["online-share", "customers", "segments", "lead-time", "production-cost"]
FAR = [
    {"end": "9999-12-31"},
    {"preset": "custom", "start": "9999-12-01", "end": "9999-12-31"},
    {"preset": "custom", "start": "0001-01-01", "end": "0001-01-31"},
]


@pytest.fixture
def reporter(client, django_user_model):
    user = django_user_model.objects.create_user(
        username="staff", email="staff@example.com", password="x", is_staff=True
    )
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="reports",
            codename__in=["view_business_reports", "import_offline_sales"],
        )
    )
    client.force_login(user)
    return user


@pytest.mark.parametrize("query", FAR)
@pytest.mark.parametrize("name", REPORTS)
def test_every_business_report_with_end_in_year_9999(client, demo_catalogue, reporter, name, query):
    response = client.get(reverse(f"business-reports:{name}"), query)
    assert response.status_code == 200


@pytest.mark.parametrize("query", FAR)
def test_business_report_csv_exports_with_end_in_year_9999(client, demo_catalogue, reporter, query):
    for name in REPORTS:
        response = client.get(reverse(f"business-reports:{name}"), {**query, "export": "csv"})
        assert response.status_code == 200, name


@pytest.mark.parametrize("query", FAR)
def test_customer_detail_with_end_in_year_9999(client, demo_catalogue, reporter, query):
    url = reverse("business-reports:customer-detail", args=["e:carol@example.com"])
    assert client.get(url, query).status_code in (200, 404)


def test_production_cost_with_a_baseline_in_year_9999(client, demo_catalogue, reporter):
    response = client.get(reverse("business-reports:production-cost"), {"baseline": "9999-12"})
    assert response.status_code == 200


def test_online_share_projection_for_month_9999_12(client, demo_catalogue, reporter):
    response = client.post(
        reverse("business-reports:online-share"),
        {"form": "projection", "month": "9999-12", "revenue": "100.00"},
    )
    assert response.status_code in (200, 302, 400)


def test_a_nul_in_a_cell_of_the_import_is_a_row_numbered_error(client, demo_catalogue, reporter):
    content = (
        b"date,channel,reference,sku,quantity,net_amount\n"
        b"2026-03-15,boutique,B-1,EG-STR-CHE,1,5\n"
        b"2026-03-15,boutique,B-\x002,EG-STR-CHE,1,5\n"
    )
    data = {"file": SimpleUploadedFile("sales.csv", content, content_type="text/csv")}
    response = client.post(reverse("business-reports:imports"), data, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<td>3</td><td>reference contains a NUL character</td>" in html, html[-3000:]
    assert OfflineSale.objects.count() == 0
