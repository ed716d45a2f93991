"""Writes for referrals: share codes, a friend joining through one, the reward on the friend's
first paid order (store credit for both, through the credit ledger, once), its refusal by the
guards, and its withdrawal when that order is cancelled or refunded. Each state change is a
ReferralEvent row in the same transaction.

Locks: the order's row, then the referral's (the order pipeline holds the order's row when it
tells us of a cancellation), so the reward and a withdrawal never interleave."""

from __future__ import annotations

import logging
import secrets
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import CharField, F, Func, Value
from django.db.models.functions import Concat, Lower, Upper
from django.utils import timezone
from oscar.core.loading import get_model

from shop.credit.services import credit_issue, credit_withdraw
from shop.order import pipeline
from shop.payments.models import PaymentIntentRecord
from shop.payments.services import payment_card_fingerprint
from shop.referrals.models import (
    CODE_ALPHABET,
    CODE_LENGTH,
    Referral,
    ReferralCode,
    ReferralEvent,
    ReferralProgramme,
)
from shop.referrals.selectors import referral_code_owner, referral_programme

logger = logging.getLogger(__name__)

Order = get_model("order", "Order")
UserAddress = get_model("address", "UserAddress")

CREDIT_MAX = Decimal("500.00")  # no referral credit above this (a typo, not a policy)
CENT = Decimal("0.01")
# A referrer's card payments read for the card guard (most recent first).
REFERRER_CARDS_READ = 20

FRIEND_NOTE = "Welcome credit: you joined through a friend's invitation"
REFERRER_NOTE = "Thank-you credit: a friend you invited placed their first order"
WITHDRAWN_NOTE = "Referral credit withdrawn: order {number} was {status}."


class ReferralError(ValueError):
    """A referral operation refused; the message is for staff."""


# --- share codes ------------------------------------------------------------------------


def referral_code_get_or_create(*, user: Any) -> ReferralCode:
    """The customer's share code, made the first time (unique; a clash is drawn again)."""
    existing = ReferralCode.objects.filter(user=user).first()
    if existing is not None:
        return existing
    for _ in range(5):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        try:
            with transaction.atomic():
                return ReferralCode.objects.create(user=user, code=code)
        except IntegrityError:
            found = ReferralCode.objects.filter(user=user).first()
            if found is not None:  # made by a concurrent request
                return found
    raise ReferralError("Could not make a share code; please try again.")


# --- the programme ----------------------------------------------------------------------


def referral_programme_update(
    *, staff: Any, enabled: bool, friend_credit: Decimal, referrer_credit: Decimal
) -> ReferralProgramme:
    """Staff change the programme (on/off and the two credits, 0 to CREDIT_MAX, to the
    penny); recorded as an event. Credits already issued keep their amounts."""
    for amount in (friend_credit, referrer_credit):
        if (
            not isinstance(amount, Decimal)
            or not amount.is_finite()
            or amount < 0
            or amount > CREDIT_MAX
            or amount != amount.quantize(CENT)
        ):
            raise ReferralError(f"A credit is an amount from 0.00 to {CREDIT_MAX}, in pence.")
    friend_credit, referrer_credit = friend_credit.quantize(CENT), referrer_credit.quantize(CENT)
    with transaction.atomic():
        programme = referral_programme()
        programme = ReferralProgramme.objects.select_for_update().get(pk=programme.pk)
        programme.enabled = enabled
        programme.friend_credit = friend_credit
        programme.referrer_credit = referrer_credit
        programme.updated_by = staff if getattr(staff, "pk", None) else None
        programme.save()
        ReferralEvent.objects.create(
            kind=ReferralEvent.Kind.PROGRAMME,
            actor=programme.updated_by,
            note=(
                f"{'On' if enabled else 'Paused'}; friend {friend_credit}, "
                f"referrer {referrer_credit}"
            ),
        )
    return programme


# --- a friend joins ---------------------------------------------------------------------


def mailbox(email: str) -> str:
    """The mailbox an address reaches: lower-cased, any "+tag" dropped from the local part
    (ada+shop@example.com and ADA@example.com are one person)."""
    local, _, domain = (email or "").strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}" if local else (email or "").strip().lower()


