/* Loaded only when STRIPE_API_BASE points at localstripe (tests and the local demo).
   localstripe's fake confirmCardPayment skips attaching the card, and localstripe accepts the
   publishable key only for tokens and 3-D Secure, so the card is attached and confirmed by our
   server (payments:localstripe-confirm: create the PaymentMethod, attach it to the
   PaymentIntent with an update, confirm). `requires_action` is handed to the fake 3-D Secure
   dialog, which is what the fake confirmCardPayment opens ("Complete authentication" /
   "Fail authentication"). Resolves like confirmCardPayment: {paymentIntent} or {error}. */
(function () {
  "use strict";
  var FAILED = "The payment did not go through. Please try another card.";
  function failure(intent) {
    var reason = intent && intent.last_payment_error;
    return {error: {message: (reason && reason.message) || FAILED}};
  }
  window.mvLocalStripeConfirm = function (stripe, form, secret) {
    var root = document.getElementById("card-element");
    function value(name) {
      var input = root.querySelector('input[placeholder="' + name + '"]');
      return input ? input.value.replace(/\s+/g, "") : "";
    }
    var body = new FormData();
    body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    body.append("payment_intent_id", form.querySelector("[name=payment_intent_id]").value);
    ["number", "exp_month", "exp_year", "cvc", "postal_code"].forEach(function (name) {
      body.append(name, value(name));
    });
    return fetch(form.dataset.localstripeConfirmUrl, {
      method: "POST", body: body, credentials: "same-origin"
    }).then(function (response) {
      return response.json().catch(function () { return {error: {message: FAILED}}; });
    }).then(function (intent) {
      if (intent.error) { return {error: intent.error}; }
      if (intent.status === "requires_action") {
        return stripe.confirmCardPayment(secret).then(function (result) {
          if (result.error) { return result; }
          var pi = result.paymentIntent;
          return pi && pi.status === "succeeded" ? {paymentIntent: pi} : failure(pi);
        });
      }
      return intent.status === "succeeded" ? {paymentIntent: intent} : failure(intent);
    }).catch(function () {
      return {error: {message: "Card payment is temporarily unavailable. Your basket is kept; please try again in a few minutes."}};
    });
  };
}());
