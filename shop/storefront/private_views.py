"""Thin wrappers over Oscar views that must not say whether something exists: another
customer's guest order or private wishlist is simply not found (404)."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from oscar.apps.customer.views import AnonymousOrderDetailView, AnonymousOrderFormView
from oscar.apps.wishlists.views import WishListView
from oscar.core.loading import get_model

Order = get_model("order", "Order")


class SignedLinkRequired:
    """Guest order pages open only from the signed link in the confirmation email: a wrong
    or forged signature, or an order with an account, is a 404 (Oscar then still asks for
    the order's email address as a second check)."""

    def dispatch(self, request, *args, **kwargs):
        order = Order.objects.filter(user=None, number=kwargs.get("order_number")).first()
        if order is None or not order.check_verification_hash(kwargs.get("hash") or ""):
            raise Http404("No such order")
        return super().dispatch(request, *args, **kwargs)


class SignedAnonymousOrderDetailView(SignedLinkRequired, AnonymousOrderDetailView):
    pass


class SignedAnonymousOrderFormView(SignedLinkRequired, AnonymousOrderFormView):
    pass


class OwnWishListView(WishListView):
    def dispatch(self, request, *args, **kwargs):
        try:
            return super().dispatch(request, *args, **kwargs)
        except PermissionDenied:
            raise Http404("No such wish list") from None
