"""Errors the rest of the store sees from payments; no Stripe type leaks past stripe_api."""


class PaymentError(Exception):
    """Base class. `message` is safe to show to a shopper or staff member."""

    def __init__(self, message: str = "The payment could not be processed."):
        super().__init__(message)
        self.message = message


class PaymentProviderUnavailable(PaymentError):
    """Stripe could not be reached or is failing for now: try again later, keep the basket."""

    def __init__(self, message: str = "Card payment is temporarily unavailable."):
        super().__init__(message)


class CardDeclined(PaymentError):
    """The card was refused; `message` is Stripe's reason ("Your card was declined.")."""

    def __init__(self, message: str, *, code: str | None = None, decline_code: str | None = None):
        super().__init__(message)
        self.code = code
        self.decline_code = decline_code


class PaymentProviderError(PaymentError):
    """Stripe refused the request itself (bad parameters, bad key, unknown object)."""

    def __init__(self, message: str, *, http_status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.http_status = http_status
        self.code = code


class WebhookNotConfigured(PaymentError):
    """STRIPE_WEBHOOK_SECRET is empty: no event can be trusted."""


class WebhookSignatureInvalid(PaymentError):
    """The Stripe-Signature header is missing, malformed, stale or does not match the body."""


class WebhookPayloadInvalid(PaymentError):
    """The (correctly signed) body is not a Stripe event we can read."""


class RefundRefused(PaymentError):
    """The refund was refused before anything went to Stripe; `message` is for staff and
    `field` names the form field it is about (None: the whole form)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field
