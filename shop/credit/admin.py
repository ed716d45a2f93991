"""Django admin: the credit ledger is append-only, so it is read-only here."""

from django.contrib import admin

from shop.credit.models import CreditAccount, CreditEntry


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CreditAccount)
class CreditAccountAdmin(ReadOnly):
    list_display = ("user", "balance", "currency", "updated_at")
    search_fields = ("user__email",)


@admin.register(CreditEntry)
class CreditEntryAdmin(ReadOnly):
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
