"""Dashboard pages: who may see them, every page renders with the dataset, CSV exports stream,
uploads report bad rows with line numbers and never fail with a 500."""

import csv
import io
from decimal import Decimal as D

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shop.reports.models import OfflineSale, OnlineShareTarget, SustainableProjection

pytestmark = pytest.mark.django_db

MARCH = {"preset": "custom", "start": "2026-03-01", "end": "2026-03-31"}
PAGES = [
    "online-share",
    "customers",
    "segments",
    "lead-time",
    "production-cost",
    "imports",
]


def staff(django_user_model, *codenames, username="staff"):
    user = django_user_model.objects.create_user(
        username=username, email=f"{username}@example.com", password="x", is_staff=True
    )
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="reports", codename__in=codenames)
    )
    return user


@pytest.fixture
def reporter(client, django_user_model):
    user = staff(django_user_model, "view_business_reports", "import_offline_sales")
    client.force_login(user)
    return user


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_go_to_login_and_staff_without_permission_get_403(
    client, django_user_model, name
):
    url = reverse(f"business-reports:{name}")
    response = client.get(url)
    assert response.status_code == 302 and "login" in response["Location"]
    client.force_login(staff(django_user_model))
    assert client.get(url).status_code == 403
    customer = django_user_model.objects.create_user(
        username="c", email="c@example.com", password="x"
    )
    client.force_login(customer)
    assert client.get(url).status_code in (302, 403)


def test_customer_page_and_exports_need_the_permission(client, django_user_model):
    client.force_login(staff(django_user_model))
    url = reverse("business-reports:customers") + "?export=csv"
    assert client.get(url).status_code == 403
    assert (
        client.get(reverse("business-reports:customer-detail", args=["e:a@b.c"])).status_code == 403
    )


def test_menu_shows_reports_only_with_the_permission(client, django_user_model, reporter):
    response = client.get(reverse("dashboard:index"))
    assert reverse("business-reports:online-share") in response.content.decode()
    client.force_login(staff(django_user_model, username="other"))
    response = client.get(reverse("dashboard:index"))
    assert reverse("business-reports:online-share") not in response.content.decode()


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize(
    "query", [MARCH, {}, {"preset": "last_30"}, {"preset": "custom", "start": "x"}]
)
def test_every_page_renders(client, dataset, reporter, name, query):
    response = client.get(reverse(f"business-reports:{name}"), query)
    assert response.status_code == 200
    assert b"chart.umd.min.js" in response.content


def test_online_share_page_shows_the_figures(client, dataset, reporter):
    response = client.get(reverse("business-reports:online-share"), {**MARCH, "bucket": "week"})
    html = response.content.decode()
    assert 'data-figure="online-revenue-share">38.3 %' in html
    assert "8.3 points above" in html
    assert 'data-figure="vs-projection">+7.5 %' in html
    assert 'id="chart-data"' in html


def test_online_share_target_and_projection_forms(client, dataset, reporter):
    url = reverse("business-reports:online-share") + "?preset=this_year"
    response = client.post(url, {"target-share_percent": "32.5", "target-valid_from": "2026-03-01"})
    assert response.status_code == 302
    assert OnlineShareTarget.objects.get(valid_from="2026-03-01").share_percent == D("32.50")
    client.post(url, {"projection-month": "2026-04", "projection-revenue": "400"})
    assert SustainableProjection.objects.get(month="2026-04-01").revenue == D("400.00")
    response = client.post(url, {"target-share_percent": "130", "target-valid_from": "2026-03-01"})
    assert response.status_code == 200 and b"less than or equal to 100" in response.content


def read_csv(response) -> list[list[str]]:
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_customer_table_sorts_pages_and_exports(client, dataset, reporter):
    url = reverse("business-reports:customers")
    html = client.get(url, {**MARCH, "sort": "margin", "dir": "asc"}).content.decode()
    assert html.index('data-customer="e:bob@example.com"') < html.index(
        f'data-customer="u:{dataset.pk}"'
    )
    assert 'data-figure="loss">0<' in html  # B2, refunded before dispatch, costs no goods
    assert "Shipping cost" in html and "ESTIMATED" in html  # the formulas explain themselves
    rows = read_csv(client.get(url, {**MARCH, "export": "csv"}))
    assert rows[0][:3] == ["Customer key", "Email", "Orders"]
    assert [r[1] for r in rows[1:]] == ["alice@example.com", "carol@example.com", "bob@example.com"]
    header = rows[0]
    assert rows[1][header.index("Contribution margin")] == "130.59"
    assert rows[1][header.index("Store credit issued (take-backs, referrals)")] == ""
    response = client.get(url, {**MARCH, "page": "zz", "sort": "bogus"})
    assert response.status_code == 200


def test_customer_detail_page(client, dataset, reporter):
    url = reverse("business-reports:customer-detail", args=[f"u:{dataset.pk}"])
    response = client.get(url, MARCH)
    html = response.content.decode()
    assert response.status_code == 200
    assert "alice@example.com" in html and "A2" in html and "£130.59" in html
    rows = read_csv(client.get(url, {**MARCH, "export": "csv"}))
    assert [r[0] for r in rows[1:]] == ["A3", "A2", "A1"]
    guest = reverse("business-reports:customer-detail", args=["e:carol@example.com"])
    assert client.get(guest, MARCH).status_code == 200
    assert (
        client.get(reverse("business-reports:customer-detail", args=["e:no@x.y"])).status_code
        == 404
    )
    assert client.get(reverse("business-reports:customer-detail", args=["zz"])).status_code == 404


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("online-share", {"bucket": "day"}),
        ("segments", {"table": "rfm"}),
        ("segments", {"table": "cohorts"}),
        ("lead-time", {}),
        ("production-cost", {"baseline": "2026-02"}),
    ],
)
def test_every_table_exports_csv(client, dataset, reporter, name, extra):
    rows = read_csv(
        client.get(reverse(f"business-reports:{name}"), {**MARCH, **extra, "export": "csv"})
    )
    assert len(rows) > 1


