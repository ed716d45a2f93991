"""The basket page: its content rendered from plain data and kept under a digest of that data
(shop.basket.selectors.basket_page, shop.basket.fragments). The same HTML as the page always
showed (names, ids, labels, errors, no-JS buttons), and no change of what it shows is ever
served from HTML made before the change."""

import datetime as dt
import io
import re
from decimal import Decimal as D

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oscar.apps.offer.models import Benefit, Condition, ConditionalOffer
from oscar.core.loading import get_class
from oscar.test.factories import ConditionalOfferFactory, RangeFactory, VoucherFactory
from PIL import Image

from shop.basket import fragments
from shop.basket.models import Basket, Line
from shop.basket.selectors import management_form_html
from shop.catalogue.models import Product, ProductImage
from shop.partner.strategy import Selector
from shop.personalization.models import PersonalizationOffer, PersonalizationValue
from shop.personalization.rules import Choices
from shop.personalization.services import basket_line_personalize
from tests.basket.helpers import fill_basket

pytestmark = pytest.mark.django_db
BasketLineFormSet = get_class("basket.formsets", "BasketLineFormSet")


@pytest.fixture(autouse=True)
def fresh_store(monkeypatch):
    """Each test with its own (empty) store of kept HTML, counting what is put in it."""
    store = fragments.LRU(fragments.FRAGMENTS_MAX_CHARS)
    store.sets = 0
    original = store.set

    def counting_set(key, value):
        store.sets += 1
        original(key, value)

    store.set = counting_set
    monkeypatch.setattr(fragments, "store", store)
    return store


def _page(client) -> str:
    response = client.get("/basket/")
    assert response.status_code == 200
    return response.content.decode()


def _lines() -> list[Line]:
    return list(Line.objects.order_by("pk"))


def _line_html(page: str, index: int) -> str:
    """The <li> of the index-th line of the basket form."""
    start = page.index(f'name="form-{index}-id"')
    return page[page.rindex('<li class="mv-line">', 0, start) : page.index("</li>", start)]


def _summary(page: str) -> str:
    start = page.index('<aside class="mv-summary"')
    return page[start : page.index("</aside>", start)]


@pytest.fixture
def shopper(client, demo_personalization):
    """A visitor with the three personalised lines, who has seen the basket page once."""
    fill_basket(client)
    client.get("/basket/")  # the "added" messages shown
    return client


# The same HTML as before: the formset's names, ids and values, written without it.


def test_the_unbound_formset_is_written_as_django_renders_it(shopper):
    page = _page(shopper)
    basket = Basket.objects.get()
    basket.strategy = Selector().strategy()
    formset = BasketLineFormSet(strategy=basket.strategy, queryset=basket.all_lines())
    assert management_form_html(prefix="form", total=3) == str(formset.management_form)
    assert str(formset.management_form) in page
    for index, form in enumerate(formset):
        line = _line_html(page, index)
        assert str(form["id"]) in line
        assert f'<label for="{form["quantity"].id_for_label}">Quantity</label>' in line
        assert (
            f'<input type="number" name="{form["quantity"].html_name}" '
            f'id="{form["quantity"].id_for_label}" value="{form["quantity"].value()}" min="0"'
        ) in line
        assert f'name="{form["DELETE"].html_name}" value="on">Remove' in line
        assert "save_for_later" not in line  # a guest cannot save for later


def test_a_signed_in_shopper_can_save_for_later(client, demo_personalization):
    user = get_user_model().objects.create_user("ann", "ann@example.com", "a-long-password")
    client.force_login(user)
    fill_basket(client)
    page = _page(client)
    for index in range(3):
        assert (
            f'<button type="submit" name="form-{index}-save_for_later" value="on">'
            "Save for later</button>"
        ) in _line_html(page, index)


