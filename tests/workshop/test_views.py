"""Staff pages: open jobs by due date, an order's tickets, the ticket as HTML and PDF."""

import shutil
import subprocess
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from shop.personalization.rules import Choices
from shop.workshop.models import WorkshopJob, WorkshopJobEvent
from shop.workshop.services import workshop_jobs_create
from tests.workshop.helpers import FULL, place_order, place_personalized_order, plain_product

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")
LIST = "/dashboard/workshop/"


def _job(**kwargs) -> WorkshopJob:
    (job,) = workshop_jobs_create(order=place_personalized_order(**kwargs))
    return job


def _urls(job: WorkshopJob) -> list[str]:
    return [
        LIST,
        f"/dashboard/workshop/jobs/{job.pk}/ticket/",
        f"/dashboard/workshop/jobs/{job.pk}/ticket.pdf",
        f"/dashboard/workshop/orders/{job.order.number}/",
    ]


# --- access -------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login(client, demo_personalization):
    job = _job()
    for url in _urls(job):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/dashboard/login/"), url
    response = client.post(f"/dashboard/workshop/jobs/{job.pk}/advance/", {"status": "done"})
    assert response.status_code == 302
    assert WorkshopJob.objects.get(pk=job.pk).status == "open"


def test_customers_get_no_access(customer_client, demo_personalization):
    job = _job()
    for url in _urls(job):
        response = customer_client.get(url)
        assert response.status_code == 403, url
        assert job.order.number not in response.content.decode()
    response = customer_client.post(
        f"/dashboard/workshop/jobs/{job.pk}/advance/", {"status": "done"}
    )
    assert response.status_code == 403
    assert WorkshopJob.objects.get(pk=job.pk).status == "open"


def test_staff_see_the_workshop_in_the_dashboard_menu(staff_client, demo_personalization):
    response = staff_client.get("/dashboard/")
    assert response.status_code == 200
    assert 'href="/dashboard/workshop/"' in response.content.decode()


# --- list ---------------------------------------------------------------------------------


def test_open_jobs_are_listed_soonest_due_first(staff_client, demo_personalization, workdays):
    monday = datetime(2026, 3, 2, 10, 0, tzinfo=LONDON)
    later = _job(date_placed=monday + timedelta(days=2), choices=Choices(thread="navy"))
    sooner = _job(date_placed=monday, choices=Choices(thread="navy"))
    done = _job(date_placed=monday - timedelta(days=7))
    WorkshopJob.objects.filter(pk=done.pk).update(status="done")
    assert sooner.due_date < later.due_date

    response = staff_client.get(LIST)
    assert response.status_code == 200
    assert [job.pk for job in response.context["jobs"]] == [sooner.pk, later.pk]
    html = response.content.decode()
    assert html.index(sooner.order.number) < html.index(later.order.number)
    assert done.order.number not in html
    assert f'href="/dashboard/workshop/jobs/{sooner.pk}/ticket/"' in html
    assert sooner.line.partner_sku in html
    assert "Thread colour:" in html and "Navy" in html


def test_overdue_jobs_are_highlighted(staff_client, demo_personalization, workdays):
    overdue = _job(date_placed=timezone.now() - timedelta(days=30))
    upcoming = _job()
    html = staff_client.get(LIST).content.decode()
    row = html[html.index(f'data-job="{overdue.pk}"') - 80 :]
    assert "overdue" in row[:200] and "Overdue" in row
    upcoming_row = html[html.index(f'data-job="{upcoming.pk}"') - 80 :]
    assert "overdue" not in upcoming_row[:200]


def test_list_runs_the_same_number_of_queries_for_1_or_10_jobs(staff_client, demo_personalization):
    _job()
    with CaptureQueriesContext(connection) as one:
        assert staff_client.get(LIST).status_code == 200
    for _ in range(9):
        _job()
    with CaptureQueriesContext(connection) as ten:
        response = staff_client.get(LIST)
    assert len(response.context["jobs"]) == 10
    assert len(ten) == len(one), [q["sql"] for q in ten.captured_queries]


