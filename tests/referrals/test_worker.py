"""The reward on a real Celery worker: the friend's order becoming Paid queues the reward
through the outbox with the confirmation; the worker issues both credits, once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import transaction

from shop.common.models import OutboxMessage, TaskFailure
from shop.credit.models import CreditEntry
from shop.credit.selectors import credit_balance, credit_ledger_sum
from shop.referrals.models import Referral
from shop.referrals.services import referral_code_get_or_create, referral_join
from tests.conftest import wait_for
from tests.referrals.conftest import customer, place_paid

D = Decimal


@pytest.mark.worker
def test_the_worker_rewards_the_friends_first_paid_order_once(celery_worker):
    referrer = customer("maker@example.com")
    friend = customer("friend@example.org")
    referral_join(friend=friend, code=referral_code_get_or_create(user=referrer).code)
    with transaction.atomic():
        order = place_paid(friend, card="fp_friend")
    wait_for(lambda: Referral.objects.get(friend=friend).status == "rewarded")
    assert credit_balance(user=friend) == credit_balance(user=referrer) == D("10.00")
    assert CreditEntry.objects.filter(kind="issued").count() == 2
    assert Referral.objects.get().order_number == order.number
    wait_for(lambda: not OutboxMessage.objects.filter(sent_at__isnull=True).exists())
    assert not TaskFailure.objects.exists()
    for user in (friend, referrer):
        assert credit_balance(user=user) == credit_ledger_sum(user=user)
