"""Small template helpers for the storefront theme (header menu, product facts, gallery,
filter links). Reads only; each tag costs at most one query."""

import hashlib
import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django import template
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from shop.catalogue import selectors
from shop.catalogue.forms import query_without
from shop.catalogue.models import ProductAttributeValue, ProductImage
from shop.common import cache_writes
from shop.common.kept import Kept

register = template.Library()
logger = logging.getLogger(__name__)
UNAVAILABLE = "unavailable"  # the catalogue version when the cache does not answer

# The sustainability facts panel, in the order a shopper reads it: (code, label, unit).
FACTS = (
    ("line", "Line", ""),
    ("colour", "Colour", ""),
    ("leather_origin", "Leather origin", ""),
    ("tannery", "Tannery", ""),
    ("tanning_method", "Tanning", ""),
    ("certification", "Certification", ""),
    ("recycled_content", "Recycled content", "%"),
    ("repairability", "Repairs", ""),
    ("end_of_life", "End of life", ""),
    ("carbon_footprint", "Carbon footprint", "kg CO₂e"),
)
from shop.shipping.methods import FREE_TRACKED_THRESHOLD as FREE_DELIVERY_THRESHOLD  # noqa: E402


@register.simple_tag
def nav_categories():
    """Top-level public categories for the header menu (one query)."""
    return list(selectors.menu_categories())


@register.simple_tag
def current_year() -> int:
    """This year in the current time zone, read as {% now "Y" %} reads it (without the date
    formatting: the footer's frame key, on every page)."""
    return datetime.now(tz=timezone.get_current_timezone()).year


@register.simple_tag(takes_context=True)
def basket_item_count(context) -> int:
    """How many items the header's basket link shows. A signed-out visitor without a basket
    cookie has no basket: 0, without building and pricing an empty one (Oscar's basket
    middleware does that on first use of request.basket). One with a basket cookie, on a
    page that did not load their basket (a listing, a search): the count cached pages show
    (shop.basket.selectors, one cached read), not the basket loaded and priced for it
    (~45% of an uncached search page for a visitor with three personalised lines)."""
    from django.conf import settings

    from shop.basket.selectors import cookie_basket_id, open_basket_item_count

    request = context.get("request")
    if request is None or not hasattr(request, "basket"):
        return 0
    loaded = getattr(request, "_basket_cache", None) is not None
    signed_in = getattr(getattr(request, "user", None), "is_authenticated", False)
    if loaded or signed_in:
        return request.basket.num_items
    if settings.OSCAR_BASKET_COOKIE_OPEN not in request.COOKIES:
        return 0
    return open_basket_item_count(basket_id=cookie_basket_id(request))


@register.simple_tag(takes_context=True)
def nav_state(context) -> str:
    """Which header menu items are the current page (the menu's marks in oscar/layout.html,
    one field each): the key its cached copy is kept under."""
    request = context.get("request")
    line = request.GET.get("line") if request else None
    category = context.get("category")
    slug = context.get("slug")
    return "|".join(
        (
            "evergreen" if line == "Evergreen" else "",
            str(category.path[:4]) if getattr(category, "path", None) else "",
            "all" if request and request.path == "/catalogue/" and not line else "",
            slug if slug in ("take-back", "our-workshop") else "",
        )
    )


@dataclass
class ProductFacts:
    rows: list = field(default_factory=list)  # [{"code", "label", "value"}], in panel order
    line: str = ""  # "Evergreen", "Heritage" or ""

    @property
    def is_evergreen(self) -> bool:
        return self.line == "Evergreen"


@register.simple_tag
def product_facts(product):
    """The product's sustainability facts (one query), in panel order, and its line.

    For a child (a colour) the parent's values are included; values the product lacks are left out.
    """
    attribute_values = product.get_attribute_values()
    if isinstance(attribute_values, QuerySet):
        attribute_values = attribute_values.select_related("attribute", "value_option")
    values = {av.attribute.code: av for av in attribute_values}
    facts = []
    for code, label, unit in FACTS:
        av = values.get(code)
        if av is None:
            continue
        text = av.value_as_text
        if text in ("", None):
            continue
        text = str(text)
        if unit:
            text = f"{text}{unit}" if unit == "%" else f"{text} {unit}"
        facts.append({"code": code, "label": label, "value": _plain_html(text)})
    line = values.get("line")
    return ProductFacts(rows=facts, line=line.value_as_text if line is not None else "")


