from django import forms

from shop.catalogue.selectors import SORTS, filter_options

SORT_LABELS = {
    "featured": "Featured",
    "newest": "Newest",
    "price-asc": "Price, low to high",
    "price-desc": "Price, high to low",
    "name": "Name",
}
MAX_QUERY_LENGTH = 200


class CatalogueFilterForm(forms.Form):
    """Filters and sort order from the query string. Anything else is a bad request."""

    tanning = forms.ChoiceField(label="Tanning", required=False)
    certification = forms.ChoiceField(label="Certification", required=False)
    line = forms.ChoiceField(label="Line", required=False)
    sort_by = forms.ChoiceField(
        label="Sort by", required=False, choices=[(k, SORT_LABELS[k]) for k in SORTS]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, values in filter_options().items():
            self.fields[key].choices = [("", "All")] + [(v, v) for v in values]

    def filters(self) -> dict[str, str]:
        return {k: self.cleaned_data[k] for k in ("tanning", "certification", "line")}

    def sort(self) -> str:
        return self.cleaned_data.get("sort_by") or "featured"


class ProductSearchForm(CatalogueFilterForm):
    q = forms.CharField(label="Search", required=False, max_length=MAX_QUERY_LENGTH, strip=True)

    def clean_q(self) -> str:
        q = self.cleaned_data["q"]
        if "\x00" in q:
            raise forms.ValidationError("The search contains characters we cannot look for.")
        return q
