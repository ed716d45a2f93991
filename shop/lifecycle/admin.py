"""Django admin: each customer's marketing consent and its history (read only; staff record
an answer given by phone or letter with an action, through the service: source "staff",
staff named in the history); the sends, read only."""

from django.contrib import admin, messages

from shop.common.admin import ReadOnlyAdmin
from shop.lifecycle.models import ConsentChange, ConsentSource, MarketingConsent, Send
from shop.lifecycle.services import consent_set


def _set(opted_in: bool, label: str):
    def action(modeladmin, request, queryset):
        for consent in queryset.select_related("user"):
            consent_set(
                user=consent.user, opted_in=opted_in, source=ConsentSource.STAFF, actor=request.user
            )
        modeladmin.message_user(request, f"{label}: {queryset.count()}.", messages.SUCCESS)

    action.short_description = label
    action.__name__ = f"consent_{'in' if opted_in else 'out'}"
    return action


@admin.register(MarketingConsent)
class MarketingConsentAdmin(ReadOnlyAdmin):
    list_display = ("user", "opted_in", "source", "changed_at")
    list_filter = ("opted_in", "source")
    search_fields = ("user__email",)
    actions = [
        _set(False, "Withdraw consent (the customer asked us)"),
        _set(True, "Record consent (the customer asked us in writing)"),
    ]


@admin.register(ConsentChange)
class ConsentChangeAdmin(ReadOnlyAdmin):
    """The proof of consent: append only."""

    list_display = ("user", "opted_in", "source", "created_at", "actor")
    list_filter = ("opted_in", "source")
    search_fields = ("user__email",)


@admin.register(Send)
class SendAdmin(ReadOnlyAdmin):
    list_display = ("campaign", "key", "user", "status", "reason", "created_at", "sent_at")
    list_filter = ("campaign", "status", "reason")
    search_fields = ("user__email", "key")
