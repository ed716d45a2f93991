from oscar.apps.checkout.mixins import OrderPlacementMixin as CoreOrderPlacementMixin
from oscar.apps.payment.exceptions import UnableToTakePayment


class OrderPlacementMixin(CoreOrderPlacementMixin):
    def handle_payment(self, order_number, total, **kwargs):
        # Orders are placed only by shop.checkout.services.order_place_for_payment_intent
        # once Stripe says the card payment succeeded; Oscar's "place order" never places one.
        raise UnableToTakePayment(
            "Please pay by card on the payment page: no order is placed without payment. "
            "Your basket is kept."
        )
