"""The real Celery worker runs the abandoned-basket sweep from beat's task name: a customer
who registered with the checkbox ticked and left a basket gets exactly one email, however
often the sweep runs, and its unsubscribe link works signed out."""

import email
import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from config.celery_app import app
from shop.basket.models import Line
from shop.lifecycle.models import MarketingConsent, Send
from shop.lifecycle.tasks import lifecycle_sweep
from tests.conftest import sent_emails, wait_for
from tests.lifecycle.helpers import product, touch

PASSWORD = "a fresh long pass phrase 9"


def test_the_sweeps_are_on_beats_schedule():
    for name, kind in (
        ("lifecycle-abandoned-baskets", "abandoned_basket"),
        ("lifecycle-win-back", "win_back"),
        ("lifecycle-takeback-reminders", "takeback_reminder"),
        ("lifecycle-review-requests", "review_request"),
    ):
        entry = settings.CELERY_BEAT_SCHEDULE[name]
        assert entry["task"] == "shop.lifecycle.tasks.lifecycle_sweep"
        assert entry["kwargs"] == {"kind": kind}
        assert entry["task"] in app.tasks


@pytest.mark.worker
def test_an_abandoned_basket_email_goes_out_once_on_the_worker(celery_worker, catalogue, mail_dir):
    client = Client()
    response = client.post(
        "/accounts/register/",
        {
            "email": "wren@example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "marketing_opt_in": "on",
            "registration_submit": "Register",
        },
        REMOTE_ADDR="10.9.1.1",
    )
    assert response.status_code == 302
    wren = get_user_model().objects.get(email="wren@example.com")
    assert MarketingConsent.objects.get(user=wren).opted_in
    assert client.post(f"/basket/add/{product().pk}/", {"quantity": 1}).status_code == 302
    line = Line.objects.get(basket__owner=wren)
    touch(line.basket, hours_ago=25)

    lifecycle_sweep.delay(kind="abandoned_basket")
    lifecycle_sweep.delay(kind="abandoned_basket")
    wait_for(lambda: Send.objects.filter(status=Send.Status.SENT).exists())
    wait_for(lambda: celery_worker.log_path.read_text().count("lifecycle_sweep") >= 4)
    wait_for(lambda: sent_emails(mail_dir))
    messages = [
        email.message_from_string(text.strip())
        for text in sent_emails(mail_dir)
        if "wren@example.com" in text and "basket" in text
    ]
    welcome = [m for m in messages if "basket is still waiting" not in m["Subject"]]
    (message,) = [m for m in messages if m not in welcome]
    assert Send.objects.count() == 1
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = "".join(message["List-Unsubscribe"].split()).strip("<>")  # unfolded
    path = re.sub(r"^https?://[^/]+", "", url)
    assert path.startswith("/email/unsubscribe/")
    page = Client().get(path)
    assert page.status_code == 200
    assert b"You are unsubscribed" in page.content
    assert not MarketingConsent.objects.get(user=wren).opted_in
