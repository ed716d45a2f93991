/* Payment step: mount Stripe's Card Element, confirm the PaymentIntent, then post its id to
   the server, which re-reads it from Stripe and places the order. A decline shows Stripe's
   own message and leaves the form ready for another card. */
(function () {
  "use strict";
  var form = document.getElementById("payment-form");
  if (!form || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  var errors = document.getElementById("card-errors");
  var button = document.getElementById("pay-button");
  if (card.on) {
    card.on("change", function (event) {   // the fake element passes no event
      errors.textContent = event && event.error ? event.error.message : "";
    });
  }
  var confirm = window.mvLocalStripeConfirm
    ? function (secret) { return window.mvLocalStripeConfirm(stripe, form, secret); }
    : function (secret) { return stripe.confirmCardPayment(secret, {payment_method: {card: card}}); };
  function refreshIntent() {
    return fetch(window.location.href, {credentials: "same-origin"}).then(function (response) {
      return response.text();
    }).then(function (html) {
      var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("payment-form");
      if (!fresh || !fresh.dataset.clientSecret) { return; }
      if (fresh.dataset.amount !== form.dataset.amount) {
        // Another window changed what this checkout pays: show the new figures whole.
        window.location.reload();
        return;
      }
      form.dataset.clientSecret = fresh.dataset.clientSecret;
      ["payment_intent_id", "attempt"].forEach(function (name) {
        var field = form.querySelector("[name=" + name + "]");
        var freshField = fresh.querySelector("[name=" + name + "]");
        if (field && freshField) { field.value = freshField.value; }
      });
    }).catch(function () { /* keep the current attempt; the server refuses if it is stale */ });
  }
  // Before the card is charged: is what this page shows still what would be ordered? (Another
  // window may have changed the basket.) A refusal reloads the page, which says why and
  // shows the new total; nothing is charged.
  function check() {
    var body = new FormData();
    body.append("csrfmiddlewaretoken", form.querySelector("[name=csrfmiddlewaretoken]").value);
    body.append("attempt", form.querySelector("[name=attempt]").value);
    return fetch(form.dataset.checkUrl, {method: "POST", body: body, credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (answer) {
        if (answer && answer.ok === false) {
          window.location.reload();
          return false;
        }
        return true;
      }, function () { return true; });   // no answer: the server checks again at placement
  }
  var busy = false;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) { return; }                     // a double click pays once
    busy = true; button.disabled = true; errors.textContent = "";
    check().then(function (ok) {
      if (!ok) { return new Promise(function () {}); }   // reloading
      return confirm(form.dataset.clientSecret);
    }).then(function (result) {
      if (result.error) { throw result.error; }
      if (!result.paymentIntent || result.paymentIntent.status !== "succeeded") {
        throw {message: "The payment did not go through. Please try another card."};
      }
      form.submit();                          // server checks and places the order
    }).catch(function (error) {
      errors.textContent = (error && error.message) || "The payment did not go through. Please try another card.";
      // The next card goes on a fresh attempt: the server starts a new PaymentIntent once a
      // card failed on this one; read its client secret from the payment page again.
      refreshIntent().then(function () { busy = false; button.disabled = false; });
    });
  });
}());
