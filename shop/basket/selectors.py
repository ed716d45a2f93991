"""Basket reads that must stay cheap: the header's item count on cached pages, and the basket
page's content as plain data."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.core.signing import BadSignature, Signer
from django.db.models import Sum
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import get_language

from shop.basket.models import (
    IN_OPEN_ANONYMOUS,
    OPEN_ANONYMOUS_BASKET,
    OPEN_ANONYMOUS_LINES,
    Basket,
    Line,
)


def cookie_basket_id(request: HttpRequest) -> int | None:
    """The id of the anonymous basket named by the visitor's signed basket cookie (Oscar's
    BasketMiddleware writes it), or None."""
    value = request.COOKIES.get(settings.OSCAR_BASKET_COOKIE_OPEN)
    if not value:
        return None
    try:
        return int(Signer().unsign(value))
    except (BadSignature, ValueError):
        return None


def open_anonymous_basket(*, basket_id: int) -> Basket | None:
    """The open basket of no one `basket_id` (a visitor's basket cookie names it), None if
    there is none: read with its lines (OPEN_ANONYMOUS_LINES), one statement where there were
    two on every request that loads a visitor's basket; only a basket without lines is read
    on its own after. Its all_lines takes the lines read so (Basket.keep_lines_read)."""
    lines = OPEN_ANONYMOUS_LINES.run(basket_id, timezone.now())
    if lines:
        basket = lines[0].basket
        for line in lines:
            line.basket = basket  # one basket object, as LINES gives
    else:
        found = OPEN_ANONYMOUS_BASKET.run(basket_id)
        if not found:
            return None
        basket = found[0]
    basket.keep_lines_read(lines)
    return basket


COUNT_SECONDS = 3600


def item_count_key(basket_id: int) -> str:
    return f"mv:basket-count:{basket_id}"


def open_basket_item_count(*, basket_id: int | None) -> int:
    """Items (sum of line quantities) in an open, anonymous basket: from the cache, else one
    query (no offers applied, no lines loaded). 0 for a basket that is gone, submitted or
    owned by a user. shop.basket.receivers forget it when a line or the basket changes."""
    if basket_id is None:
        return 0
    key = item_count_key(basket_id)
    total = cache.get(key)
    if total is None:
        total = (
            Line.objects.filter(basket_id=basket_id, **IN_OPEN_ANONYMOUS).aggregate(
                n=Sum("quantity")
            )["n"]
            or 0
        )
        cache.set(key, total, timeout=COUNT_SECONDS)
    return total


# The basket page's content as plain data: everything its template shows, and nothing else
# (templates/oscar/basket/partials/basket_content.html and basket_line.html render from it).
# Its repr is the content key of the rendered HTML (shop.basket.fragments): a change of a
# line, a quantity, a price, stock, an offer or voucher, a personalisation price, the user
# or the language changes the data, so never shows a page rendered from the old data.


@dataclass(frozen=True)
class ChoiceRow:
    label: str
    text: str
    surcharge: Decimal | None


@dataclass(frozen=True)
class LineRow:
    prefix: str  # the line's form prefix ("form-0"): its fields are prefix-quantity etc.
    id_input: str  # the hidden input naming the line, as the formset renders it
    line_id: int
    title: str
    url: str
    image: str | None  # the picture's file name; None: the placeholder
    choices: tuple[ChoiceRow, ...]
    made_to_order: bool
    availability: str
    value: str  # the quantity box's value (what was posted, when it is shown again)
    quantity: int
    errors: tuple[tuple[str, ...], ...]  # each field's
    is_tax_known: bool
    line_price: Decimal | None  # incl. tax when known, else excl.
    unit_price: Decimal | None
    currency: str
    can_save_for_later: bool


@dataclass(frozen=True)
class Upsell:
    message: str
    url: str
    name: str


@dataclass(frozen=True)
class Discount:
    name: str
    amount: Decimal


@dataclass(frozen=True)
class VoucherDiscount:
    voucher_id: int
    name: str
    code: str
    amount: Decimal


@dataclass(frozen=True)
class Charge:
    name: str
    is_tax_known: bool
    amount: Decimal | None  # incl. tax when known, else excl.


@dataclass(frozen=True)
class VoucherField:
    label: str
    name: str
    id: str
    value: str
    errors: tuple[str, ...]


@dataclass(frozen=True)
class BasketPage:
    language: str
    warnings: tuple[str, ...]
    upsells: tuple[Upsell, ...]
    is_empty: bool
    currency: str
    total_is_tax_known: bool  # the order total's
    total: Decimal | None
    management_form: str
    lines: tuple[LineRow, ...]
    is_tax_known: bool  # the basket's
    total_incl_tax: Decimal
    num_items: int
    items_total: Decimal | None
    offer_discounts: tuple[Discount, ...]
    voucher_discounts: tuple[VoucherDiscount, ...]
    shipping_name: str
    shipping: Charge
    surcharges: tuple[Charge, ...]
    voucher_form: tuple[VoucherField, ...] | None
    voucher_form_has_errors: bool


def _hidden(name: str, value) -> str:
    """A hidden input exactly as Django's HiddenInput renders it (auto_id "id_%s")."""
    return f'<input type="hidden" name="{name}" value="{escape(value)}" id="id_{name}">'


def management_form_html(*, prefix: str, total: int) -> str:
    """The management form of an unbound formset of `total` existing lines, as
    `{{ formset.management_form }}` renders it (tests hold the two equal)."""
    return "".join(
        _hidden(f"{prefix}-{name}", value)
        for name, value in (
            ("TOTAL_FORMS", total),
            ("INITIAL_FORMS", total),
            ("MIN_NUM_FORMS", 0),
            ("MAX_NUM_FORMS", 1000),
        )
    )


def _charge(name: str, price) -> Charge:
    known = price.is_tax_known
    return Charge(
        name=str(name), is_tax_known=known, amount=price.incl_tax if known else price.excl_tax
    )


def _line_row(line, *, index: int, prefix: str, form, can_save: bool) -> LineRow:
    from shop.personalization.selectors import line_personalisation
    from shop.personalization.templatetags.personalization_tags import made_to_order

    product = line.product
    rows = line_personalisation(line)
    image = line_picture(line)
    info = line.purchase_info
    known = line.is_tax_known
    if form is None:  # unbound: the line's own quantity, no errors
        form_prefix = f"{prefix}-{index}"
        id_input = _hidden(f"{form_prefix}-id", line.pk)
        value, errors = str(line.quantity), ()
    else:
        form_prefix = form.prefix
        id_input = str(form["id"])
        value = str(form["quantity"].value())  # as the template showed it: None is "None"
        errors = tuple(tuple(str(error) for error in errors) for errors in form.errors.values())
    return LineRow(
        prefix=form_prefix,
        id_input=id_input,
        line_id=line.pk,
        title=product.get_title(),
        url=product.get_absolute_url(),
        image=image,
        choices=tuple(
            ChoiceRow(label=str(row["label"]), text=str(row["text"]), surcharge=row["surcharge"])
            for row in rows
        ),
        made_to_order=bool(rows) and made_to_order(rows),
        availability=str(info.availability.message),
        value=value,
        quantity=line.quantity,
        errors=errors,
        is_tax_known=known,
        line_price=line.line_price_incl_tax if known else line.line_price_excl_tax,
        unit_price=line.unit_price_incl_tax if known else line.unit_price_excl_tax,
        currency=line.price_currency,
        can_save_for_later=can_save,
    )


def line_picture(line) -> str | None:
    """The file of the line's picture: its product's first image, else its parent's (as
    Oscar's primary_image chooses); None when there is none. Read with the lines
    (shop.basket.models.Basket.all_lines), else from the product."""
    if hasattr(line, "picture"):
        return line.picture or None
    image = line.product.primary_image()
    if isinstance(image, dict):  # Oscar's "missing image"
        return None
    return image.original.name


def basket_page(
    *,
    basket,
    formset,
    prefix: str,
    user_is_authenticated: bool,
    warnings,
    upsells,
    shipping_method,
    shipping_charge,
    surcharges,
    order_total,
    voucher_form,
) -> BasketPage:
    """The basket page's content from Oscar's basket view context. `formset`: the bound line
    formset when a post is shown again (what was posted, and its errors), else None: the
    lines as they are need no formset built."""
    if formset is None or not formset.is_bound:
        lines = list(basket.all_lines())
        pairs = [(line, None) for line in lines]
        management = management_form_html(prefix=prefix, total=len(lines))
    else:
        pairs = [(form.instance, form) for form in formset]
        management = str(formset.management_form)
    rows = tuple(
        _line_row(line, index=index, prefix=prefix, form=form, can_save=user_is_authenticated)
        for index, (line, form) in enumerate(pairs)
    )
    known = basket.is_tax_known
    vouchers = []
    for discount in basket.grouped_voucher_discounts:
        voucher = discount["voucher"]
        vouchers.append(
            VoucherDiscount(
                voucher_id=voucher.id,
                name=voucher.voucher_set.name if voucher.voucher_set else voucher.name,
                code=voucher.code,
                amount=discount["discount"],
            )
        )
    fields = None
    if voucher_form:
        fields = tuple(
            VoucherField(
                label=str(field.label),
                name=field.html_name,
                id=field.id_for_label,
                value=str(field.value() or ""),
                errors=tuple(str(error) for error in field.errors),
            )
            for field in voucher_form
        )
    return BasketPage(
        language=get_language() or "",
        warnings=tuple(str(warning) for warning in warnings or ()),
        upsells=tuple(
            Upsell(
                message=str(upsell["message"]),
                url=upsell["offer"].get_absolute_url(),
                name=str(upsell["offer"].name),
            )
            for upsell in upsells or ()
        ),
        is_empty=basket.is_empty,
        currency=basket.currency,
        total_is_tax_known=order_total.is_tax_known,
        total=order_total.incl_tax if order_total.is_tax_known else order_total.excl_tax,
        management_form=management,
        lines=rows,
        is_tax_known=known,
        total_incl_tax=basket.total_incl_tax,
        num_items=basket.num_items,
        items_total=(
            basket.total_incl_tax_excl_discounts if known else basket.total_excl_tax_excl_discounts
        ),
        offer_discounts=tuple(
            Discount(name=str(discount["name"]), amount=discount["discount"])
            for discount in basket.offer_discounts
        ),
        voucher_discounts=tuple(vouchers),
        shipping_name=str(getattr(shipping_method, "name", "") or ""),
        shipping=_charge("", shipping_charge),
        surcharges=tuple(
            _charge(surcharge.surcharge.name, surcharge.price) for surcharge in surcharges or ()
        ),
        voucher_form=fields,
        voucher_form_has_errors=bool(voucher_form and voucher_form.errors),
    )
