"""Referral background work: ids in, an idempotent service call, retries with backoff."""

from oscar.core.loading import get_model

from shop.common.tasks import durable_task
from shop.payments.exceptions import PaymentProviderUnavailable
from shop.referrals.services import referral_reward


@durable_task(subject_kind="order", retry_on=(PaymentProviderUnavailable,))
def reward_referral(self, order_id: int) -> str:
    """The friend's order was paid: reward (or refuse) their referral, once."""
    referral = referral_reward(order=get_model("order", "Order").objects.get(pk=order_id))
    return referral.status if referral is not None else ""