def upload(client, content: bytes, skip: bool = False):
    data = {"file": SimpleUploadedFile("sales.csv", content, content_type="text/csv")}
    if skip:
        data["skip_bad_rows"] = "on"
    return client.post(reverse("business-reports:imports"), data, follow=True)


def test_upload_good_file(client, demo_catalogue, reporter):
    content = (
        b"date,channel,reference,sku,quantity,net_amount\n"
        b"2026-03-15,boutique,B-1,EG-STR-CHE,1,50.00\n"
    )
    response = upload(client, content)
    assert response.status_code == 200
    assert b"1 sale(s) imported" in response.content
    assert upload(client, content).status_code == 200
    assert OfflineSale.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"when,where\n1,2\n", b"missing column(s)"),
        (
            "date,channel,reference,sku,quantity,net_amount\n2026-03-15,boutique,Caf\xe9,EG-STR-CHE,1,5\n".encode(
                "latin-1"
            ),
            b"not UTF-8",
        ),
        (
            b"date,channel,reference,sku,quantity,net_amount\n2026-03-15,boutique,B-1,EG-STR-CHE,1,-5\n",
            b"net amount -5 is negative",
        ),
        (b"\x00\x01\x02binary", b"missing column(s)"),
        (b'date,channel,reference,sku,quantity,net_amount\n"unterminated,boutique', b"Rejected"),
    ],
)
def test_upload_bad_file_reports_and_changes_nothing(
    client, demo_catalogue, reporter, content, expected
):
    response = upload(client, content)
    assert response.status_code == 200
    assert expected in response.content, response.content.decode()[-3000:]
    assert OfflineSale.objects.count() == 0


def test_upload_lists_bad_rows_with_line_numbers(client, demo_catalogue, reporter):
    content = (
        b"date,channel,reference,sku,quantity,net_amount\n"
        b"2026-03-15,boutique,B-1,EG-STR-CHE,1,5\n"
        b"2026-03-15,boutique,B-2,NOPE,1,5\n"
    )
    html = upload(client, content).content.decode()
    assert "<td>3</td><td>unknown SKU &#x27;NOPE&#x27;</td>" in html
    html = upload(client, content, skip=True).content.decode()
    assert "1 sale(s) imported" in html and OfflineSale.objects.count() == 1


def test_upload_needs_the_import_permission(client, demo_catalogue, django_user_model):
    client.force_login(staff(django_user_model, "view_business_reports"))
    response = upload(client, b"date\n")
    assert response.status_code == 403


def test_large_upload_waits_for_the_worker_with_a_progress_page(client, demo_catalogue, reporter):
    rows = "".join(f"2026-03-15,event,EV-{i},EG-KEY-NAT,1,20.00\n" for i in range(2500))
    content = ("date,channel,reference,sku,quantity,net_amount\n" + rows).encode()
    response = upload(client, content)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-import-status="pending"' in html
    assert 'http-equiv="refresh"' in html and "0 / 2500 rows checked" in html


def test_upload_over_the_size_limit_is_refused(client, demo_catalogue, reporter):
    # Just over the form's 20 MB: the form says so (the request is within the route's cap).
    content = b"date,channel,reference,sku,quantity,net_amount\n" + b"x" * (20 * 1024 * 1024)
    response = upload(client, content)
    assert response.status_code == 200
    assert f"({len(content):,} bytes); the limit is 20 MB".encode() in response.content
    # Far over it: refused from Content-Length before the body is read (body_limit).
    content = b"date,channel,reference,sku,quantity,net_amount\n" + b"x" * (22 * 1024 * 1024)
    assert upload(client, content).status_code == 413
    assert OfflineSale.objects.count() == 0


def test_customer_csv_dates_are_in_the_shops_time_zone(client, demo_catalogue, reporter):
    from shop.reports.services import offline_sales_import, report_facts_refresh

    csv_text = "date,channel,reference,sku,quantity,net_amount,customer_email\n"
    csv_text += "2026-10-03,boutique,B-1,EG-STR-CHE,1,50.00,dora@example.com\n"
    assert offline_sales_import(content=csv_text.encode()).status == "done"
    report_facts_refresh()
    october = {"preset": "custom", "start": "2026-10-01", "end": "2026-10-31", "export": "csv"}
    rows = read_csv(client.get(reverse("business-reports:customers"), october))
    first = rows[1][rows[0].index("First order")]
    assert first == "2026-10-03 00:00"  # London midnight (BST), not "2026-10-02 23:00:00+00:00"


def test_the_target_forms_from_date_shows_its_iso_value(client, demo_catalogue, reporter):
    from django.utils import timezone

    html = client.get(reverse("business-reports:online-share")).content.decode()
    today = timezone.localdate().isoformat()
    assert f'name="target-valid_from" value="{today}"' in html
