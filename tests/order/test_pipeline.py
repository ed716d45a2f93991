"""The pipeline's rules, as pure functions: every status pair, and the order-dependent rules."""

import itertools

import pytest

from shop.order import pipeline as p

ALLOWED = {
    (p.PENDING_PAYMENT, p.PAID),
    (p.PENDING_PAYMENT, p.CANCELLED),
    (p.PAID, p.IN_WORKSHOP),
    (p.PAID, p.READY_TO_SHIP),
    (p.PAID, p.CANCELLED),
    (p.PAID, p.REFUNDED),
    (p.IN_WORKSHOP, p.READY_TO_SHIP),
    (p.IN_WORKSHOP, p.CANCELLED),
    (p.IN_WORKSHOP, p.REFUNDED),
    (p.READY_TO_SHIP, p.SHIPPED),
    (p.READY_TO_SHIP, p.IN_WORKSHOP),
    (p.READY_TO_SHIP, p.CANCELLED),
    (p.READY_TO_SHIP, p.REFUNDED),
    (p.SHIPPED, p.DELIVERED),
    (p.SHIPPED, p.REFUNDED),
    (p.DELIVERED, p.REFUNDED),
}


@pytest.mark.parametrize("from_status,to_status", list(itertools.product(p.STATUSES, p.STATUSES)))
def test_every_pair_of_statuses(from_status, to_status):
    # With the context that lets an allowed move through (personalized for the workshop,
    # plain for paid → ready, a tracking number for shipping), only the pipeline decides.
    personalized = to_status == p.IN_WORKSHOP
    error = p.transition_error(
        from_status=from_status,
        to_status=to_status,
        personalized=personalized,
        tracking_number="AB123456789GB",
    )
    assert (error == "") == ((from_status, to_status) in ALLOWED), error


def test_messages_say_why():
    assert p.transition_error(from_status=p.SHIPPED, to_status=p.PAID, personalized=False) == (
        "An order that is shipped cannot be moved to paid."
    )
    assert "cannot change any more" in p.transition_error(
        from_status=p.CANCELLED, to_status=p.PAID, personalized=False
    )
    assert "already paid" in p.transition_error(
        from_status=p.PAID, to_status=p.PAID, personalized=False
    )
    assert "not an order status" in p.transition_error(
        from_status=p.PAID, to_status="Lost", personalized=False
    )


def test_only_personalized_orders_go_to_the_workshop_and_they_must():
    assert "Only orders with personalized" in p.transition_error(
        from_status=p.PAID, to_status=p.IN_WORKSHOP, personalized=False
    )
    assert "goes to the workshop first" in p.transition_error(
        from_status=p.PAID, to_status=p.READY_TO_SHIP, personalized=True
    )


def test_ready_to_ship_waits_for_the_workshop_jobs():
    assert "2 workshop jobs are not done yet" in p.transition_error(
        from_status=p.IN_WORKSHOP, to_status=p.READY_TO_SHIP, personalized=True, open_jobs=2
    )
    assert "1 workshop job is not done yet" in p.transition_error(
        from_status=p.IN_WORKSHOP, to_status=p.READY_TO_SHIP, personalized=True, open_jobs=1
    )


@pytest.mark.parametrize(
    "tracking,ok",
    [
        ("", False),
        ("   ", False),
        ("AB12", False),
        ("<script>", False),
        ("X" * 41, False),
        ("ab123456789gb", True),
        ("AB 1234 5678 9GB", True),
        ("1Z999AA10123456784", True),
    ],
)
def test_shipping_needs_a_plausible_tracking_number(tracking, ok):
    error = p.transition_error(
        from_status=p.READY_TO_SHIP,
        to_status=p.SHIPPED,
        personalized=False,
        tracking_number=tracking,
    )
    assert (error == "") is ok, error
