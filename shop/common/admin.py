"""Admin pieces our apps share."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record staff may read in the admin but never add, change or delete (ledgers, event
    rows: they change only through their services)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
