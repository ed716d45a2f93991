import copy
from html import escape
from urllib.parse import quote

from django import forms
from django.forms.utils import flatatt
from django.http import QueryDict
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from shop.catalogue.search import clean_query
from shop.catalogue.selectors import SORTS, filter_options

SORT_LABELS = {
    "featured": "Featured",
    "newest": "Newest",
    "price-asc": "Price, low to high",
    "price-desc": "Price, high to low",
    "name": "Name",
}


class QuickSelect(forms.Select):
    """Django's <select>, written in Python instead of through the template engine (the same
    markup): a listing renders four of them on every request, cache or not."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = set(self.format_value(value))
        options = "\n".join(
            f'  <option value="{escape(str(v))}"{" selected" if str(v) in chosen else ""}>'
            f"{escape(str(label))}</option>"
            for v, label in self.choices
        )
        final = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        return mark_safe(f"<select{flatatt(final)}>\n{options}\n</select>")


def query_without(params: QueryDict, *keys: str) -> str:
    """The query string ``params`` without ``keys`` and without the page number: where a
    listing's links go when they change what it lists (each starts again at page 1). A new
    QueryDict holding the others (QueryDict.copy deep-copies every value: a listing asks
    once per chip and once for its pages)."""
    dropped = {*keys, "page"}
    kept = QueryDict(mutable=True, encoding=params.encoding)
    for key, values in params.lists():
        if key not in dropped:
            kept.setlist(key, values)
    return kept.urlencode()


def _field_copy(field: forms.Field) -> forms.Field:
    """What a form's copy of a class field needs to be its own (Django deep-copies it, its
    widget and its choices, normalizing them again: a third of building a listing's form).
    The choice lists are shared: they are only ever replaced (_set_choices), never changed."""
    copied = copy.copy(field)
    copied.widget = copy.copy(field.widget)
    copied.widget.attrs = dict(field.widget.attrs)
    copied.error_messages = dict(field.error_messages)
    copied.validators = list(field.validators)
    return copied


def _set_choices(field: forms.ChoiceField, choices: list[tuple[str, str]]) -> None:
    """What ``field.choices = choices`` does for a flat list of (value, label) pairs, which is
    already the normalized form, without normalizing it again (a listing sets six on every
    request the page cache misses: a third of building its form)."""
    field._choices = field.widget.choices = choices


class CatalogueFilterForm(forms.Form):
    """Filters and sort order from the query string. Anything else is a bad request."""

    tanning = forms.ChoiceField(label="Tanning", required=False, widget=QuickSelect)
    certification = forms.ChoiceField(label="Certification", required=False, widget=QuickSelect)
    line = forms.ChoiceField(label="Line", required=False, widget=QuickSelect)
    sort_by = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[(k, SORT_LABELS[k]) for k in SORTS],
        widget=QuickSelect,
    )

    def __init__(self, *args, **kwargs):
        # Django's BaseForm deep-copies base_fields: given none to copy, it copies nothing,
        # and the form's own copies are made here (_field_copy).
        self.base_fields = {}
        try:
            super().__init__(*args, **kwargs)
        finally:
            del self.base_fields  # the class's again
        self.fields = {name: _field_copy(field) for name, field in self.base_fields.items()}
        for key, values in filter_options().items():
            _set_choices(self.fields[key], [("", "All")] + [(v, v) for v in values])

    def filters(self) -> dict[str, str]:
        return {k: self.cleaned_data[k] for k in ("tanning", "certification", "line")}

    def active_filters(self) -> dict[str, str]:
        """The filters chosen (a value given)."""
        return {k: v for k, v in self.filters().items() if v}

    def show_counts(self, counts: dict[str, dict[str, int]]) -> None:
        """Label each filter value with how many products of the result it leaves."""
        for key, per_value in counts.items():
            _set_choices(
                self.fields[key],
                [
                    (value, label if not value else f"{label} ({per_value.get(value, 0)})")
                    for value, label in self.fields[key].choices
                ],
            )

    def filter_fields(self) -> str:
        """Each select but the search box with its label, as `{{ field }}` draws them (a test
        holds the two equal), without a bound field each: a listing draws them on every
        request the page cache misses."""
        parts = []
        for name, field in self.fields.items():
            if name == "q":
                continue
            value = field.widget.value_from_datadict(self.data, self.files, name)
            select = field.widget.render(name, value, attrs={"id": f"id_{name}"})
            parts.append(
                format_html(
                    '<div class="mv-field"><label for="id_{}">{}</label>{}</div>',
                    name,
                    field.label,
                    select,
                )
            )
        return mark_safe("".join(parts))

    def filter_chips(self, path: str) -> str:
        """The chosen filters as chips, each a link to the listing without it (and without the
        page number), then "Clear all": the markup the template drew (a test holds the two
        equal), in Python (a listing draws them on every request the page cache misses)."""
        chosen = self.active_filters()
        if not chosen:
            return ""
        chips = []
        for name, field in self.fields.items():
            if name not in chosen:
                continue
            value = field.widget.value_from_datadict(self.data, self.files, name)
            chips.append(
                format_html(
                    '<li><a class="mv-chip" href="?{}"><span><span class="mv-sr">Remove filter '
                    '</span>{}: {}</span><span aria-hidden="true">&times;</span></a></li>',
                    query_without(self.data, name),
                    field.label,
                    value,
                )
            )
        query = self.cleaned_data.get("q")
        clear = f"{path}?q={quote(query, safe='/')}" if query else path  # as |urlencode
        return format_html(
            '<ul class="mv-chips" aria-label="Active filters">{}<li><a href="{}">Clear all</a>'
            "</li></ul>",
            mark_safe("".join(chips)),
            clear,
        )

    def sort(self) -> str:
        return self.cleaned_data.get("sort_by") or "featured"


class ProductSearchForm(CatalogueFilterForm):
    """A search: whatever was typed is searched for, cut to a bounded length and number of
    words (shop.catalogue.search); nothing typed is an error."""

    q = forms.CharField(label="Search", required=False, strip=True)

    def clean_q(self) -> str:
        return clean_query(self.cleaned_data["q"])
