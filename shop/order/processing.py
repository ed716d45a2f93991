"""Oscar's order EventHandler, routed through our pipeline service so that the dashboard's
own status forms obey the same rules and record who moved the order."""

from oscar.apps.order.exceptions import InvalidOrderStatus
from oscar.apps.order.processing import EventHandler as CoreEventHandler

from shop.order.services import OrderTransitionError, order_status_change


class EventHandler(CoreEventHandler):
    def handle_order_status_change(self, order, new_status, note_msg=None):
        try:
            order_status_change(order=order, to_status=new_status, actor=self.user)
        except OrderTransitionError as exc:
            raise InvalidOrderStatus(str(exc)) from exc
        order.refresh_from_db()
        if note_msg:
            self.create_note(order, note_msg)