def referral_join(*, friend: Any, code: str) -> Referral | None:
    """The new account `friend` registered through a share link carrying `code`: record the
    referral, unless the code is no one's, the programme is paused, it is the referrer
    themselves (same account or same mailbox), or the friend was already referred. Returns
    the referral, or None when there is none."""
    referrer = referral_code_owner(code=code)
    if referrer is None or friend is None or not getattr(friend, "pk", None):
        return None
    if referrer.pk == friend.pk or mailbox(referrer.email) == mailbox(friend.email):
        logger.info("Referral refused at registration: user %s referred themselves", friend.pk)
        return None
    if not referral_programme().enabled:
        return None
    try:
        with transaction.atomic():
            referral = Referral.objects.create(referrer=referrer, friend=friend, code=code)
            ReferralEvent.objects.create(
                referral=referral, kind=ReferralEvent.Kind.JOINED, note=f"Code {code}"
            )
    except IntegrityError:  # already referred (a concurrent registration of the same friend)
        return Referral.objects.filter(friend=friend).first()
    return referral


# --- the reward on the friend's first paid order ----------------------------------------


def _address_key(prefix: str) -> Concat:
    """line1 and postcode of an address, normalised in the database: letters and digits
    only, case folded ("12 Lower Rushall St." / "ws1 2aa" → "12lowerrushallst|WS12AA")."""

    def only(expr: Any, pattern: str) -> Func:
        return Func(
            expr,
            Value(pattern),
            Value(""),
            Value("g"),
            function="regexp_replace",
            output_field=CharField(),
        )

    return Concat(
        only(Lower(F(f"{prefix}line1")), "[^a-z0-9]+"),
        Value("|"),
        only(Upper(F(f"{prefix}postcode")), "[^A-Z0-9]+"),
        output_field=CharField(),
    )


def _same_address(*, order: Any, referrer_id: int) -> bool:
    """The order goes to an address the referrer had an order delivered to or keeps in their
    address book (line1 and postcode, normalised)."""
    key = (
        Order.objects.filter(pk=order.pk, shipping_address__isnull=False)
        .annotate(key=_address_key("shipping_address__"))
        .values_list("key", flat=True)
        .first()
    )
    if not key or key.startswith("|") or key.endswith("|"):
        return False
    return (
        Order.objects.filter(user_id=referrer_id, shipping_address__isnull=False)
        .annotate(key=_address_key("shipping_address__"))
        .filter(key=key)
        .exists()
        or UserAddress.objects.filter(user_id=referrer_id)
        .annotate(key=_address_key(""))
        .filter(key=key)
        .exists()
    )


def _card_fingerprints(*, order: Any, referrer_id: int) -> tuple[str, set[str]]:
    """The fingerprint of the card that paid the order ("" if none) and those of the cards
    the referrer paid with (their most recent card payments). Asks Stripe for the ones not
    recorded yet, so it runs outside any lock; PaymentProviderUnavailable propagates."""
    record = PaymentIntentRecord.objects.filter(order_number=order.number).first()
    fingerprint = payment_card_fingerprint(record=record) if record is not None else ""
    if not fingerprint:
        return "", set()
    numbers = Order.objects.filter(user_id=referrer_id, paid_at__isnull=False).values("number")
    records = PaymentIntentRecord.objects.filter(
        order_number__in=numbers, status=PaymentIntentRecord.Status.SUCCEEDED
    ).order_by("-created_at")[:REFERRER_CARDS_READ]
    return fingerprint, {payment_card_fingerprint(record=r) for r in records} - {""}


def _decide(*, referral: Referral, status: str, reason: str = "", note: str = "") -> None:
    """Move the referral to `status` (Referral.MACHINE refuses an illegal move) and record
    the event, whose kind is the new status."""
    refusal = Referral.MACHINE.refusal(referral.status, status)
    if refusal is not None:
        raise ReferralError(
            f"Referral {referral.pk}: {referral.status} → {status}: {refusal.value}"
        )
    referral.status = status
    referral.reason = reason
    referral.decided_at = timezone.now()
    referral.save()
    ReferralEvent.objects.create(referral=referral, kind=status, note=note[:255])


