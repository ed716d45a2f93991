"""What must hold after any fault: checked at the end of each fault test."""

from django.db.models import Count, F, Q, Sum

from shop.basket.models import Basket
from shop.order.models import CommunicationEvent, Order
from shop.partner.models import StockRecord
from shop.payments.models import PaymentIntentRecord


def assert_invariants() -> None:
    bad_stock = StockRecord.objects.filter(
        Q(num_in_stock__lt=0) | Q(num_allocated__lt=0) | Q(num_allocated__gt=F("num_in_stock"))
    )
    assert not bad_stock.exists(), list(bad_stock.values("pk", "num_in_stock", "num_allocated"))
    # One order per basket, one order per PaymentIntent, one record per PaymentIntent.
    assert (
        not Order.objects.values("basket_id")
        .exclude(basket_id=None)
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .exists()
    )
    numbers = PaymentIntentRecord.objects.exclude(order_number="").values("order_number")
    assert not numbers.annotate(n=Count("pk")).filter(n__gt=1).exists()
    assert (
        not PaymentIntentRecord.objects.values("payment_intent_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .exists()
    )
    # Each order email at most once.
    assert (
        not CommunicationEvent.objects.values("order_id", "event_type_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .exists()
    )
    # Store credit: each balance is its ledger's sum, and none is negative.
    from shop.credit.models import CreditAccount

    for account in CreditAccount.objects.annotate(ledger=Sum("entries__amount")):
        assert account.balance >= 0, account
        assert account.balance == (account.ledger or 0), (account, account.ledger)
    # A submitted basket has its order.
    for basket in Basket.objects.filter(status=Basket.SUBMITTED):
        assert Order.objects.filter(basket_id=basket.pk).exists(), basket.pk