@pytest.mark.parametrize(
    "posted,error",
    [
        ("abc", "Enter a whole number."),
        ("-4", "Ensure this value is greater than or equal to 0."),
        ("99999", "a maximum of"),
    ],
)
def test_bad_quantity_input_is_shown_again_with_its_error(shopper, posted, error):
    lines = _lines()
    data = {"form-TOTAL_FORMS": "3", "form-INITIAL_FORMS": "3"}
    for index, line in enumerate(lines):
        data[f"form-{index}-id"] = str(line.pk)
        data[f"form-{index}-quantity"] = str(line.quantity)
    data["form-1-quantity"] = posted
    response = shopper.post("/basket/", data)
    assert response.status_code == 200
    page = response.content.decode()
    line = _line_html(page, 1)
    assert f'id="id_form-1-quantity" value="{posted}"' in line
    assert re.search(rf'<span class="mv-field__error">{re.escape(error)}[^<]*</span>', line)
    assert "mv-field__error" not in _line_html(page, 0)
    assert "Please correct any validation errors below." in page
    assert [line.quantity for line in _lines()] == [line.quantity for line in lines]
    # Shown again, then as it is: no error, the stored quantity.
    assert f'id="id_form-1-quantity" value="{lines[1].quantity}"' in _page(shopper)


# Kept HTML: used for the same data, with the visitor's own CSRF token.


def test_the_same_basket_is_served_from_kept_html_with_a_working_csrf_token(
    demo_personalization, fresh_store
):
    client = Client(enforce_csrf_checks=True)
    fill_basket_with_csrf(client)
    first = _page(client)
    sets = fresh_store.sets
    second = _page(client)
    assert fresh_store.sets == sets  # nothing rendered again
    assert _strip_tokens(first) == _strip_tokens(second)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', second).group(1)
    lines = _lines()
    data = {"csrfmiddlewaretoken": token, "form-TOTAL_FORMS": "3", "form-INITIAL_FORMS": "3"}
    for index, line in enumerate(lines):
        data[f"form-{index}-id"] = str(line.pk)
        data[f"form-{index}-quantity"] = "2" if index == 0 else str(line.quantity)
    assert client.post("/basket/", data).status_code == 302
    assert _lines()[0].quantity == 2


def fill_basket_with_csrf(client):
    """fill_basket through a client that checks CSRF: each add posts the page's token."""
    from tests.basket.helpers import PERSONALIZED_LINES

    for upc, choices in PERSONALIZED_LINES:
        product = Product.objects.get(upc=upc)
        page = client.get(product.get_absolute_url()).content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = {"quantity": 1, "csrfmiddlewaretoken": token, **choices}
        if product.is_parent:
            child = product.children.filter(stockrecords__num_in_stock__gt=0).order_by("pk")[0]
            data["child_id"] = child.pk
        assert client.post(f"/basket/add/{product.pk}/", data).status_code == 302
    client.get("/basket/")


def _strip_tokens(page: str) -> str:
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
    return re.sub(r'nonce="[^"]+"', "", page)


# Every change the page shows is shown at once (the kept HTML of the old data is never used).


def _holdall_line() -> Line:
    return Line.objects.get(product__upc="MV-EG-HOL")


def _change_quantity():
    line = _holdall_line()
    line.quantity = 3
    line.save()


def _change_price():
    record = _holdall_line().stockrecord
    record.price += D("7.00")
    record.save()


def _change_stock():
    record = _holdall_line().stockrecord
    record.num_in_stock = 5
    record.num_allocated = 2
    record.save()


def _change_stock_with_update():
    """As stock is moved in bulk: an UPDATE with F(), no model save, no signal."""
    from django.db.models import F

    from shop.partner.models import StockRecord

    StockRecord.objects.filter(pk=_holdall_line().stockrecord_id).update(
        num_in_stock=F("num_in_stock") - 20
    )


def _change_surcharge():
    value = PersonalizationValue.objects.get(
        offer__kind="hardware", offer__product=_holdall_line().product, code="gunmetal"
    )
    value.surcharge += D("7.00")  # the hardware offer's £12.00 and the finish's own
    value.save()


def _switch_off_hardware():
    PersonalizationOffer.objects.filter(kind="hardware").update(is_active=False)


def _change_personalisation():
    line = _holdall_line()
    line.basket.strategy = Selector().strategy()
    basket_line_personalize(
        basket=line.basket, line=line, choices=Choices(initials="ZQ", style="deboss")
    )


def _rename_product():
    product = _holdall_line().product
    product.title = "Evergreen overnight holdall"
    product.save()


def _remove_line():
    _holdall_line().delete()


