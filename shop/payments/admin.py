from django.contrib import admin

from shop.payments.models import PaymentIntentRecord, PaymentRefund, StripeEvent


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ["stripe_id", "type", "received_at", "processed_at", "attempts"]
    list_filter = ["type"]
    search_fields = ["stripe_id"]
    readonly_fields = [f.name for f in StripeEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PaymentRefundInline(admin.TabularInline):
    model = PaymentRefund
    extra = 0
    can_delete = False
    readonly_fields = ["refund_id", "amount", "currency", "status", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PaymentIntentRecord)
class PaymentIntentRecordAdmin(admin.ModelAdmin):
    list_display = ["payment_intent_id", "status", "amount", "currency", "amount_refunded", "fee"]
    list_filter = ["status"]
    search_fields = ["payment_intent_id", "order_number"]
    readonly_fields = [f.name for f in PaymentIntentRecord._meta.fields]
    inlines = [PaymentRefundInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
