"""Django admin: referrals are read here (staff work them on /dashboard/referrals/); their
history is append-only, so nothing is added, changed or deleted from the admin."""

from django.contrib import admin

from shop.common.admin import ReadOnlyAdmin
from shop.referrals.models import Referral, ReferralCode, ReferralEvent


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "referrer", "friend", "status", "reason", "order_number")
    list_filter = ("status", "reason")
    search_fields = ("referrer__email", "friend__email", "order_number")


@admin.register(ReferralCode)
class ReferralCodeAdmin(ReadOnlyAdmin):
    list_display = ("code", "user", "created_at")
    search_fields = ("user__email",)


@admin.register(ReferralEvent)
class ReferralEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "referral", "kind", "actor", "note")
    list_filter = ("kind",)