_AMBIGUOUS_AMPERSAND = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


def _plain_html(text: str) -> str:
    """Text made safe for HTML, escaping only what must be: <, >, quotes and an ampersand that
    would start a character reference. "Ashworth & Pell" stays as written in the page source."""
    text = _AMBIGUOUS_AMPERSAND.sub("&amp;", text)
    for char, entity in (("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;")):
        text = text.replace(char, entity)
    return mark_safe(text)  # noqa: S308 (escaped above)


@register.simple_tag
def gallery_images(product):
    """Images of a product and, for a parent, of its public children (one query), primary first.

    Each image carries `child_id` (None for the product's own images) so the page can show the
    picture of the colour a shopper picks."""
    # product_id IN (the product, its public children): an index lookup, where an OR across
    # the join to products scanned every image at catalogue scale.
    children = product.children.filter(is_public=True).values("pk")
    images = list(
        ProductImage.objects.filter(Q(product_id=product.pk) | Q(product_id__in=children))
        .select_related("product")
        .order_by("product__parent_id", "product_id", "display_order", "pk")
    )
    for image in images:
        image.child_id = image.product_id if image.product_id != product.pk else None
    own = [i for i in images if i.child_id is None]
    return own + [i for i in images if i.child_id is not None]


@register.simple_tag(takes_context=True)
def catalogue_version(context) -> str:
    """The catalogue's version (shop.storefront.page_cache): any change to what a listing
    shows, a price included, moves it. Product cards and a category's links are cached
    under it. Read once per request."""
    from shop.storefront.page_cache import catalogue_version as version

    request = context.get("request")
    if request is not None and hasattr(request, "_mv_catalogue_version"):
        return request._mv_catalogue_version
    try:
        found = version()
    except Exception:  # the cache backend's own errors: what is keyed by it is not kept
        logger.warning("catalogue version unavailable", exc_info=True)
        # A key no later page repeats: nothing cached under it (the chrome) is ever reused.
        found = f"{UNAVAILABLE}-{uuid.uuid4().hex}"
    if request is not None:
        request._mv_catalogue_version = found
    return found


@register.simple_tag(takes_context=True)
def menu_version(context) -> str:
    """The catalogue version the header's menu is kept under: this request's when it has read
    it (every page the page cache serves or stores), else the one this process read within
    page_cache.MENU_VERSION_READ_SECONDS (the basket and checkout then ask the cache nothing
    for their header), else read now (and kept for the request, as catalogue_version)."""
    from shop.storefront.page_cache import MENU_VERSION

    request = context.get("request")
    recent = None if hasattr(request, "_mv_catalogue_version") else MENU_VERSION.get()
    return recent or catalogue_version(context)


# A listing's cards: the first row's pictures load at once, the rest lazily. Each card is
# cached once per product and catalogue version (the same on every page, filter and sort
# that shows it), rendered lazy; the first row's have the lazy attribute taken out.
EAGER_CARDS = 6
CARD_CACHE_SECONDS = 24 * 3600
# Cards this process has read (their keys hold the catalogue version).
_cards_kept = Kept(entries=4096)
_LAZY = 'loading="lazy" '


# The card's picture: Oscar's thumbnailer (sorl) at this size, its URL and size kept per file
# name (a stored picture never changes under its name), so a listing's missing cards read all
# their pictures in one round trip instead of one thumbnail-store lookup each.
CARD_THUMBNAIL = {"size": "480x480", "crop": "center", "format": "WEBP", "quality": 78}
THUMB_CACHE_SECONDS = 30 * 24 * 3600
_THUMB_SPEC = repr(sorted(CARD_THUMBNAIL.items()))  # in the key: another size, another entry


def _thumb_key(name: str) -> str:
    return "mv-thumb:" + hashlib.sha256(f"{_THUMB_SPEC}|{name}".encode()).hexdigest()[:32]