def _site_offer(**dates):
    everything = RangeFactory(includes_all_products=True)
    return ConditionalOfferFactory(
        name="Ten per cent off",
        condition=Condition.objects.create(range=everything, type=Condition.COUNT, value=1),
        benefit=Benefit.objects.create(range=everything, type=Benefit.PERCENTAGE, value=10),
        **dates,
    )


def _add_offer():
    _site_offer()


def _suspend_offer():
    ConditionalOffer.objects.update(status=ConditionalOffer.SUSPENDED)


CHANGES = {
    # name: (change, text the page shows after it, text it showed before)
    "quantity": (_change_quantity, 'id="id_form-0-quantity" value="3"', "Total <strong>£882.00"),
    "price": (_change_price, "has increased from £522.00 to £529.00", "£522.00"),
    "stock": (_change_stock, "In stock (3 available)", "In stock (27 available)"),
    "stock allocated by an update": (_change_stock_with_update, "(7 available)", "(27 available)"),
    "personalisation price": (
        _change_surcharge,
        'Gunmetal <span class="mv-line__surcharge">+£19.00',
        "+£12.00",
    ),
    "personalisation switched off": (_switch_off_hardware, "is no longer available", "Gunmetal"),
    "personalisation changed": (_change_personalisation, "ZQ · Blind deboss", "JB · Gold foil"),
    "product": (_rename_product, "Evergreen overnight holdall", "Evergreen weekend holdall"),
    "line removed": (_remove_line, "Items (2)", "Evergreen weekend holdall"),
    "offer added": (_add_offer, '<th scope="row">Ten per cent off</th>', "Items (3)"),
}


@pytest.mark.parametrize("name", CHANGES)
def test_a_change_is_shown_at_once(shopper, name):
    change, after, before = CHANGES[name]
    page = _page(shopper)
    assert before in page and after not in page
    assert _strip_tokens(_page(shopper)) == _strip_tokens(page)  # kept, and shown as it was
    change()
    page = _page(shopper)
    assert after in page, name
    if name not in ("line removed", "offer added", "price"):
        assert before not in page, name


def test_an_offer_shows_from_its_start_and_not_after_its_end(shopper, monkeypatch):
    now = timezone.now()
    start, end = now + dt.timedelta(hours=1), now + dt.timedelta(hours=2)
    _site_offer(start_datetime=start, end_datetime=end)
    discount = '<th scope="row">Ten per cent off</th>'
    assert discount not in _page(shopper)  # not yet
    monkeypatch.setattr(timezone, "now", lambda: start + dt.timedelta(minutes=1))
    page = _page(shopper)
    assert discount in page and "Total <strong>£793.80" in page
    monkeypatch.setattr(timezone, "now", lambda: end + dt.timedelta(minutes=1))
    page = _page(shopper)
    assert discount not in page and "Total <strong>£882.00" in page


def test_a_suspended_offer_stops_discounting(shopper):
    _site_offer()
    assert "Ten per cent off" in _page(shopper)
    _suspend_offer()
    assert "Ten per cent off" not in _page(shopper)


def test_a_voucher_shows_when_applied_and_goes_when_removed(shopper):
    everything = RangeFactory(includes_all_products=True)
    voucher = VoucherFactory(code="SAVE5")
    voucher.offers.add(
        ConditionalOfferFactory(
            name="Five off",
            offer_type=ConditionalOffer.VOUCHER,
            condition=Condition.objects.create(range=everything, type=Condition.COUNT, value=1),
            benefit=Benefit.objects.create(range=everything, type=Benefit.FIXED, value=5),
        )
    )
    assert "SAVE5" not in _page(shopper)
    assert shopper.post("/basket/vouchers/add/", {"code": "SAVE5"}).status_code == 302
    page = _page(shopper)
    summary = _summary(page)
    assert "(SAVE5)" in summary and "&minus;£5.00" in summary
    assert f'action="/basket/vouchers/{voucher.pk}/remove/"' in summary
    assert "Total <strong>£882.00" not in page
    assert shopper.post(f"/basket/vouchers/{voucher.pk}/remove/").status_code == 302
    page = _page(shopper)
    assert "(SAVE5)" not in _summary(page) and "Total <strong>£882.00" in page


def test_signing_in_shows_the_signed_in_buttons(shopper):
    assert "save_for_later" not in _page(shopper)
    user = get_user_model().objects.create_user("bo", "bo@example.com", "a-long-password")
    shopper.force_login(user)  # the guest's basket becomes the user's
    page = _page(shopper)
    assert 'name="form-0-save_for_later"' in page


