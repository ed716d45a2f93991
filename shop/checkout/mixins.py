from oscar.apps.checkout.mixins import OrderPlacementMixin as CoreOrderPlacementMixin
from oscar.apps.payment.exceptions import UnableToTakePayment

from shop.order.services import order_placed_followups


class OrderPlacementMixin(CoreOrderPlacementMixin):
    def handle_payment(self, order_number, total, **kwargs):
        # Card payment arrives with the Stripe checkout. Until then no order may be placed
        # without payment, so the last step refuses plainly instead of placing a free order.
        raise UnableToTakePayment(
            "Card payments are not open yet. Your basket is saved; please try again soon."
        )

    def send_order_placed_email(self, order):
        # Email and workshop jobs go out from the worker once the order has committed.
        order_placed_followups(order=order)