def card_thumbnails(names: list[str]) -> dict[str, dict]:
    """File name -> {"url", "width", "height"} of its card-size thumbnail, made where missing;
    a picture the thumbnailer cannot read is left out (the card shows its placeholder)."""
    from oscar.core.thumbnails import get_thumbnailer

    keys = {name: _thumb_key(name) for name in set(names) if name}
    try:
        kept = cache.get_many(list(keys.values())) if keys else {}
    except Exception:
        logger.warning("card thumbnails: cache unavailable", exc_info=True)
        kept = None
    found, fresh = {}, {}
    for name, key in keys.items():
        if kept and key in kept:
            found[name] = kept[key]
            continue
        try:
            thumb = get_thumbnailer().generate_thumbnail(name, **CARD_THUMBNAIL)
            found[name] = {"url": thumb.url, "width": thumb.width, "height": thumb.height}
        except Exception:
            logger.exception("card thumbnail of %s", name)
            continue
        fresh[key] = found[name]
    if fresh and kept is not None:
        try:
            cache_writes.set_many(fresh, timeout=THUMB_CACHE_SECONDS)
        except Exception:
            logger.warning("card thumbnails: cache unavailable", exc_info=True)
    return found


@register.simple_tag
def card_picture(product) -> dict | None:
    """The card-size thumbnail of a card's first picture ({"url", "width", "height"}), or None:
    a listing's card (selectors.Card) carries it already; a product's is looked up."""
    if isinstance(product, selectors.Card):
        return product.thumb
    image = next(iter(product.images.all()), None)
    if image is None or not image.original:
        return None
    return card_thumbnails([image.original.name]).get(image.original.name)


@register.simple_tag(takes_context=True)
def product_cards(context, product_ids, heading: str = "h2") -> list[str]:
    """The cards of the products with these ids, in their order: those this process has read
    already, then those cached in one round trip, the others rendered from one statement
    (shop.catalogue.selectors.card_rows; a product without a price goes through Oscar's
    purchase info, selectors.card_products) and stored."""
    from django.template import Context
    from django.template.loader import get_template

    version = catalogue_version(context)
    keys = {pk: f"mv-card:{version}:{heading}:{pk}" for pk in product_ids}
    cards = {}
    if not version.startswith(UNAVAILABLE):
        try:
            cards = _cards_kept.read(list(keys.values()), cache)
        except Exception:
            logger.warning("product cards: cache unavailable", exc_info=True)
            version = UNAVAILABLE
    missing = [pk for pk, key in keys.items() if key not in cards]
    if missing:
        # The engine's template itself: a card needs no context processor, only the request
        # (for a product without a price, Oscar's purchase info).
        template = get_template("shop/partials/product_card.html").template
        request = context.get("request")
        rows = selectors.card_rows(missing)
        thumbs = card_thumbnails([row.picture for row in rows])
        for row in rows:
            row.thumb = thumbs.get(row.picture)
        unpriced = [row.pk for row in rows if row.from_price is None]
        shown = [row for row in rows if row.from_price is not None]
        shown += selectors.card_products(unpriced) if unpriced else []
        fresh = {}
        for product in shown:
            card = {"product": product, "lazy": True, "heading": heading, "request": request}
            fresh[keys[product.pk]] = template.render(Context(card))
        if not version.startswith(UNAVAILABLE):
            try:
                cache_writes.set_many(fresh, timeout=CARD_CACHE_SECONDS)
                _cards_kept.update(fresh)
            except Exception:
                logger.warning("product cards: cache unavailable", exc_info=True)
        cards.update(fresh)
    found = [cards[keys[pk]] for pk in product_ids if keys[pk] in cards]
    return [
        mark_safe(card if i >= EAGER_CARDS else card.replace(_LAZY, "", 1))
        for i, card in enumerate(found)
    ]


register.simple_tag(query_without)  # shop.catalogue.forms: {% query_without request.GET "q" %}


@register.filter
def free_delivery_gap(total):
    """How much more to spend for free UK delivery (0 when the basket already qualifies)."""
    try:
        gap = FREE_DELIVERY_THRESHOLD - Decimal(total)
    except (TypeError, ArithmeticError, ValueError):
        return Decimal("0")
    return gap if gap > 0 else Decimal("0")


