"""A counted visitor who signs in or registers: their visitor row learns the customer, so the
funnel can show known customers' RFM segments and whether they bought before."""

from __future__ import annotations

from shop.growth import events, visitor


def visitor_signed_in(sender, request=None, user=None, **kwargs) -> None:
    if request is None or user is None or user.is_staff:
        return
    visitor_id = visitor.visitor_id(request)
    if visitor_id is not None:
        events.visitor_seen_signed_in(visitor_id=visitor_id, user_id=user.pk)
