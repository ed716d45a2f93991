"""Writes for store credit. The balance only changes through guarded atomic updates, so it
never goes below zero and the same credit cannot be spent twice, however many checkouts
run at once; every change is a ledger row (CreditEntry) in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q

from shop.credit.models import CreditAccount, CreditEntry

CENT = Decimal("0.01")


class CreditError(ValueError):
    """A credit operation refused; the message is for the customer or staff."""


class InsufficientCredit(CreditError):
    pass


class CreditAlreadySpent(CreditError):
    pass


def _amount(value: Decimal) -> Decimal:
    if not isinstance(value, Decimal):
        raise TypeError("Credit amounts are Decimal")
    amount = value.quantize(CENT)
    if amount != value or amount <= 0:
        raise CreditError(f"{value} is not a valid credit amount.")
    return amount


def credit_account_get_or_create(*, user: Any) -> CreditAccount:
    account = CreditAccount.objects.filter(user=user).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return CreditAccount.objects.create(user=user)
    except IntegrityError:  # created by a concurrent call
        return CreditAccount.objects.get(user=user)


def credit_issue(
    *,
    user: Any,
    amount: Decimal,
    takeback: Any = None,
    reference: str = "",
    actor: Any = None,
    note: str = "",
) -> tuple[CreditEntry, bool]:
    """Add credit to the user's balance. With a take-back or a `reference` (what earned it,
    e.g. "referral:7:friend"), once: a second call, concurrent or not, returns the first
    entry and adds nothing. Returns (entry, created)."""
    amount = _amount(amount)
    reference = reference[:64]
    once = Q(takeback=takeback) if takeback is not None else Q(reference=reference)
    account = credit_account_get_or_create(user=user)
    with transaction.atomic():
        if takeback is not None or reference:
            existing = CreditEntry.objects.filter(once, kind=CreditEntry.Kind.ISSUED).first()
            if existing is not None:
                return existing, False
        try:
            with transaction.atomic():
                entry = CreditEntry.objects.create(
                    account=account,
                    kind=CreditEntry.Kind.ISSUED,
                    amount=amount,
                    takeback=takeback,
                    reference=reference,
                    actor=actor if getattr(actor, "pk", None) else None,
                    note=note[:255],
                )
        except IntegrityError:
            return CreditEntry.objects.get(once, kind=CreditEntry.Kind.ISSUED), False
        CreditAccount.objects.filter(pk=account.pk).update(balance=F("balance") + amount)
    return entry, True


@dataclass(frozen=True)
class Withdrawal:
    """A credit taken back: `entry` (None when no credit was issued under the reference),
    `taken` what came off the balance, `shortfall` what had been spent already."""

    entry: CreditEntry | None
    taken: Decimal
    shortfall: Decimal


def credit_withdraw(*, reference: str, actor: Any = None, note: str = "") -> Withdrawal:
    """Take back the credit issued under `reference`, once per reference: as much of it as
    the balance still holds (never below zero; the account row is locked while we decide).
    What was already spent is the shortfall: recorded in the entry's note and returned, for
    staff. A second call returns the first withdrawal and takes nothing."""
    if not reference:
        raise CreditError("A withdrawal names the credit it takes back.")
    with transaction.atomic():
        issued = CreditEntry.objects.filter(
            reference=reference, kind=CreditEntry.Kind.ISSUED
        ).first()
        if issued is None:
            return Withdrawal(entry=None, taken=Decimal("0.00"), shortfall=Decimal("0.00"))
        account = CreditAccount.objects.select_for_update().get(pk=issued.account_id)
        existing = CreditEntry.objects.filter(
            reference=reference, kind=CreditEntry.Kind.WITHDRAWN
        ).first()
        if existing is not None:
            return Withdrawal(
                entry=existing, taken=-existing.amount, shortfall=issued.amount + existing.amount
            )
        taken = min(issued.amount, account.balance)
        shortfall = issued.amount - taken
        text = note
        if shortfall:
            text = f"{note} {shortfall} of it was already spent.".strip()
        entry = CreditEntry.objects.create(
            account=account,
            kind=CreditEntry.Kind.WITHDRAWN,
            amount=-taken,
            reference=reference,
            actor=actor if getattr(actor, "pk", None) else None,
            note=text[:255],
        )
        if taken:
            updated = CreditAccount.objects.filter(pk=account.pk, balance__gte=taken).update(
                balance=F("balance") - taken
            )
            if not updated:  # cannot happen under the row lock; never go below zero anyway
                raise InsufficientCredit("The balance changed while the credit was withdrawn.")
    return Withdrawal(entry=entry, taken=taken, shortfall=shortfall)


def credit_spend(
    *, user: Any, amount: Decimal, order_number: str, actor: Any = None
) -> CreditEntry:
    """Take `amount` from the user's balance for an order. Raises InsufficientCredit when
    the balance (now, in the database) is short, CreditAlreadySpent when this order already
    redeemed credit. Call it inside the transaction that places the order: if the order is
    not placed, the spend rolls back with it and the credit is not lost."""
    amount = _amount(amount)
    if not order_number:
        raise CreditError("Credit is spent on an order.")
    account = CreditAccount.objects.filter(user=user).first()
    if account is None:
        raise InsufficientCredit("You have no store credit.")
    with transaction.atomic():
        try:
            with transaction.atomic():
                entry = CreditEntry.objects.create(
                    account=account,
                    kind=CreditEntry.Kind.SPENT,
                    amount=-amount,
                    order_number=order_number,
                    actor=actor if getattr(actor, "pk", None) else None,
                )
        except IntegrityError as exc:
            raise CreditAlreadySpent(
                f"Store credit has already been used for order {order_number}."
            ) from exc
        spent = CreditAccount.objects.filter(pk=account.pk, balance__gte=amount).update(
            balance=F("balance") - amount
        )
        if not spent:
            raise InsufficientCredit(
                "Your store credit balance is lower than the amount applied; it may have "
                "been used in another checkout."
            )
    return entry


def credit_restore(*, order_number: str, actor: Any = None, note: str = "") -> CreditEntry | None:
    """Give back the credit an order spent (an order cancelled before payment, say). Once
    per order; None when the order spent no credit."""
    with transaction.atomic():
        spent = (
            CreditEntry.objects.select_related("account")
            .filter(order_number=order_number, kind=CreditEntry.Kind.SPENT)
            .first()
        )
        if spent is None:
            return None
        existing = CreditEntry.objects.filter(
            order_number=order_number, kind=CreditEntry.Kind.RESTORED
        ).first()
        if existing is not None:
            return existing
        entry = CreditEntry.objects.create(
            account=spent.account,
            kind=CreditEntry.Kind.RESTORED,
            amount=-spent.amount,
            order_number=order_number,
            actor=actor if getattr(actor, "pk", None) else None,
            note=note[:255],
        )
        CreditAccount.objects.filter(pk=spent.account_id).update(
            balance=F("balance") - spent.amount
        )
    return entry