def test_a_new_picture_is_shown(shopper, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    assert '<span class="mv-card__placeholder"></span>' in _line_html(_page(shopper), 0)
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), "#8A4B2A").save(buffer, "PNG")
    product = _holdall_line().product
    ProductImage.objects.create(
        product=product,
        original=SimpleUploadedFile("holdall.png", buffer.getvalue(), "image/png"),
        display_order=0,
    )
    line = _line_html(_page(shopper), 0)
    assert re.search(r'<img src="/media/cache/[^"]+\.webp" width="240" height="240" alt="">', line)
    assert "mv-card__placeholder" not in line


def test_an_empty_basket(client, demo_personalization):
    page = _page(client)
    assert "Your basket is empty" in page
    assert "basket_formset" not in page


def test_the_store_holds_a_bounded_amount_of_html_least_recently_used_out_first():
    store = fragments.LRU(30)
    for n in range(5):
        store.set(bytes([n]), str(n) * 10)
        store.get(bytes([0]))  # the first is used again and again
    assert len(store) == 3 and store.chars == 30
    assert store.get(bytes([0])) == "0" * 10 and store.get(bytes([4])) == "4" * 10
    assert store.get(bytes([1])) is None and store.get(bytes([2])) is None
    store.set(bytes([4]), "x")  # replaced, not counted twice
    assert store.chars == 21


def test_saved_lines_show_their_pictures_read_with_the_lines(
    client, demo_personalization, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    user = get_user_model().objects.create_user("cy", "cy@example.com", "a-long-password")
    client.force_login(user)
    fill_basket(client)
    for upc in ("MV-EG-HOL", "MV-EG-TOT"):  # a stand-alone, and a colour's parent
        buffer = io.BytesIO()
        Image.new("RGB", (300, 300), "#4E1C22").save(buffer, "PNG")
        ProductImage.objects.create(
            product=Product.objects.get(upc=upc),
            original=SimpleUploadedFile(f"{upc}.png", buffer.getvalue(), "image/png"),
        )
    data = {"form-TOTAL_FORMS": "3", "form-INITIAL_FORMS": "3"}
    for index, line in enumerate(_lines()):
        data[f"form-{index}-id"] = str(line.pk)
        data[f"form-{index}-quantity"] = str(line.quantity)
        data[f"form-{index}-save_for_later"] = "on" if index < 2 else ""
    assert client.post("/basket/", data).status_code == 302
    with CaptureQueriesContext(connection) as queries:
        page = _page(client)
    saved = page[page.index('<section class="mv-saved"') :]
    assert len(re.findall(r'<img src="/media/cache/[^"]+\.webp" width="240"', saved)) == 2
    assert not [q for q in queries if q["sql"].startswith('SELECT "catalogue_productimage"')]


@pytest.mark.django_db(transaction=True)
def test_the_page_reads_outside_a_transaction_and_changes_run_in_one(shopper, monkeypatch):
    """The basket page only reads: no ATOMIC_REQUESTS transaction (its BEGIN and COMMIT were
    two of the page's round trips). A change to the lines is all or nothing, as before."""
    from shop.basket import views

    seen = []
    basket_page, formset_valid = views.basket_page, views.BasketView.formset_valid

    def reading(**kwargs):
        seen.append(("read", connection.in_atomic_block))
        return basket_page(**kwargs)

    def changing(self, formset):
        seen.append(("change", connection.in_atomic_block))
        return formset_valid(self, formset)

    monkeypatch.setattr(views, "basket_page", reading)
    monkeypatch.setattr(views.BasketView, "formset_valid", changing)
    lines = _lines()
    _page(shopper)
    data = {"form-TOTAL_FORMS": "3", "form-INITIAL_FORMS": "3"}
    for index, line in enumerate(lines):
        data[f"form-{index}-id"] = str(line.pk)
        data[f"form-{index}-quantity"] = str(line.quantity + (index == 0))
    assert shopper.post("/basket/", data).status_code == 302
    assert _lines()[0].quantity == lines[0].quantity + 1
    assert seen == [("read", False), ("change", True)]
    assert connection.settings_dict["ATOMIC_REQUESTS"]  # still on for everything else
