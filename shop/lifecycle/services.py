"""Lifecycle emails: marketing consent (every change a history row), the sweep that queues
each campaign's emails (idempotent: one send per campaign and subject, by a unique
constraint), the send that checks everything again before it sends (consent, pause,
relevance; locked, so a redelivered task never sends twice), one-click unsubscribe, and the
staff's pause and parameters.

No consent, no marketing email: the sweep only finds customers who consented, and the send
asks again at send time, so consent withdrawn after an email was queued still stops it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from shop.common.outbox import outbox_enqueue_many
from shop.lifecycle import selectors
from shop.lifecycle.models import (
    Campaign,
    ConsentChange,
    ConsentSource,
    MarketingConsent,
    Send,
)

logger = logging.getLogger(__name__)

SEND_TASK = "shop.lifecycle.tasks.send_lifecycle_email"
UNSUBSCRIBE_SALT = "shop.lifecycle.unsubscribe"
# A token is a few dozen characters; anything much longer is not one of ours.
TOKEN_MAX_LENGTH = 200
# Emails one sweep queues per campaign at most (the next sweep takes the rest).
SWEEP_LIMIT = 500

# The consent checkbox, in the shop's words (what the customer agrees to is stored with it).
CONSENT_LABEL = "Email me about new pieces, care tips and offers"
CONSENT_HELP = (
    "A few letters a month from our workshop in Walsall. Stop them whenever you like, from "
    "your account or with the link at the foot of every email."
)
CONSENT_WORDING = f"{CONSENT_LABEL}. {CONSENT_HELP}"

# The campaigns' defaults (the data migration wrote the same).
CAMPAIGN_DEFAULTS: dict[str, dict[str, Any]] = {
    Campaign.Kind.ABANDONED_BASKET: {"wait": 24, "segments": []},
    Campaign.Kind.WIN_BACK: {
        "wait": 120,
        "segments": ["Loyal, slipping", "At risk", "Lost", "Needs attention"],
    },
    Campaign.Kind.TAKEBACK_REMINDER: {"wait": 730, "segments": []},
    Campaign.Kind.REVIEW_REQUEST: {"wait": 7, "segments": []},
}
# The longest waits staff may set (hours for the abandoned basket, days for the others).
WAIT_MAX = {"hours": 24 * 90, "days": 3650}


class CampaignRefused(ValueError):
    """A campaign change that is not allowed; the message is for staff."""


# --- Consent -------------------------------------------------------------------------------


def consent_set(
    *,
    user: Any,
    opted_in: bool,
    source: str,
    wording: str = "",
    actor: Any = None,
    send_id: int | None = None,
    now: datetime | None = None,
) -> MarketingConsent:
    """Record the customer's marketing consent. A change (or the first answer, given or not)
    leaves a history row with the source and the words shown; the same answer again changes
    nothing."""
    if source not in ConsentSource.values:
        raise ValueError(f"Unknown consent source {source!r}")
    now = now or timezone.now()
    with transaction.atomic():
        # Locked when it exists (select_for_update applies to get_or_create's read).
        consent, created = MarketingConsent.objects.select_for_update().get_or_create(
            user=user, defaults={"opted_in": opted_in, "source": source, "changed_at": now}
        )
        if not created:
            if consent.opted_in == opted_in:
                return consent
            consent.opted_in, consent.source, consent.changed_at = opted_in, source, now
            consent.save(update_fields=["opted_in", "source", "changed_at"])
        ConsentChange.objects.create(
            user=user,
            opted_in=opted_in,
            source=source,
            wording=wording,
            actor=actor,
            send_id=send_id,
            created_at=now,
        )
    return consent


def consent_at_registration(*, user: Any, opted_in: bool) -> MarketingConsent:
    """The registration form's answer (ticked or not), for an account created just now."""
    return consent_set(
        user=user, opted_in=opted_in, source=ConsentSource.REGISTRATION, wording=CONSENT_WORDING
    )


# --- Unsubscribe ---------------------------------------------------------------------------