def referral_reward(*, order: Any) -> Referral | None:
    """The friend's order was paid: if it is their first paid order and the friend joined
    through a referral, issue both credits (through the ledger, one per reference, whatever
    the number of calls), or refuse with the reason (programme paused, the referrer's card,
    the referrer's address, the order already cancelled or refunded). Returns the referral
    (None when the order's customer was not referred); a referral already decided is left
    as it is. The card guard may ask Stripe: PaymentProviderUnavailable propagates (retry)."""
    if order.user_id is None:
        return None
    referral = Referral.objects.filter(friend_id=order.user_id).first()
    if referral is None or referral.status != Referral.Status.JOINED:
        return referral
    first = (
        Order.objects.filter(user_id=order.user_id, paid_at__isnull=False)
        .order_by("paid_at", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    if first != order.pk:
        return referral  # not the first paid order (or not paid): the first one decides
    fingerprint, referrer_cards = _card_fingerprints(order=order, referrer_id=referral.referrer_id)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        referral = Referral.objects.select_for_update().get(pk=referral.pk)
        if referral.status != Referral.Status.JOINED:
            return referral
        referral.order_number = order.number
        programme = referral_programme()
        reason = ""
        if order.status in pipeline.END_STATUSES:
            reason = Referral.Reason.ORDER_ENDED
        elif not programme.enabled:
            reason = Referral.Reason.PAUSED
        elif fingerprint and fingerprint in referrer_cards:
            reason = Referral.Reason.SAME_CARD
        elif _same_address(order=order, referrer_id=referral.referrer_id):
            reason = Referral.Reason.SAME_ADDRESS
        if reason:
            _decide(
                referral=referral,
                status=Referral.Status.REFUSED,
                reason=reason,
                note=f"Order {order.number}: {Referral.Reason(reason).label}",
            )
            return referral
        credits = (
            ("friend", order.user, programme.friend_credit, FRIEND_NOTE),
            ("referrer", referral.referrer, programme.referrer_credit, REFERRER_NOTE),
        )
        for role, user, amount, note in credits:
            if amount > 0:
                credit_issue(
                    user=user, amount=amount, reference=referral.credit_reference(role), note=note
                )
        referral.friend_credit = programme.friend_credit
        referral.referrer_credit = programme.referrer_credit
        _decide(
            referral=referral,
            status=Referral.Status.REWARDED,
            note=(
                f"Order {order.number}: friend {programme.friend_credit}, "
                f"referrer {programme.referrer_credit}"
            ),
        )
    return referral


# --- withdrawal -------------------------------------------------------------------------


def referral_withdraw(*, order: Any, actor: Any = None) -> Referral | None:
    """The order that rewarded a referral was cancelled or refunded: take both credits back,
    once, each as far as the balance still holds it (what was spent already is recorded as
    a shortfall, in the ledger note and the referral's event, for staff). Returns the
    referral, or None when the order rewarded none."""
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update()
            .filter(order_number=order.number, status=Referral.Status.REWARDED)
            .first()
        )
        if referral is None:
            return None
        status = order.status.lower()
        notes = []
        for role in ("friend", "referrer"):
            withdrawal = credit_withdraw(
                reference=referral.credit_reference(role),
                actor=actor,
                note=WITHDRAWN_NOTE.format(number=order.number, status=status),
            )
            if withdrawal.entry is not None:
                part = f"{role} {withdrawal.taken}"
                if withdrawal.shortfall:
                    part += f" ({withdrawal.shortfall} already spent)"
                notes.append(part)
        _decide(
            referral=referral,
            status=Referral.Status.WITHDRAWN,
            note=f"Order {order.number} {status}: withdrawn " + ", ".join(notes or ["nothing"]),
        )
    return referral


def referral_order_ended(*, order: Any, new_status: str) -> Referral | None:
    """The order pipeline's word that an order ended: withdraw the referral it rewarded."""
    if new_status not in (pipeline.CANCELLED, pipeline.REFUNDED) or order.user_id is None:
        return None
    if not Referral.objects.filter(order_number=order.number).exists():
        return None
    return referral_withdraw(order=order)
