"""The payment page in the shop's look: the attempt's frozen summary beside the card form, the
address form in UK terms with autocomplete, and no Preview step to land on."""

import re

import pytest

from shop.catalogue.models import Product
from shop.checkout.models import CheckoutAttempt
from tests.factories import KEY_FOB, TRACKED, checkout_to_shipping_method

pytestmark = pytest.mark.django_db


def _summary(html: str) -> str:
    match = re.search(r"<aside class=\"mv-pay__summary\".*?</aside>", html, re.S)
    assert match, "no order summary on the payment page"
    return re.sub(r"\s+", " ", match.group(0))


def test_payment_page_shows_the_frozen_order_beside_the_card_form(
    client, demo_personalization, localstripe
):
    holdall = Product.objects.get(upc="MV-EG-HOL")
    client.post(
        f"/basket/add/{holdall.pk}/",
        {"quantity": 1, "initials": "jb", "style": "foil", "position": "inside"},
        HTTP_REFERER=holdall.get_absolute_url(),
    )
    address_page = checkout_to_shipping_method(client, KEY_FOB, quantity=2)
    client.post("/checkout/shipping-method/", {"method_code": TRACKED})
    response = client.get("/checkout/payment-details/")
    html = response.content.decode()
    attempt = CheckoutAttempt.objects.get()
    summary = _summary(html)

    # The card form and the summary sit side by side in one grid; the summary is the attempt.
    assert html.index('id="card-element"') < html.index('class="mv-pay__summary"')
    holdall_line, fob_line = sorted(attempt.summary_lines(), key=lambda line: line["quantity"])
    assert holdall_line["title"] == holdall.get_title() and fob_line["quantity"] == 2
    for line in (holdall_line, fob_line):
        assert f'<h3 class="mv-line__title">{line["title"]}</h3>' in summary
        assert f"£{line['price']}" in summary
    assert "Quantity 2 · £25.00 each" in summary.replace("&middot;", "·")
    assert "Quantity 1" in summary
    assert "<dt>Monogram</dt><dd>JB · Gold foil · Inside" in summary
    assert "Made to order for you." in summary
    assert f"£{attempt.content['shipping']['charge']}" in summary
    assert re.search(rf"To pay</dt><dd data-summary-due>£{attempt.amount_due:,}</dd>", summary)
    assert f">Pay £{attempt.amount_due:,} and place order</button>" in html
    assert attempt.total == sum(
        (float(line["price"]) for line in attempt.summary_lines()),
        float(attempt.content["shipping"]["charge"]),
    )

    # The steps name no Preview; the preview URL goes back to the payment page.
    assert "Preview" not in html
    for method in (client.get, client.post):
        preview = method("/checkout/preview/")
        assert preview.status_code == 302 and preview["Location"] == "/checkout/payment-details/"
    assert address_page.status_code == 200


def test_address_form_speaks_uk_and_autocompletes(client, demo_catalogue):
    key_fob = Product.objects.get(upc=KEY_FOB)
    client.post(f"/basket/add/{key_fob.pk}/", {"quantity": 1})
    gateway = client.get("/checkout/").content.decode()
    assert re.search(
        r'<input[^>]*name="username"[^>]*autocomplete="email"|'
        r'<input[^>]*autocomplete="email"[^>]*name="username"',
        gateway,
    )
    client.post("/checkout/", {"username": "ada@example.com", "options": "anonymous"})
    html = client.get("/checkout/shipping-address/").content.decode()
    for name, token in {
        "first_name": "given-name",
        "last_name": "family-name",
        "line1": "address-line1",
        "line2": "address-line2",
        "line4": "address-level2",
        "state": "address-level1",
        "postcode": "postal-code",
        "phone_number": "tel",
    }.items():
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
        assert tag and f'autocomplete="{token}"' in tag.group(0), name
    assert re.search(r'<label[^>]*for="id_state"[^>]*>\s*County', html)
    assert re.search(r'<label[^>]*for="id_postcode"[^>]*>\s*Postcode', html)
    country = re.search(r'<select[^>]*name="country"[^>]*>', html)
    assert country is None or 'autocomplete="country"' in country.group(0)
