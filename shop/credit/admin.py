"""Django admin: the credit ledger is append-only, so it is read-only here."""

from django.contrib import admin

from shop.common.admin import ReadOnlyAdmin
from shop.credit.models import CreditAccount, CreditEntry


@admin.register(CreditAccount)
class CreditAccountAdmin(ReadOnlyAdmin):
    list_display = ("user", "balance", "currency", "updated_at")
    search_fields = ("user__email",)


@admin.register(CreditEntry)
class CreditEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "account",
        "kind",
        "amount",
        "takeback",
        "order_number",
        "reference",
    )
    list_filter = ("kind",)
    search_fields = ("account__user__email", "order_number")
