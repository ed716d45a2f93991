/* Loaded only when STRIPE_API_BASE points at localstripe (tests and the local demo): its fake
   confirmCardPayment skips attaching the card, so we create the PaymentMethod, attach it to
   the PaymentIntent with an update, confirm, and hand `requires_action` to its fake 3-D
   Secure dialog (handleCardAction). Talks to localstripe with the publishable key only. */
(function () {
  "use strict";
  function call(base, key, path, params) {
    var body = new URLSearchParams(params);
    body.append("key", key);
    return fetch(base + path, {method: "POST", body: body}).then(function (response) {
      return response.json().then(function (json) {
        if (json.error) { throw json.error; }
        return json;
      });
    });
  }
  window.mvLocalStripeConfirm = function (stripe, form, secret) {
    var base = form.dataset.apiBase, key = form.dataset.publishableKey;
    var root = document.getElementById("card-element");
    function value(name) {
      var input = root.querySelector('input[placeholder="' + name + '"]');
      return input ? input.value.replace(/\s+/g, "") : "";
    }
    var intentId = secret.split("_secret_")[0];
    return call(base, key, "/v1/payment_methods", {
      "type": "card",
      "card[number]": value("number"),
      "card[exp_month]": value("exp_month"),
      "card[exp_year]": value("exp_year"),
      "card[cvc]": value("cvc")
    }).then(function (method) {
      return call(base, key, "/v1/payment_intents/" + intentId,
                  {payment_method: method.id, client_secret: secret});
    }).then(function () {
      return call(base, key, "/v1/payment_intents/" + intentId + "/confirm", {client_secret: secret});
    }).then(function (intent) {
      if (intent.status === "requires_action" && stripe.handleCardAction) {
        return stripe.handleCardAction(secret);
      }
      return {paymentIntent: intent};
    }).catch(function (error) {
      return {error: {message: (error && error.message) || "Your card was declined."}};
    });
  };
}());
