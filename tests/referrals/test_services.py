"""Referral rules (PostgreSQL): joining (self-referral by account or mailbox, once per
friend), the reward on the friend's first paid order (once, however often it runs, also at
the same moment), each guard (card, address, programme paused, order already ended), and the
withdrawal when that order is cancelled or refunded (once, never below zero)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from oscar.core.loading import get_model

from shop.common.models import OutboxMessage
from shop.credit.models import CreditEntry
from shop.credit.selectors import credit_balance, credit_ledger_sum
from shop.credit.services import credit_spend, credit_withdraw
from shop.order import pipeline
from shop.order.services import order_status_change
from shop.referrals.models import Referral, ReferralEvent
from shop.referrals.selectors import referral_programme
from shop.referrals.services import (
    ReferralError,
    mailbox,
    referral_join,
    referral_programme_update,
    referral_reward,
    referral_withdraw,
)
from tests.factories import in_threads
from tests.referrals.conftest import customer, place_paid

pytestmark = pytest.mark.django_db
D = Decimal
Order = get_model("order", "Order")


def credits(reference_prefix: str = "referral:") -> list[tuple[str, str, Decimal]]:
    return list(
        CreditEntry.objects.filter(reference__startswith=reference_prefix)
        .order_by("pk")
        .values_list("reference", "kind", "amount")
    )


def invariants(*users):
    for user in users:
        assert credit_balance(user=user) >= 0
        assert credit_balance(user=user) == credit_ledger_sum(user=user)
    for referral in Referral.objects.all():
        for role in ("friend", "referrer"):
            ref = referral.credit_reference(role)
            assert CreditEntry.objects.filter(reference=ref, kind="issued").count() <= 1
            assert CreditEntry.objects.filter(reference=ref, kind="withdrawn").count() <= 1


def test_mailbox_drops_case_and_plus_tags():
    assert mailbox("Ada+Shop@Example.COM") == "ada@example.com"
    assert mailbox(" ada@example.com ") == "ada@example.com"
    assert mailbox("a+b+c@x.org") == "a@x.org"
    assert mailbox("") == ""


def test_joining_records_the_referral_and_its_event(friend, referrer):
    referral = Referral.objects.get(friend=friend)
    assert (referral.referrer, referral.status, referral.reason) == (referrer, "joined", "")
    assert list(referral.events.values_list("kind", flat=True)) == ["joined"]


@pytest.mark.parametrize("email", ["MAKER@example.com", "maker+second@Example.com"])
def test_the_same_mailbox_is_not_a_friend(referrer, programme, email):
    twin = customer(email)
    assert referral_join(friend=twin, code=referrer.referral_code.code) is None
    assert not Referral.objects.exists()


def test_the_same_account_is_not_a_friend(referrer, programme):
    assert referral_join(friend=referrer, code=referrer.referral_code.code) is None
    assert not Referral.objects.exists()


def test_a_friend_is_referred_once(friend, referrer):
    other = customer("other@example.com")
    from shop.referrals.services import referral_code_get_or_create

    code = referral_code_get_or_create(user=other).code
    assert referral_join(friend=friend, code=code).referrer == referrer
    assert Referral.objects.count() == 1


@pytest.mark.parametrize(
    "code", ["", "x" * 5000, "<b>abcdefghjk</b>", "abcdefghj\x00", "abcdefghjk", None, 42]
)
def test_unknown_or_forged_codes_refer_nobody(programme, code):
    assert referral_join(friend=customer("x@example.com"), code=code) is None
    assert not Referral.objects.exists()


def test_a_paused_programme_records_nobody_joining(referrer):
    referral_programme_update(
        staff=None, enabled=False, friend_credit=D("10.00"), referrer_credit=D("10.00")
    )
    assert referral_join(friend=customer("f@example.org"), code=referrer.referral_code.code) is None


def test_the_first_paid_order_rewards_both_once(friend, referrer):
    order = place_paid(friend, card="fp_friend")
    # The paid follow-up queued the reward task with the confirmation (through the outbox).
    assert OutboxMessage.objects.filter(
        task="shop.referrals.tasks.reward_referral", args=[order.pk]
    ).exists()
    referral = referral_reward(order=order)
    assert (referral.status, referral.order_number) == ("rewarded", order.number)
    assert (referral.friend_credit, referral.referrer_credit) == (D("10.00"), D("10.00"))
    again = referral_reward(order=order)  # a second delivery of the task
    assert again.status == "rewarded"
    assert credits() == [
        (f"referral:{referral.pk}:friend", "issued", D("10.00")),
        (f"referral:{referral.pk}:referrer", "issued", D("10.00")),
    ]
    assert credit_balance(user=friend) == credit_balance(user=referrer) == D("10.00")
    assert list(referral.events.values_list("kind", flat=True)) == ["joined", "rewarded"]
    # A later order rewards nothing more, and queues nothing.
    later = place_paid(friend, card="fp_friend")
    assert referral_reward(order=later).order_number == order.number
    assert not OutboxMessage.objects.filter(
        task="shop.referrals.tasks.reward_referral", args=[later.pk]
    ).exists()
    invariants(friend, referrer)


def test_the_amounts_come_from_the_programme_and_zero_issues_nothing(friend, referrer):
    referral_programme_update(
        staff=None, enabled=True, friend_credit=D("7.50"), referrer_credit=D("0.00")
    )
    referral = referral_reward(order=place_paid(friend))
    assert referral.status == "rewarded"
    assert credits() == [(f"referral:{referral.pk}:friend", "issued", D("7.50"))]
    assert credit_balance(user=referrer) == D("0.00")


def test_only_the_first_paid_order_counts(friend, referrer):
    first = place_paid(friend, card="fp_friend")
    second = place_paid(friend, card="fp_friend")
    assert referral_reward(order=second).status == "joined"  # the first one decides
    assert not credits()
    assert referral_reward(order=first).status == "rewarded"


def test_a_customer_who_was_not_referred_gets_nothing(referrer, programme):
    assert referral_reward(order=place_paid(customer("solo@example.com"))) is None
    assert not credits()


def test_refused_when_the_friend_pays_with_the_referrers_card(friend, referrer):
    place_paid(referrer, line1="1 Maker Lane", postcode="WS1 1AA", card="fp_shared")
    referral = referral_reward(order=place_paid(friend, card="fp_shared"))
    assert (referral.status, referral.reason) == ("refused", "same_card")
    assert not credits()
    assert referral.events.last().note.endswith("Paid with a card the referrer has paid with")


@pytest.mark.parametrize(
    "line1, postcode",
    [("1 Maker Lane", "WS1 1AA"), ("1, MAKER LANE.", "ws11aa"), ("1  maker lane", " WS1  1AA ")],
)
def test_refused_when_the_order_goes_to_the_referrers_address(friend, referrer, line1, postcode):
    place_paid(referrer, line1="1 Maker Lane", postcode="WS1 1AA", card="fp_maker")
    referral = referral_reward(order=place_paid(friend, line1=line1, postcode=postcode))
    assert (referral.status, referral.reason) == ("refused", "same_address")
    assert not credits()


def test_refused_when_the_order_goes_to_an_address_in_the_referrers_book(friend, referrer):
    UserAddress = get_model("address", "UserAddress")
    Country = get_model("address", "Country")
    UserAddress.objects.create(
        user=referrer, first_name="M", last_name="V", line1="9 Book Street", line4="Walsall",
        postcode="WS2 9BB", country=Country.objects.get_or_create(iso_3166_1_a2="GB")[0],
    )  # fmt: skip
    referral = referral_reward(order=place_paid(friend, line1="9 Book St reet", postcode="WS29BB"))
    assert referral.reason == "same_address"


def test_a_different_card_and_address_are_rewarded(friend, referrer):
    place_paid(referrer, line1="1 Maker Lane", postcode="WS1 1AA", card="fp_maker")
    referral = referral_reward(order=place_paid(friend, line1="1 Maker Lane 2", card="fp_friend"))
    assert referral.status == "rewarded"


def test_refused_while_the_programme_is_paused(friend, referrer):
    order = place_paid(friend)
    referral_programme_update(
        staff=None, enabled=False, friend_credit=D("10.00"), referrer_credit=D("10.00")
    )
    referral = referral_reward(order=order)
    assert (referral.status, referral.reason) == ("refused", "paused")


def test_refused_when_the_order_ended_before_the_reward_ran(friend, referrer):
    order = place_paid(friend)
    order_status_change(order=order, to_status=pipeline.CANCELLED)
    referral = referral_reward(order=order)
    assert (referral.status, referral.reason) == ("refused", "order_ended")
    assert not credits()


@pytest.mark.parametrize("end", [pipeline.CANCELLED, pipeline.REFUNDED])
def test_an_ended_order_withdraws_both_credits_once(friend, referrer, end):
    order = place_paid(friend)
    referral = referral_reward(order=order)
    order_status_change(order=order, to_status=end)  # the pipeline's signal withdraws
    referral.refresh_from_db()
    assert referral.status == "withdrawn"
    assert referral_withdraw(order=order) is None  # nothing rewarded any more: no-op
    assert credit_withdraw(reference=referral.credit_reference("friend")).taken == D("10.00")
    assert credits() == [
        (f"referral:{referral.pk}:friend", "issued", D("10.00")),
        (f"referral:{referral.pk}:referrer", "issued", D("10.00")),
        (f"referral:{referral.pk}:friend", "withdrawn", D("-10.00")),
        (f"referral:{referral.pk}:referrer", "withdrawn", D("-10.00")),
    ]
    assert credit_balance(user=friend) == credit_balance(user=referrer) == D("0.00")
    assert list(referral.events.values_list("kind", flat=True)) == [
        "joined",
        "rewarded",
        "withdrawn",
    ]
    invariants(friend, referrer)


def test_credit_already_spent_is_a_shortfall_never_a_negative_balance(friend, referrer):
    order = place_paid(friend)
    referral = referral_reward(order=order)
    credit_spend(user=referrer, amount=D("6.00"), order_number="MV-SPENT-1")
    credit_spend(user=friend, amount=D("10.00"), order_number="MV-SPENT-2")
    order_status_change(order=order, to_status=pipeline.CANCELLED)
    referral.refresh_from_db()
    assert referral.status == "withdrawn"
    withdrawn = dict(
        CreditEntry.objects.filter(kind="withdrawn").values_list("reference", "amount")
    )
    assert withdrawn == {
        f"referral:{referral.pk}:friend": D("0.00"),
        f"referral:{referral.pk}:referrer": D("-4.00"),
    }
    note = CreditEntry.objects.get(reference=f"referral:{referral.pk}:referrer", kind="withdrawn")
    assert "6.00 of it was already spent" in note.note
    last = referral.events.last().note
    assert "friend 0.00 (10.00 already spent)" in last and "referrer 4.00 (6.00 already" in last
    assert credit_balance(user=friend) == credit_balance(user=referrer) == D("0.00")
    invariants(friend, referrer)


def test_an_order_that_rewarded_nothing_withdraws_nothing(friend, referrer):
    place_paid(referrer, card="fp_shared", line1="1 Maker Lane")
    order = place_paid(friend, card="fp_shared")
    referral_reward(order=order)
    order_status_change(order=order, to_status=pipeline.CANCELLED)
    assert Referral.objects.get().status == "refused"
    assert not CreditEntry.objects.filter(kind="withdrawn").exists()


@pytest.mark.parametrize(
    "friend_credit, referrer_credit",
    [(D("-1.00"), D("1.00")), (D("1.001"), D("1.00")), (D("500.01"), D("1")), (D("NaN"), D("1"))],
)
def test_programme_amounts_are_validated(programme, friend_credit, referrer_credit):
    with pytest.raises(ReferralError):
        referral_programme_update(
            staff=None, enabled=True, friend_credit=friend_credit, referrer_credit=referrer_credit
        )
    assert referral_programme().friend_credit == D("10.00")
    assert not ReferralEvent.objects.filter(kind="programme").exists()


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_of_the_reward_at_once_give_one_pair_of_credits():
    referrer = customer("maker@example.com")
    from shop.referrals.services import referral_code_get_or_create

    friend = customer("friend@example.org")
    referral_join(friend=friend, code=referral_code_get_or_create(user=referrer).code)
    order = place_paid(friend, card="fp_friend")
    results = in_threads(lambda _: referral_reward(order=Order.objects.get(pk=order.pk)), [1, 2, 3])
    assert all(isinstance(r, Referral) and r.status == "rewarded" for r in results), results
    assert CreditEntry.objects.filter(kind="issued").count() == 2
    assert ReferralEvent.objects.filter(kind="rewarded").count() == 1
    assert credit_balance(user=friend) == credit_balance(user=referrer) == D("10.00")
    invariants(friend, referrer)


@pytest.mark.django_db(transaction=True)
def test_two_withdrawals_at_once_take_the_credit_back_once():
    referrer = customer("maker@example.com")
    from shop.referrals.services import referral_code_get_or_create

    friend = customer("friend@example.org")
    referral_join(friend=friend, code=referral_code_get_or_create(user=referrer).code)
    order = place_paid(friend, card="fp_friend")
    referral_reward(order=order)
    Order.objects.filter(pk=order.pk).update(status=pipeline.CANCELLED)
    results = in_threads(lambda _: referral_withdraw(order=Order.objects.get(pk=order.pk)), [1, 2])
    assert sorted(r is None for r in results) == [False, True], results
    assert CreditEntry.objects.filter(kind="withdrawn").count() == 2
    assert credit_balance(user=friend) == credit_balance(user=referrer) == D("0.00")
    invariants(friend, referrer)
