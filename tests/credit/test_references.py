"""Credit issued under a reference (what earned it, e.g. a referral) is issued once, however
many calls, also at the same moment; its withdrawal takes back at most what the balance
holds (the rest is a shortfall in the note), once."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from shop.credit.models import CreditEntry
from shop.credit.selectors import credit_balance, credit_ledger_sum
from shop.credit.services import CreditError, credit_issue, credit_spend, credit_withdraw
from tests.factories import in_threads

D = Decimal


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user(
        username="ref", email="ref@example.com", password="a long pass phrase 42"
    )


def _invariants(user):
    assert credit_balance(user=user) >= 0
    assert credit_balance(user=user) == credit_ledger_sum(user=user)


@pytest.mark.django_db
def test_a_reference_is_credited_once(user):
    first, created = credit_issue(user=user, amount=D("10.00"), reference="referral:1:friend")
    again, created_again = credit_issue(user=user, amount=D("10.00"), reference="referral:1:friend")
    assert (created, created_again, again.pk) == (True, False, first.pk)
    # Without a reference, credits are independent (goodwill).
    credit_issue(user=user, amount=D("1.00"))
    credit_issue(user=user, amount=D("1.00"))
    assert credit_balance(user=user) == D("12.00")
    # The database refuses a second issued entry for the reference, whoever writes it.
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditEntry.objects.create(
            account=first.account, kind="issued", amount=D("1.00"), reference="referral:1:friend"
        )
    _invariants(user)


@pytest.mark.django_db
def test_withdrawal_takes_what_is_left_once(user):
    credit_issue(user=user, amount=D("10.00"), reference="referral:2:referrer")
    credit_spend(user=user, amount=D("7.50"), order_number="MV-1")
    withdrawal = credit_withdraw(reference="referral:2:referrer", note="Order cancelled.")
    assert (withdrawal.taken, withdrawal.shortfall) == (D("2.50"), D("7.50"))
    assert withdrawal.entry.amount == D("-2.50") and withdrawal.entry.kind == "withdrawn"
    assert withdrawal.entry.note == "Order cancelled. 7.50 of it was already spent."
    again = credit_withdraw(reference="referral:2:referrer")
    assert (again.entry.pk, again.taken, again.shortfall) == (
        withdrawal.entry.pk,
        D("2.50"),
        D("7.50"),
    )
    assert credit_balance(user=user) == D("0.00")
    assert credit_withdraw(reference="referral:404:friend").entry is None
    with pytest.raises(CreditError):
        credit_withdraw(reference="")
    _invariants(user)


@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_and_withdrawals_of_one_reference(user):
    results = in_threads(
        lambda _: credit_issue(user=user, amount=D("10.00"), reference="referral:3:friend"), [1, 2]
    )
    assert sorted(created for _, created in results) == [False, True], results
    assert credit_balance(user=user) == D("10.00")
    results = in_threads(lambda _: credit_withdraw(reference="referral:3:friend"), [1, 2])
    assert {r.entry.pk for r in results} == {CreditEntry.objects.get(kind="withdrawn").pk}
    assert credit_balance(user=user) == D("0.00")
    _invariants(user)
