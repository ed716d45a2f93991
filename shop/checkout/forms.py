"""Checkout forms in UK terms: the address asks for a County and a Postcode, and every field
carries its HTML autocomplete token so browsers fill the address and contact in one go."""

from oscar.apps.checkout import forms

# Oscar's address fields -> (our label or None to keep Oscar's, HTML autocomplete token).
ADDRESS_FIELDS = {
    "first_name": (None, "given-name"),
    "last_name": (None, "family-name"),
    "line1": (None, "address-line1"),
    "line2": (None, "address-line2"),
    "line3": (None, "address-line3"),
    "line4": ("Town or city", "address-level2"),
    "state": ("County", "address-level1"),
    "postcode": ("Postcode", "postal-code"),
    "country": (None, "country"),
    "phone_number": (None, "tel"),
}


class ShippingAddressForm(forms.ShippingAddressForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, (label, token) in ADDRESS_FIELDS.items():
            field = self.fields.get(name)
            if field is None:  # country is dropped when only one is offered
                continue
            if label:
                field.label = label
            field.widget.attrs["autocomplete"] = token


class GatewayForm(forms.GatewayForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs["autocomplete"] = "email"
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"