@register.filter
def free_delivery_progress(total):
    """How far the basket is towards free delivery, in whole tens of per cent (0, 10 ... 100),
    for a progress bar drawn with a CSS class (no inline style)."""
    try:
        share = Decimal(total) / FREE_DELIVERY_THRESHOLD * 100
    except (TypeError, ArithmeticError, ValueError):
        return 0
    return int(max(0, min(100, share))) // 10 * 10


_PREVIOUS = '<span aria-hidden="true">&larr;</span> Previous'
_NEXT = 'Next <span aria-hidden="true">&rarr;</span>'


@register.simple_tag
def listing_pagination(page_obj, query_without_page: str = "") -> str:
    """A listing's page links, written in Python: a listing draws them on every request the
    page cache misses, and as a template they cost more than the rest of the listing's body.
    `query_without_page`: the query string without `page`, urlencoded; page 1 is the address
    without a page number."""
    paginator = page_obj.paginator
    if paginator.num_pages <= 1:
        return ""
    query = conditional_escape(query_without_page)

    def href(number: int) -> str:
        page = f"page={number}" if number != 1 else ""
        joiner = "&amp;" if query and page else ""
        return f"?{query}{joiner}{page}"

    items = []
    if page_obj.has_previous():
        items.append(f'<a href="{href(page_obj.number - 1)}" rel="prev">{_PREVIOUS}</a>')
    else:
        items.append(f'<span class="is-disabled">{_PREVIOUS}</span>')
    for n in paginator.get_elided_page_range(page_obj.number, on_each_side=1, on_ends=1):
        if n == paginator.ELLIPSIS:
            items.append('<span class="mv-pagination__gap">&hellip;</span>')
        elif n == page_obj.number:
            items.append(f'<span aria-current="page"><span class="mv-sr">Page </span>{n}</span>')
        else:
            items.append(f'<a href="{href(n)}"><span class="mv-sr">Page </span>{n}</a>')
    if page_obj.has_next():
        items.append(f'<a href="{href(page_obj.number + 1)}" rel="next">{_NEXT}</a>')
    else:
        items.append(f'<span class="is-disabled">{_NEXT}</span>')
    links = "".join(f"<li>{item}</li>" for item in items)
    return mark_safe(f'<nav class="mv-pagination" aria-label="Pages"><ul>{links}</ul></nav>')


@register.simple_tag
def variant_choices(field, images=()):
    """The colour choices of a parent product's add-to-basket form (Oscar's `child_id` field), as
    [{value, label, disabled, checked, image}] with the colour as the label (one query) and the
    colour's picture from `images` (see gallery_images)."""
    choices = list(field.field.choices)
    ids = [int(value) for value, _ in choices]
    colours = {
        pk: text or option
        for pk, text, option in ProductAttributeValue.objects.filter(
            product_id__in=ids, attribute__code="colour"
        ).values_list("product_id", "value_text", "value_option__option")
    }
    disabled = {int(v) for v in getattr(field.field.widget, "disabled_values", ())}
    pictures = {}
    for image in images:
        if getattr(image, "child_id", None) and image.child_id not in pictures:
            pictures[image.child_id] = image
    current = str(field.value() or "")
    variants = []
    for value, label in choices:
        pk = int(value)
        variants.append(
            {
                "value": pk,
                "label": colours.get(pk) or label,
                "disabled": pk in disabled,
                "checked": str(pk) == current,
                "image": pictures.get(pk),
            }
        )
    if variants and not any(v["checked"] for v in variants):
        first = next((v for v in variants if not v["disabled"]), None)
        if first:
            first["checked"] = True
    return variants


@register.simple_tag
def main_image(images, variants=None):
    """The picture a product page opens with: that of the colour selected in the form if it has
    one (see variant_choices), else the product's primary image."""
    for variant in variants or ():
        if variant["checked"] and variant["image"] is not None:
            return variant["image"]
    return images[0] if images else None


@register.simple_tag
def ordered_gallery(images, variants=None):
    """Gallery images with the colours' pictures in the order the colour choices are offered."""
    if not variants:
        return images
    rank = {variant["value"]: i for i, variant in enumerate(variants)}
    return sorted(
        images, key=lambda image: -1 if image.child_id is None else rank.get(image.child_id, 999)
    )


