"""Django admin: read-only views of take-backs and their audit log (changes go through the
dashboard screens, which call the services); credit rules are plain staff data."""

from django.contrib import admin

from shop.takeback.models import (
    CreditRule,
    PreLovedPiece,
    ProductWeight,
    ResaleRule,
    TakeBack,
    TakeBackEvent,
)


class EventInline(admin.TabularInline):
    model = TakeBackEvent
    extra = 0
    can_delete = False
    readonly_fields = ("created_at", "kind", "from_status", "status", "actor", "note")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(TakeBack)
class TakeBackAdmin(admin.ModelAdmin):
    list_display = ("reference", "customer", "product_title", "status", "grade", "credit_amount")
    list_filter = ("status", "grade", "route", "source")
    search_fields = ("reference", "tracking_number", "customer__email")
    inlines = [EventInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in TakeBack._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CreditRule)
class CreditRuleAdmin(admin.ModelAdmin):
    list_display = ("__str__", "grade", "min_amount", "max_amount")


@admin.register(ProductWeight)
class ProductWeightAdmin(admin.ModelAdmin):
    list_display = ("product", "leather_kg")
    raw_id_fields = ("product",)


@admin.register(ResaleRule)
class ResaleRuleAdmin(admin.ModelAdmin):
    list_display = ("grade", "min_share", "max_share", "updated_at")


@admin.register(PreLovedPiece)
class PreLovedPieceAdmin(admin.ModelAdmin):
    """Read-only: pieces are published from the take-back page and sold by orders."""

    list_display = ("product", "grade", "price", "credit_paid", "listed_at", "sold_at")
    list_filter = ("grade",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
