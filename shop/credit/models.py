"""Store credit: one account per customer and an append-only ledger.

The balance on the account is a cache of the ledger's sum, changed only by guarded atomic
updates in shop.credit.services (never below zero); every change is a ledger row saying who
and why. A ledger row is never edited or deleted: a mistake is undone by a new row.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q


class CreditAccount(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="credit_account"
    )
    balance = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(max_length=3, default="GBP")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="credit_account_balance_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"Credit account of user {self.user_id}: {self.balance} {self.currency}"


class CreditEntry(models.Model):
    class Kind(models.TextChoices):
        ISSUED = "issued", "Credit issued"  # + (a take-back, or a goodwill credit)
        SPENT = "spent", "Spent at checkout"  # - (an order)
        RESTORED = "restored", "Returned to balance"  # + (an order that was not placed)
        ADJUSTED = "adjusted", "Adjusted by staff"  # +/-
        # - (an issued credit taken back: a referral whose order was cancelled or refunded);
        # at most what is left of the balance, so it may be less than the credit, even 0.
        WITHDRAWN = "withdrawn", "Credit withdrawn"

    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Signed: positive adds to the balance, negative takes from it.
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    # What the entry is about: the take-back that earned it, the order that spent it.
    takeback = models.ForeignKey(
        "takeback.TakeBack",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_entries",
    )
    order_number = models.CharField(max_length=128, blank=True, db_index=True)
    # What earned an issued credit when it is not a take-back ("referral:<id>:friend"): one
    # issued credit per reference, and one withdrawal of it (same reference). Entries with a
    # reference carry a note written for the customer (their credit page shows it).
    reference = models.CharField(max_length=64, blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ("-created_at", "-pk")
        verbose_name_plural = "credit entries"
        constraints = [
            # A take-back (or a reference) is credited once, and a credit withdrawn once; an
            # order redeems credit once (and is given it back at most once).
            models.UniqueConstraint(
                fields=("takeback",),
                condition=Q(kind="issued", takeback__isnull=False),
                name="credit_issued_once_per_takeback",
            ),
            models.UniqueConstraint(
                fields=("reference",),
                condition=Q(kind="issued") & ~Q(reference=""),
                name="credit_issued_once_per_reference",
            ),
            models.UniqueConstraint(
                fields=("reference",),
                condition=Q(kind="withdrawn"),
                name="credit_withdrawn_once_per_reference",
            ),
            models.CheckConstraint(
                condition=~Q(kind="withdrawn") | ~Q(reference=""),
                name="credit_withdrawn_names_its_credit",
            ),
            models.UniqueConstraint(
                fields=("order_number",),
                condition=Q(kind="spent"),
                name="credit_spent_once_per_order",
            ),
            models.UniqueConstraint(
                fields=("order_number",),
                condition=Q(kind="restored"),
                name="credit_restored_once_per_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"
