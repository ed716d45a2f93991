"""How referrals hear from the apps below them (connected in ReferralsConfig.ready): a new
account registered (Oscar's `user_registered`, with the request carrying the share link's
cookie), an order became paid (the order app's paid follow-ups: the reward is a task), and an
order's status changed (cancelled or refunded: the credits it earned are withdrawn)."""

from __future__ import annotations

import logging
from typing import Any

from shop.referrals.cookies import referral_cookie_code

logger = logging.getLogger(__name__)

REWARD_TASK = "shop.referrals.tasks.reward_referral"


def user_registered(sender: Any, *, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    """Record the referral of a friend who registered through a share link. Never lets a bad
    cookie (or anything else here) fail the registration."""
    if request is None or user is None:
        return
    code = referral_cookie_code(request)
    if code is None:
        return
    from shop.referrals.services import referral_join

    try:
        referral_join(friend=user, code=code)
    except Exception:  # noqa: BLE001 - a referral is never worth a failed registration
        logger.exception("Referral of new user %s not recorded", getattr(user, "pk", None))


def reward_followup(order: Any) -> list[dict[str, Any]]:
    """The paid follow-up: an order of a friend still waiting for their reward queues it."""
    from shop.referrals.models import Referral

    if order.user_id is None:
        return []
    if not Referral.objects.filter(friend_id=order.user_id, status=Referral.Status.JOINED).exists():
        return []
    return [{"task": REWARD_TASK, "args": [order.pk], "subject": f"order:{order.pk}"}]


def order_status_changed(sender: Any, *, order: Any, old_status: str, new_status: str, **kwargs):
    from shop.referrals.services import referral_order_ended

    referral_order_ended(order=order, new_status=new_status)