@register.simple_tag
def line_personalisation(line):
    """The personalisation on a basket line for display: [{kind, label, text, surcharge}]
    (shop.personalization.selectors.line_personalisation)."""
    from shop.personalization.selectors import line_personalisation as rows

    return rows(line)


@register.filter
def isodate(value):
    """'2026-11-27' -> date, for the |date filter (dispatch dates arrive as ISO strings)."""
    from datetime import date

    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


@register.filter
def get_item(mapping, key):
    """mapping[str(key)] in a template, or None."""
    try:
        return mapping.get(str(key))
    except AttributeError:
        return None


# --- frames: the page's chrome rendered once per process --------------------------------------
# `{% frame "name" a b ... fill x=expr y=expr %}...{% endframe %}` renders its content once per
# top-level template (whose blocks it may hold) and values of a, b, ... (what the content
# shows varies with), keeps the HTML in this process, and serves it again with each request's
# own values put in where the content shows {{ x }}, {{ y }}: rendered once with a mark in
# their place, each mark replaced by the value escaped as {{ }} escapes it. A fill is worked
# out only when its mark is in the HTML ({% csrf_token %} in a signed-in visitor's forms: an
# anonymous page's frame reads no token, so sets no CSRF cookie). The content must depend on
# nothing else of the request; a fill may only be shown plainly ({{ x }}), never tested or
# filtered inside. Nothing is invalidated: what changes is in the key (e.g. the catalogue
# version for the menu), and the store is cleared when full or when settings change (tests).
FRAMES_MAX = 2000
_frames: dict[tuple, tuple[str, tuple[tuple[str, str], ...]]] = {}
_FILL_MARK = f"mvfill{uuid.uuid4().hex}n"  # + the fill's index: random per process


def _template_token(template_obj) -> str:
    """Changes when the template object does (reloaded in development, another process)."""
    token = getattr(template_obj, "_mv_frame_token", None)
    if token is None:
        token = uuid.uuid4().hex
        template_obj._mv_frame_token = token
    return token


def clear_frames(**kwargs) -> None:
    _frames.clear()


setting_changed.connect(clear_frames)


class FrameNode(template.Node):
    def __init__(self, name: str, nodelist, vary: list, fills: dict):
        self.name, self.nodelist, self.vary, self.fills = name, nodelist, vary, fills

    def render(self, context) -> str:
        top = context.template
        key = (
            self.name,
            _template_token(top) if top is not None else "",
            tuple(str(expr.resolve(context)) for expr in self.vary),
        )
        kept = _frames.get(key)
        if kept is None:
            marks = {name: f"{_FILL_MARK}{i}x" for i, name in enumerate(self.fills)}
            with context.push(marks):
                html = self.nodelist.render(context)
            used = tuple((name, mark) for name, mark in marks.items() if mark in html)
            if len(_frames) >= FRAMES_MAX:
                _frames.clear()
            kept = _frames[key] = (html, used)
        html, used = kept
        for name, mark in used:
            value = self.fills[name].resolve(context)
            html = html.replace(mark, str(conditional_escape(value)))
        return mark_safe(html)


@register.tag
def frame(parser, token):
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("'frame' takes a name")
    name = bits[1].strip("\"'")
    vary, fills, rest = [], {}, bits[2:]
    if "fill" in rest:
        at = rest.index("fill")
        for bit in rest[at + 1 :]:
            fill, _, expr = bit.partition("=")
            if not expr:
                raise template.TemplateSyntaxError(f"frame fill {bit!r}: name=value")
            fills[fill] = parser.compile_filter(expr)
        rest = rest[:at]
    vary = [parser.compile_filter(bit) for bit in rest]
    nodelist = parser.parse(("endframe",))
    parser.delete_first_token()
    return FrameNode(name, nodelist, vary, fills)


@register.simple_tag(takes_context=True)
def header_state(context) -> str:
    """What the header shows of the visitor: signed out, signed in, or with the dashboard link
    (a frame's key in oscar/layout.html)."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return "anonymous"
    if user.is_staff or user.has_perm("partner.dashboard_access"):
        return "staff"
    return "customer"