def test_staff_mark_jobs_in_progress_then_done(staff_client, demo_personalization):
    job = _job()
    url = f"/dashboard/workshop/jobs/{job.pk}/advance/"
    response = staff_client.post(url, {"status": "in_progress", "next": LIST}, follow=True)
    assert response.redirect_chain[-1][0] == LIST
    assert "In progress" in response.content.decode()
    staff_client.post(url, {"status": "done", "note": "Checked by RB"})
    job.refresh_from_db()
    assert job.status == "done"
    event = job.events.last()
    assert (event.actor, event.note, event.status) == (staff_client.user, "Checked by RB", "done")

    # Illegal move: refused with a message, nothing recorded, never a 500.
    response = staff_client.post(url, {"status": "open"}, follow=True)
    assert response.status_code == 200
    assert "cannot be moved to open" in response.content.decode()
    assert WorkshopJob.objects.get(pk=job.pk).status == "done"
    assert job.events.count() == 3
    # Nonsense and foreign redirects: refused / ignored.
    response = staff_client.post(url, {"status": "burnt", "next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == LIST
    assert staff_client.get(url).status_code == 405
    assert staff_client.post("/dashboard/workshop/jobs/999999/advance/").status_code == 404


def test_status_buttons_need_the_csrf_token(demo_personalization):
    from oscar.test.factories import UserFactory

    job = _job()
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(is_staff=True))
    response = client.post(f"/dashboard/workshop/jobs/{job.pk}/advance/", {"status": "done"})
    assert response.status_code == 403
    assert WorkshopJob.objects.get(pk=job.pk).status == "open"
    assert not WorkshopJobEvent.objects.filter(job=job, kind="status_changed").exists()


# --- an order's tickets -------------------------------------------------------------------


def test_an_orders_page_lists_its_tickets(staff_client, demo_personalization):
    order = place_order(
        lines=[
            (plain_product(), Choices(), 1),
            (plain_product(), Choices(initials="AB", style="deboss"), 1),
        ]
    )
    (job,) = workshop_jobs_create(order=order)
    html = staff_client.get(f"/dashboard/workshop/orders/{order.number}/").content.decode()
    assert f"/dashboard/workshop/jobs/{job.pk}/ticket/" in html
    assert f"/dashboard/workshop/jobs/{job.pk}/ticket.pdf" in html
    assert f'href="/dashboard/orders/{order.number}/"' in html
    assert staff_client.get("/dashboard/workshop/orders/nope/").status_code == 404


# --- the ticket ---------------------------------------------------------------------------


def test_ticket_shows_every_choice_and_the_gift_message(staff_client, demo_personalization):
    job = _job()
    response = staff_client.get(f"/dashboard/workshop/jobs/{job.pk}/ticket/")
    assert response.status_code == 200
    html = response.content.decode()
    line = job.line
    colour = line.product.attribute_values.get(attribute__code="colour").value_text
    for text in (
        job.order.number,
        line.title,
        line.partner_sku,
        colour,
        ">MV<",  # the initials, on their own
        "Gold foil",
        "Front corner",
        "Navy",
        "Solid brass",
        "Happy 40th, Jo &amp; Sam!\nWith love — from all of us",
        job.due_date.strftime("%-d %b %Y"),
        "Maker's initials",
    ):
        assert text in html, text
    assert "http://" not in html.split("<main", 1)[1] and "https://" not in html


def test_ticket_pdf_carries_what_the_maker_needs(staff_client, demo_personalization, tmp_path):
    # Never skipped: `make test` installs poppler-utils (make system-deps); missing is a failure.
    assert shutil.which("pdftotext"), "pdftotext is missing: run `make system-deps`"
    job = _job()
    response = staff_client.get(f"/dashboard/workshop/jobs/{job.pk}/ticket.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    path = tmp_path / "ticket.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    flat = " ".join(text.split())
    for expected in (
        job.order.number,
        job.line.partner_sku,
        "MV",
        "Gold foil",
        "Front corner",
        "Navy",
        "Solid brass",
        "Happy 40th, Jo & Sam! With love — from all of us",
        job.due_date.strftime("%-d %b %Y"),
    ):
        assert expected in flat, expected
    assert FULL.gift_message.splitlines()[0] in text


def test_ticket_pdf_never_fetches_from_the_network(staff_client, demo_personalization, monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("the PDF tried to reach the network")

    job = _job()
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    # The database connection is already open; WeasyPrint must not open any other.
    response = staff_client.get(f"/dashboard/workshop/jobs/{job.pk}/ticket.pdf")
    assert response.status_code == 200


def test_unknown_jobs_are_404(staff_client, db):
    assert staff_client.get("/dashboard/workshop/jobs/999999/ticket/").status_code == 404
    assert staff_client.get("/dashboard/workshop/jobs/999999/ticket.pdf").status_code == 404


def test_pdf_rendering_refuses_remote_resources(monkeypatch):
    import socket

    from shop.workshop.pdf import html_to_pdf

    attempts = []
    monkeypatch.setattr(socket.socket, "connect", lambda *a, **k: attempts.append(a))
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: attempts.append(a))
    html = (
        '<link rel="stylesheet" href="https://fonts.example/css">'
        "<style>@import url(http://cdn.example/x.css);"
        " body { background: url(http://x.example/b.png) }</style>"
        '<p>Ticket</p><img src="http://images.example/logo.png">'
    )
    assert html_to_pdf(html).startswith(b"%PDF")
    assert attempts == []


@pytest.mark.django_db
def test_oscar_order_page_links_to_the_workshop_tickets(client, demo_personalization):
    order = place_personalized_order()
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.create_user(
        username="orders-staff",
        email="orders@example.com",
        password="x",
        is_staff=True,
        is_superuser=True,
    )
    client.force_login(staff)
    response = client.get(f"/dashboard/orders/{order.number}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"/dashboard/workshop/orders/{order.number}/" in html
    from django.utils.html import escape

    for choice in order.lines.get().personalizations.all():
        assert escape(choice.description) in html
