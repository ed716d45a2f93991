"""A real Celery worker runs the scheme's background work: the label PDF and email after
registration, the reminder and the expiry from the beat task once time has moved on (the
take-back's clock is moved back by 15 and 31 days), the credit and its email after approval."""

import email
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from config.celery_app import app
from shop.credit.selectors import credit_balance
from shop.takeback.models import TakeBack
from shop.takeback.services import takeback_approve, takeback_grade, takeback_receive
from shop.takeback.tasks import takeback_sweep
from tests.conftest import sent_emails, wait_for
from tests.takeback.helpers import customer, delivered_order, register_line, staff_member

S = TakeBack.Status


def mails(mail_dir):
    # Only messages written in full (a file still being written is not read half-way).
    return [email.message_from_string(text.strip()) for text in sent_emails(mail_dir)]


def subjects(mail_dir):
    return [m["Subject"] for m in mails(mail_dir)]


def test_the_sweep_is_on_beats_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["takeback-reminders-and-expiry"]
    assert entry["task"] == "shop.takeback.tasks.takeback_sweep"
    assert entry["task"] in app.tasks


@pytest.mark.worker
def test_label_reminder_expiry_and_credit_on_the_worker(celery_worker, catalogue, mail_dir):
    jo = customer()
    takeback = register_line(jo, delivered_order(user=jo))

    # Label: issued and emailed with its PDF, once.
    wait_for(lambda: TakeBack.objects.get(pk=takeback.pk).status == S.LABEL_ISSUED)
    wait_for(lambda: any("return label" in s for s in subjects(mail_dir)))
    label_mail = next(m for m in mails(mail_dir) if "return label" in m["Subject"])
    takeback.refresh_from_db()
    assert takeback.tracking_number in label_mail.as_string()
    parts = [p for p in label_mail.walk() if p.get_content_type() == "application/pdf"]
    assert parts and parts[0].get_payload(decode=True).startswith(b"%PDF")

    # Fifteen days later, nothing posted: the beat task reminds, once.
    TakeBack.objects.filter(pk=takeback.pk).update(
        label_issued_at=timezone.now() - timedelta(days=15)
    )
    takeback_sweep.delay()
    takeback_sweep.delay()
    wait_for(lambda: any("reminder" in s for s in subjects(mail_dir)))
    wait_for(lambda: celery_worker.log_path.read_text().count("takeback_sweep") >= 4)
    assert sum("reminder" in s for s in subjects(mail_dir)) == 1
    assert TakeBack.objects.get(pk=takeback.pk).reminder_sent_at is not None

    # Thirty-one days: expired, and the customer is told.
    TakeBack.objects.filter(pk=takeback.pk).update(
        label_issued_at=timezone.now() - timedelta(days=31)
    )
    takeback_sweep.delay()
    wait_for(lambda: TakeBack.objects.get(pk=takeback.pk).status == S.EXPIRED)
    wait_for(lambda: any("expired" in s for s in subjects(mail_dir)))

    # Another item goes all the way: credit issued by the worker, emailed once.
    staff = staff_member()
    second = register_line(jo, delivered_order(user=jo))
    wait_for(lambda: TakeBack.objects.get(pk=second.pk).tracking_number)
    second.refresh_from_db()
    takeback_receive(tracking_number=second.tracking_number, staff=staff)
    takeback_grade(takeback=second, grade="A", route="resell", staff=staff)
    takeback_approve(takeback=second, staff=staff)
    wait_for(lambda: TakeBack.objects.get(pk=second.pk).status == S.CREDIT_ISSUED)
    wait_for(lambda: any("store credit" in s for s in subjects(mail_dir)))
    assert credit_balance(user=jo) == Decimal("30.00")  # grade A: the rule's top
    assert TakeBack.objects.get(pk=second.pk).events.filter(kind="emailed").count() == 2
