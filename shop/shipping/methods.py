"""UK delivery as the shop's service pages describe it."""

from decimal import Decimal

from oscar.apps.shipping.methods import *  # noqa: F403
from oscar.apps.shipping.methods import FixedPrice

FREE_TRACKED_THRESHOLD = Decimal("100.00")  # basket total incl. VAT


def _split_vat(incl_tax: Decimal) -> tuple[Decimal, Decimal]:
    excl_tax = (incl_tax / Decimal("1.20")).quantize(Decimal("0.01"))
    return excl_tax, incl_tax


class Tracked48(FixedPrice):
    code = "royal-mail-tracked-48"
    name = "Royal Mail Tracked 48"
    description = "Two to three working days after dispatch, tracked."

    def __init__(self, free: bool = False):
        super().__init__(*_split_vat(Decimal("0.00") if free else Decimal("4.50")))
        if free:
            self.description = "Free on orders over £100. Two to three working days, tracked."


class NextDay(FixedPrice):
    code = "dpd-next-day"
    name = "Next working day (DPD)"
    description = "Order by 2pm on a working day; delivered the working day after dispatch."

    def __init__(self):
        super().__init__(*_split_vat(Decimal("9.50")))