def unsubscribe_token(*, user_id: int, send_id: int) -> str:
    """The signed token of an email's unsubscribe link: names the customer and the email."""
    return signing.dumps({"u": user_id, "s": send_id}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_token_read(token: str) -> tuple[int, int] | None:
    """(user id, send id) of a token we signed, or None (bad signature, tampered, junk)."""
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except (signing.BadSignature, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    user_id, send_id = data.get("u"), data.get("s")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (user_id, send_id)):
        return None
    return user_id, send_id


def unsubscribe_by_token(*, token: str) -> Any | None:
    """Withdraw the marketing consent of the customer a valid token names (the history row
    names the email whose link was used). Returns the customer, or None for a bad token,
    which changes nothing. Idempotent: a second use changes nothing more."""
    read = unsubscribe_token_read(token)
    if read is None:
        return None
    user_id, send_id = read
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return None
    if not Send.objects.filter(pk=send_id, user_id=user_id).exists():
        send_id = None
    consent_set(user=user, opted_in=False, source=ConsentSource.UNSUBSCRIBE, send_id=send_id)
    return user


# --- Campaigns (staff) ---------------------------------------------------------------------


def campaigns_ensure() -> None:
    """The four campaigns exist (the migration made them; a flushed test database has not)."""
    for kind, defaults in CAMPAIGN_DEFAULTS.items():
        Campaign.objects.get_or_create(kind=kind, defaults=dict(defaults))


def campaign_pause(*, campaign: Campaign, paused: bool, staff: Any) -> Campaign:
    """Pause (nothing is queued, and what was queued is skipped at send time) or resume."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if campaign.paused != paused:
            campaign.paused, campaign.updated_by = paused, staff
            campaign.save(update_fields=["paused", "updated_by", "updated_at"])
    return campaign


def campaign_update(
    *, campaign: Campaign, wait: int, segments: list[str] | None = None, staff: Any
) -> Campaign:
    """Change the campaign's wait (hours or days: positive, within reason) and, for the
    win-back, the RFM segments it writes to (known names, at least one)."""
    from shop.reports.selectors import RFM_SEGMENT_NAMES

    limit = WAIT_MAX[campaign.wait_unit]
    if isinstance(wait, bool) or not isinstance(wait, int) or not 1 <= wait <= limit:
        raise CampaignRefused(
            f"The wait must be a whole number of {campaign.wait_unit}, 1–{limit}."
        )
    fields = ["wait", "updated_by", "updated_at"]
    if campaign.kind == Campaign.Kind.WIN_BACK:
        chosen = list(dict.fromkeys(segments or []))
        unknown = [s for s in chosen if s not in RFM_SEGMENT_NAMES]
        if unknown or not chosen:
            raise CampaignRefused("Choose one or more of the customer segments.")
        # Kept in the reports' order, whatever order the form sent.
        segments = [s for s in RFM_SEGMENT_NAMES if s in chosen]
        fields.append("segments")
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        campaign.wait, campaign.updated_by = wait, staff
        if "segments" in fields:
            campaign.segments = segments
        campaign.save(update_fields=fields)
    return campaign


# --- The sweep -----------------------------------------------------------------------------

_INSERT_SENDS = """
INSERT INTO lifecycle_send
       (campaign_id, key, user_id, basket_id, order_id, line_id, status, reason, detail,
        created_at)
SELECT %s, t.key, t.user_id, t.basket_id, t.order_id, t.line_id, 'queued', '', '', %s
  FROM unnest(%s::varchar[], %s::integer[], %s::integer[], %s::integer[], %s::integer[])
       AS t(key, user_id, basket_id, order_id, line_id)
ON CONFLICT (campaign_id, key) DO NOTHING
RETURNING id
"""


def lifecycle_sweep(
    *, kind: str | None = None, now: datetime | None = None, limit: int = SWEEP_LIMIT
) -> dict[str, int]:
    """Queue each running campaign's emails (or one campaign's: `kind`): the selectors find
    the candidates, one INSERT … ON CONFLICT DO NOTHING records the sends (so a sweep run
    twice, or two at once, queues each email once), and one send task per new row goes
    through the outbox with the same commit. Returns how many were queued per campaign."""
    if kind is not None and kind not in Campaign.Kind.values:
        raise ValueError(f"Unknown campaign {kind!r}")
    now = now or timezone.now()
    campaigns_ensure()
    campaigns = Campaign.objects.filter(paused=False).order_by("pk")
    if kind is not None:
        campaigns = campaigns.filter(kind=kind)
    queued: dict[str, int] = {}
    for campaign in campaigns:
        candidates = selectors.campaign_candidates(campaign=campaign, now=now, limit=limit)
        queued[campaign.kind] = len(_sends_queue(campaign=campaign, candidates=candidates, now=now))
    return queued


def _sends_queue(
    *, campaign: Campaign, candidates: list[selectors.Candidate], now: datetime
) -> list[int]:
    if not candidates:
        return []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                _INSERT_SENDS,
                [
                    campaign.pk,
                    now,
                    [c.key for c in candidates],
                    [c.user_id for c in candidates],
                    [c.basket_id for c in candidates],
                    [c.order_id for c in candidates],
                    [c.line_id for c in candidates],
                ],
            )
            ids = [row[0] for row in cursor.fetchall()]
        outbox_enqueue_many(
            messages=[
                {"task": SEND_TASK, "args": [pk], "subject": f"lifecycle-send:{pk}"} for pk in ids
            ]
        )
    return ids


# --- Sending -------------------------------------------------------------------------------


def lifecycle_send_deliver(*, send_id: int, now: datetime | None = None) -> str:
    """Send one queued email, or skip it with the reason: the customer's consent is asked
    again now (withdrawn after the sweep: skipped), the campaign may have been paused, and
    what the email is about may have changed (the basket ordered, a newer order, the piece
    taken back, the order refunded). The send row is locked while this happens, and only a
    queued row is sent, so two deliveries of the task send one email. Returns the status."""
    now = now or timezone.now()
    with transaction.atomic():
        send = (
            Send.objects.select_for_update(of=("self",))
            .select_related("campaign", "user")
            .filter(pk=send_id)
            .first()
        )
        if send is None:
            return "missing"
        if send.status != Send.Status.QUEUED:
            logger.info("Lifecycle send %s already %s", send.pk, send.status)
            return send.status
        reason, detail = _skip_reason(send=send, now=now)
        if reason:
            send.status, send.reason, send.detail, send.skipped_at = (
                Send.Status.SKIPPED,
                reason,
                detail[:200],
                now,
            )
            send.save(update_fields=["status", "reason", "detail", "skipped_at"])
            return send.status
        _message(send=send).send()
        send.status, send.sent_at = Send.Status.SENT, now
        send.save(update_fields=["status", "sent_at"])
    return send.status


def _skip_reason(*, send: Send, now: datetime) -> tuple[str, str]:
    if send.campaign.paused:
        return Send.Reason.PAUSED, "The campaign was paused."
    if not selectors.consent_given(user_id=send.user_id):
        return Send.Reason.NO_CONSENT, "The customer has not agreed to marketing email."
    if not send.user.email or not send.user.is_active:
        return Send.Reason.NO_ADDRESS, "The account has no email address, or is closed."
    irrelevance = selectors.send_irrelevance(send=send, now=now)
    if irrelevance:
        return Send.Reason.NOT_RELEVANT, irrelevance
    return "", ""


def site_url() -> str:
    """The shop's address for links in emails (the Site's domain, as order emails build it)."""
    return f"{settings.OSCAR_URL_SCHEMA}://{Site.objects.get_current().domain}"


def unsubscribe_url(*, send: Send) -> str:
    token = unsubscribe_token(user_id=send.user_id, send_id=send.pk)
    return site_url() + reverse("lifecycle:unsubscribe", kwargs={"token": token})


SUBJECTS = {
    Campaign.Kind.ABANDONED_BASKET: "Your basket is still waiting for you",
    Campaign.Kind.WIN_BACK: "New from the workshop in Walsall",
    Campaign.Kind.TAKEBACK_REMINDER: "Your {title}: it may be time to send it home",
    Campaign.Kind.REVIEW_REQUEST: "How is your order {number} wearing in?",
}


def _message(*, send: Send) -> EmailMultiAlternatives:
    """The email (text and HTML in the shop's look) with the unsubscribe link and headers."""
    base = site_url()
    unsubscribe = unsubscribe_url(send=send)
    context: dict[str, Any] = {
        "user": send.user,
        "site_url": base,
        "unsubscribe_url": unsubscribe,
        "preferences_url": base + reverse("lifecycle:email-preferences"),
    }
    context.update(_kind_context(send=send, base=base))
    kind = send.campaign.kind
    subject = SUBJECTS[kind].format(
        title=context.get("title", "piece"), number=getattr(send.order, "number", "")
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"shop/lifecycle/email/{kind}.txt", context),
        to=[send.user.email],
        headers={
            # RFC 2369 and RFC 8058: mail clients offer "Unsubscribe", and a POST to the URL
            # unsubscribes in one click.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(
        render_to_string(f"shop/lifecycle/email/{kind}.html", context), "text/html"
    )
    return message


def _kind_context(*, send: Send, base: str) -> dict[str, Any]:
    kind = send.campaign.kind
    if kind == Campaign.Kind.ABANDONED_BASKET:
        lines = list(send.basket.lines.select_related("product", "product__parent").order_by("pk"))
        return {
            "lines": [
                {"title": line.product.get_title(), "quantity": line.quantity} for line in lines
            ],
            "basket_url": base + reverse("basket:summary"),
        }
    if kind == Campaign.Kind.WIN_BACK:
        return {
            "catalogue_url": base + reverse("catalogue:index"),
            "last_order": send.order,
        }
    if kind == Campaign.Kind.TAKEBACK_REMINDER:
        line = send.line
        return {
            "title": line.title,
            "order": send.order,
            "takeback_url": base + reverse("takeback:register"),
            "scheme_url": base + reverse("takeback:list"),
        }
    if kind == Campaign.Kind.REVIEW_REQUEST:
        products = {}
        for line in send.order.lines.select_related("product", "product__parent").order_by("pk"):
            product = line.product
            if product is not None and product.parent_id:
                product = product.parent  # reviews are of the product, not its colour
            if product is None or product.pk in products:
                continue
            products[product.pk] = {
                "title": product.get_title(),
                "review_url": base
                + reverse(
                    "catalogue:reviews-add",
                    kwargs={"product_slug": product.slug, "product_pk": product.pk},
                ),
            }
        return {"order": send.order, "products": list(products.values())}
    raise ValidationError(f"Unknown campaign {kind}")
