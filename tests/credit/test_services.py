"""The store credit ledger: the balance is the ledger's sum, never negative; credit is
issued once per take-back, spent once per order, given back once; two spends racing for the
same balance: one succeeds."""

import threading
from decimal import Decimal

import pytest
from django.db import connections
from oscar.test.factories import UserFactory

from shop.credit.models import CreditAccount, CreditEntry
from shop.credit.selectors import credit_balance, credit_ledger_sum
from shop.credit.services import (
    CreditAlreadySpent,
    CreditError,
    InsufficientCredit,
    credit_issue,
    credit_restore,
    credit_spend,
)

D = Decimal


def check_invariants(user):
    account = CreditAccount.objects.get(user=user)
    assert account.balance >= 0
    assert account.balance == credit_ledger_sum(user=user)


@pytest.mark.django_db
def test_issue_spend_restore():
    user = UserFactory()
    assert credit_balance(user=user) == D("0.00")
    with pytest.raises(InsufficientCredit):
        credit_spend(user=user, amount=D("1.00"), order_number="100001")
    credit_issue(user=user, amount=D("30.00"), note="Goodwill")
    credit_spend(user=user, amount=D("12.50"), order_number="100001")
    assert credit_balance(user=user) == D("17.50")
    with pytest.raises(CreditAlreadySpent):
        credit_spend(user=user, amount=D("1.00"), order_number="100001")
    with pytest.raises(InsufficientCredit):
        credit_spend(user=user, amount=D("17.51"), order_number="100002")
    assert credit_balance(user=user) == D("17.50")
    credit_restore(order_number="100001")
    credit_restore(order_number="100001")
    assert credit_balance(user=user) == D("30.00")
    assert credit_restore(order_number="nothing-spent") is None
    kinds = list(CreditEntry.objects.order_by("pk").values_list("kind", "amount"))
    assert kinds == [("issued", D("30.00")), ("spent", D("-12.50")), ("restored", D("12.50"))]
    check_invariants(user)


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [D("0"), D("-5.00"), D("1.005")])
def test_bad_amounts_are_refused(amount):
    user = UserFactory()
    with pytest.raises(CreditError):
        credit_issue(user=user, amount=amount)
    with pytest.raises(TypeError):
        credit_issue(user=user, amount=5.0)


@pytest.mark.django_db
def test_the_database_refuses_a_negative_balance():
    from django.db import IntegrityError, transaction

    user = UserFactory()
    credit_issue(user=user, amount=D("5.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        CreditAccount.objects.filter(user=user).update(balance=D("-1.00"))


@pytest.mark.django_db(transaction=True)
def test_two_spends_racing_for_one_balance_one_wins():
    user = UserFactory()
    credit_issue(user=user, amount=D("50.00"))
    gate = threading.Barrier(4)
    results = []

    def spend(number):
        try:
            gate.wait(timeout=30)
            credit_spend(user=user, amount=D("30.00"), order_number=number)
            results.append("ok")
        except InsufficientCredit:
            results.append("short")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=spend, args=(f"20000{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["ok", "short", "short", "short"]
    assert credit_balance(user=user) == D("20.00")
    assert CreditEntry.objects.filter(kind="spent").count() == 1
    check_invariants(user)


@pytest.mark.django_db
def test_an_unpaid_order_cancelled_gives_its_credit_back_once():
    from oscar.test.factories import create_order

    from shop.order import pipeline
    from shop.order.models import Order
    from shop.order.services import order_status_change

    user = UserFactory()
    credit_issue(user=user, amount=D("20.00"))
    order = create_order(user=user)
    Order.objects.filter(pk=order.pk).update(status=pipeline.PENDING_PAYMENT)
    credit_spend(user=user, amount=D("8.00"), order_number=order.number)
    assert credit_balance(user=user) == D("12.00")
    order_status_change(order=order, to_status=pipeline.CANCELLED, note="Payment never came")
    assert credit_balance(user=user) == D("20.00")
    restored = CreditEntry.objects.get(kind="restored")
    assert restored.order_number == str(order.number) and "cancelled" in restored.note
    check_invariants(user)
