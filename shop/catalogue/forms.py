from django import forms

from shop.catalogue.search import clean_query
from shop.catalogue.selectors import SORTS, filter_options

SORT_LABELS = {
    "featured": "Featured",
    "newest": "Newest",
    "price-asc": "Price, low to high",
    "price-desc": "Price, high to low",
    "name": "Name",
}


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

    def show_counts(self, counts: dict[str, dict[str, int]]) -> None:
        """Label each filter value with how many products of the result it leaves."""
        for key, per_value in counts.items():
            self.fields[key].choices = [
                (value, label if not value else f"{label} ({per_value.get(value, 0)})")
                for value, label in self.fields[key].choices
            ]

    def sort(self) -> str:
        return self.cleaned_data.get("sort_by") or "featured"


class ProductSearchForm(CatalogueFilterForm):
    """A search: whatever was typed is searched for, cut to a bounded length and number of
    words (shop.catalogue.search); nothing typed is an error."""

    q = forms.CharField(label="Search", required=False, strip=True)

    def clean_q(self) -> str:
        return clean_query(self.cleaned_data["q"])
