"""One take-back per purchased unit, under concurrency: the same order line registered from
several requests at once gives one take-back per unit, never more."""

import threading

import pytest
from django.db import connections

from shop.takeback.models import TakeBack
from shop.takeback.services import RegistrationItem, TakeBackRefused, takeback_register
from tests.takeback.helpers import customer, delivered_order

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("quantity", [1, 2])
def test_racing_registrations_of_one_line(catalogue, quantity):
    jo = customer()
    line = delivered_order(user=jo, quantity=quantity).lines.get()
    gate = threading.Barrier(4)
    outcomes = []

    def register():
        try:
            gate.wait(timeout=30)
            takeback_register(
                customer=jo,
                items=[RegistrationItem(condition="good", line=line)],
                terms_accepted=True,
            )
            outcomes.append("ok")
        except TakeBackRefused as exc:
            outcomes.append(str(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == quantity, outcomes
    assert all("taken back once" in o for o in outcomes if o != "ok")
    units = sorted(TakeBack.objects.filter(line=line).values_list("unit", flat=True))
    assert units == list(range(1, quantity + 1))
