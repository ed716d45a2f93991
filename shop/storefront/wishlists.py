"""Oscar's wish list create and update pages, repaired: Oscar saves every changed row of
the shared-email formset, rows marked for deletion included (a blank row with DELETE
ticked was a 500, "could not be created because the data didn't validate"; a filled one
was saved, an existing one never deleted). Mounted before Oscar's patterns in
config/urls.py."""

from __future__ import annotations

from django.db import transaction
from oscar.core.loading import get_class

OscarWishListCreateView = get_class("customer.wishlists.views", "WishListCreateView")
OscarWishListUpdateView = get_class("customer.wishlists.views", "WishListUpdateView")


class SharedEmailDeleteMixin:
    def process_wishlist_forms(self, wishlist_form, shared_emails_formset):
        deleted = shared_emails_formset.deleted_forms
        kept = [form for form in shared_emails_formset if form not in deleted]
        with transaction.atomic():
            for form in deleted:
                if form.instance.pk:  # the formset's rows belong to this wish list
                    form.instance.delete()
            # Oscar's own saving (and its visibility warnings) for the rows that remain.
            return super().process_wishlist_forms(wishlist_form, kept)


class WishListCreateView(SharedEmailDeleteMixin, OscarWishListCreateView):
    pass


class WishListUpdateView(SharedEmailDeleteMixin, OscarWishListUpdateView):
    pass
