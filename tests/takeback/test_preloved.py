"""From grade to listing: a graded A/B take-back routed to resale becomes a one-off pre-loved
product (facts carried over, priced from the resale rule, stock one, no personalization,
photos published as clean copies while the originals stay private); refusals say why; a
sold piece leaves the shop and can itself be taken back (its provenance chain)."""

import io
from decimal import Decimal

import pytest
from django.test import Client
from PIL import Image

from shop.catalogue.models import (
    Category,
    ProductAttribute,
    ProductAttributeValue,
)
from shop.order import pipeline
from shop.order.models import Order
from shop.order.services import order_status_change
from shop.personalization.models import PersonalizationOffer
from shop.personalization.selectors import offers_for_product
from shop.takeback.models import PreLovedPiece, ResaleRule, TakeBack, TakeBackPhoto
from shop.takeback.selectors import piece_provenance
from shop.takeback.services import (
    TakeBackRefused,
    preloved_publish,
    resale_rules_default_ensure,
    takeback_approve,
    takeback_credit_issue,
    takeback_grade,
    takeback_label_issue,
    takeback_photos_add,
    takeback_receive,
)
from tests.takeback.helpers import (
    customer,
    delivered_order,
    graded,
    image_upload,
    received,
    register_line,
    staff_member,
)

pytestmark = pytest.mark.django_db
WALLET_NEW = Decimal("95.00")


@pytest.fixture
def staff(db):
    resale_rules_default_ensure()  # seeded by migration; a flush in another test removes it
    return staff_member()


@pytest.fixture(autouse=True)
def _private(settings, tmp_path):
    settings.TAKEBACK_PRIVATE_ROOT = str(tmp_path / "private")
    settings.MEDIA_ROOT = str(tmp_path / "media")


def credited(user, *, staff, grade="A", route="resell", photos=()):
    if photos:
        takeback = register_line(user, delivered_order(user=user), photos=list(photos))
        takeback = takeback_label_issue(takeback=takeback)
        takeback = takeback_receive(tracking_number=takeback.tracking_number, staff=staff)
    else:
        takeback = received(user, staff=staff)
    takeback = takeback_grade(takeback=takeback, grade=grade, route=route, staff=staff)
    takeback_approve(takeback=takeback, staff=staff)
    return takeback_credit_issue(takeback=takeback)


def exif_jpeg():
    image = Image.new("RGB", (2400, 1800), (90, 60, 40))
    exif = Image.Exif()
    exif[0x010F] = "SecretPhone"  # Make
    exif[0x010E] = "At home, 12 Mill Lane"  # ImageDescription
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("p.jpg", buffer.getvalue(), content_type="image/jpeg")


def test_publish_lists_a_one_off_sibling_with_its_facts_price_and_clean_photos(jo, staff, settings):
    certification = ProductAttribute.objects.create(
        product_class=jo
        and staff
        and __import__("shop.catalogue.models").catalogue.models.ProductClass.objects.get(
            slug="leather-goods"
        ),
        name="Certification",
        code="certification",
        type="text",
    )
    takeback = credited(jo, staff=staff)
    ProductAttributeValue.objects.create(
        attribute=certification, product=takeback.product.parent, value_text="LWG Gold"
    )
    takeback_photos_add(takeback=takeback, photos=[exif_jpeg()], user=staff, staff=True)
    photo = takeback.photos.get()

    piece = preloved_publish(
        takeback=takeback, staff=staff, photo_ids=[photo.pk], repair_note="New edge paint"
    )

    product = piece.product
    assert product.title == "Evergreen bifold wallet (Chestnut), pre-loved, grade A"
    assert product.is_standalone and product.is_public
    assert piece.original == takeback.product.parent
    assert piece.price == Decimal("66.50")  # 70 % of £95: the top of grade A's range
    assert piece.new_price == WALLET_NEW and piece.credit_paid == Decimal("30.00")
    record = product.stockrecords.get()
    assert (record.num_in_stock, record.price, record.cost_price) == (1, Decimal("66.50"), 0)
    assert product.attribute_values.get(attribute__code="certification").value == "LWG Gold"
    assert Category.objects.get(name="Pre-loved") in product.get_categories()
    assert offers_for_product(product=product) == {}  # personalization switched off
    assert PersonalizationOffer.objects.filter(product=product, is_active=False).exists()
    assert takeback.events.filter(kind="published").exists()
    assert "New edge paint" == piece.repair_note
    # The photo: a public copy, resized, with no EXIF; the original untouched and private.
    image = product.images.get()
    with Image.open(image.original.path) as public:
        assert max(public.size) == 1600
        assert not public.getexif()
        assert "exif" not in public.info
    assert image.original.path.startswith(str(settings.MEDIA_ROOT))
    with photo.image.open("rb") as handle, Image.open(handle) as private:
        assert private.getexif()[0x010F] == "SecretPhone"


def test_private_photo_urls_stay_private_for_everyone_but_staff(jo, staff, client):
    takeback = credited(jo, staff=staff, photos=[image_upload()])
    photo = takeback.photos.get(kind=TakeBackPhoto.Kind.CUSTOMER)
    preloved_publish(takeback=takeback, staff=staff, photo_ids=[photo.pk])
    own = f"/accounts/take-back/{takeback.pk}/photos/{photo.pk}/"
    staff_url = f"/dashboard/take-back/photos/{photo.pk}/"
    raw = f"/media/{photo.image.name}"

    assert client.get(own).status_code == 302  # anonymous: sign in first, nothing served
    assert client.get(raw).status_code == 404
    buyer = Client()
    buyer.force_login(customer("buyer@example.com"))
    assert buyer.get(own).status_code == 404
    assert buyer.get(raw).status_code == 404
    assert buyer.get(staff_url).status_code == 403  # the dashboard refuses customers
    grader = Client()
    grader.force_login(staff)
    assert grader.get(staff_url).status_code == 200


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("grade_c", "grade C: only grade A or B"),
        ("recycle", "routed to “recycle with a partner”"),
        ("unreceived", "has not been received yet"),
        ("not_approved", "once its credit is approved"),
    ],
)
def test_publishing_is_refused_with_a_reason(jo, staff, setup, message):
    if setup == "grade_c":
        takeback = credited(jo, staff=staff, grade="C")
    elif setup == "recycle":
        takeback = credited(jo, staff=staff, route="recycle")
    elif setup == "unreceived":
        takeback = credited(jo, staff=staff)
        TakeBack.objects.filter(pk=takeback.pk).update(received_at=None)
    else:
        takeback = graded(jo, staff=staff)
    with pytest.raises(TakeBackRefused, match=message):
        preloved_publish(takeback=takeback, staff=staff)
    assert not PreLovedPiece.objects.exists()


@pytest.mark.parametrize(
    ("price", "message"),
    [
        (Decimal("0"), "more than £0"),
        (Decimal("-5"), "more than £0"),
        (Decimal("52.24"), "between £52.25 and £66.50 \\(55–70% of the new price, £95.00\\)"),
        (Decimal("66.51"), "between £52.25 and £66.50"),
        (Decimal("60.001"), "pounds and pence"),
    ],
)
def test_a_price_outside_the_rule_is_refused(jo, staff, price, message):
    takeback = credited(jo, staff=staff)
    with pytest.raises(TakeBackRefused, match=message):
        preloved_publish(takeback=takeback, staff=staff, price=price)
    piece = preloved_publish(takeback=takeback, staff=staff, price=Decimal("52.25"))
    assert piece.product.stockrecords.get().price == Decimal("52.25")
    with pytest.raises(TakeBackRefused, match="already published"):
        preloved_publish(takeback=takeback, staff=staff)


def test_only_this_takebacks_photos_can_be_published(jo, staff):
    takeback = credited(jo, staff=staff)
    other = credited(customer("sam@example.com"), staff=staff)
    takeback_photos_add(takeback=other, photos=[image_upload()], user=staff, staff=True)
    with pytest.raises(TakeBackRefused, match="photos of this take-back only"):
        preloved_publish(takeback=takeback, staff=staff, photo_ids=[other.photos.get().pk])


def sell(piece, buyer):
    """The buyer's order for the piece, placed and then paid (the status signal sells it)."""
    from oscar.test.factories import create_order

    from shop.basket.models import Basket
    from shop.partner.strategy import UKStrategy

    basket = Basket.objects.create(owner=buyer)
    basket.strategy = UKStrategy()
    basket.add_product(piece.product, quantity=1)
    order = create_order(basket=basket, user=buyer)
    Order.objects.filter(pk=order.pk).update(status=pipeline.PENDING_PAYMENT)
    order.refresh_from_db()
    return order_status_change(order=order, to_status=pipeline.PAID)


@pytest.mark.parametrize("end", [pipeline.CANCELLED, pipeline.REFUNDED])
def test_an_order_ended_before_dispatch_puts_the_piece_back_on_sale(jo, staff, end):
    piece = preloved_publish(takeback=credited(jo, staff=staff), staff=staff)
    order = sell(piece, customer("sam@example.com"))
    order_status_change(order=order, to_status=end)
    piece.refresh_from_db(), piece.product.refresh_from_db()
    assert piece.sold_line is None and piece.sold_at is None
    assert piece.product.is_public


def test_resale_rules_are_staff_data(jo, staff):
    client = Client()
    client.force_login(staff)
    url = "/dashboard/take-back/rules/"
    bad = {"form": "resale", "resale-grade": "A", "resale-min_share": 50, "resale-max_share": 40}
    refused = client.post(url, bad)
    assert refused.status_code == 400 and "not below the lowest" in refused.content.decode()
    client.post(url, {**bad, "resale-min_share": 30, "resale-max_share": 40})
    assert ResaleRule.objects.filter(grade="A", min_share=30, max_share=40).exists()
    piece = preloved_publish(takeback=credited(jo, staff=staff), staff=staff)
    assert piece.price == Decimal("38.00")


def test_a_sold_piece_leaves_the_shop_and_comes_back_through_the_scheme(jo, staff):
    takeback = credited(jo, staff=staff)
    piece = preloved_publish(takeback=takeback, staff=staff)
    sam = customer("sam@example.com")
    order = sell(piece, sam)
    piece.refresh_from_db(), piece.product.refresh_from_db()
    assert piece.sold_line.order == order and piece.sold_at is not None
    assert not piece.product.is_public
    assert order.lines.get().title.endswith("pre-loved, grade A")

    # Delivered, and later taken back again: the chain runs from the first sale.
    Order.objects.filter(pk=order.pk).update(status=pipeline.DELIVERED)
    again = register_line(sam, order)
    steps = [step.what for step in piece_provenance(takeback=again)]
    assert steps == ["Sold new", "Taken back", "Listed pre-loved", "Resold", "Taken back"]
    assert [s.what for s in piece_provenance(takeback=takeback)] == steps
    grader = Client()
    grader.force_login(staff)
    page = grader.get(f"/dashboard/take-back/{again.pk}/").content.decode()
    assert "Provenance of this piece" in page
    for text in (takeback.line.order.number, takeback.reference, again.reference, order.number):
        assert text in page


def test_staff_publish_from_the_takeback_page(jo, staff):
    takeback = credited(jo, staff=staff)
    client = Client()
    client.force_login(staff)
    page = client.get(f"/dashboard/take-back/{takeback.pk}/")
    assert "Publish as pre-loved" in page.content.decode()
    url = f"/dashboard/take-back/{takeback.pk}/publish/"
    refused = client.post(url, {"price": "99.00"})
    assert refused.status_code == 400
    assert "must be between £52.25 and £66.50" in refused.content.decode()
    done = client.post(url, {"price": "60.00", "repair_note": "Re-stitched one seam"})
    assert done.status_code == 302
    page = client.get(done["Location"]).content.decode()
    assert "pre-loved, grade A" in page and "Provenance of this piece" in page
    assert client.post(url, {"price": "60.00"}).status_code == 400  # twice: refused
    assert client.get("/dashboard/take-back/999999/").status_code == 404
    assert client.post("/dashboard/take-back/999999/publish/", {"price": "1"}).status_code == 404


def test_two_shoppers_race_for_the_piece_one_order_the_other_a_clear_message(jo, staff):
    from shop.basket.models import Basket
    from shop.checkout.services import SoldOut, checkout_attempt_open, order_place
    from shop.credit.services import credit_issue
    from shop.order.models import ShippingAddress
    from shop.partner.strategy import UKStrategy
    from shop.storefront.services import shipping_countries_ensure
    from tests.factories import ADDRESS

    shipping_countries_ensure()
    piece = preloved_publish(takeback=credited(jo, staff=staff), staff=staff)
    shoppers = [customer("amy@example.com"), customer("ben@example.com")]
    attempts = []
    for shopper in shoppers:
        credit_issue(user=shopper, amount=Decimal("100.00"))
        basket = Basket.objects.create(owner=shopper)
        basket.strategy = UKStrategy()
        basket.add_product(piece.product, quantity=1)
        address = ShippingAddress(
            **{k: v for k, v in ADDRESS.items() if k != "country"}, country_id="GB"
        )
        attempts.append(
            checkout_attempt_open(
                basket=basket,
                user=shopper,
                guest_email="",
                shipping_address=address,
                method_code="royal-mail-tracked-48",
                use_credit=True,
            )
        )
    assert all(not attempt.payment_intent_id for attempt in attempts)  # credit covers it

    order, _ = order_place(attempt=attempts[0])
    with pytest.raises(SoldOut, match="has just sold out. Nothing was spent."):
        order_place(attempt=attempts[1])
    piece.refresh_from_db()
    assert piece.sold_line.order == order
    assert order.lines.get().title.endswith(", pre-loved, grade A")
    assert not piece.product.__class__.objects.get(pk=piece.product_id).is_public


def test_the_shop_shows_the_piece_and_then_it_is_gone(jo, staff, client):
    piece = preloved_publish(
        takeback=credited(jo, staff=staff), staff=staff, repair_note="New edge paint"
    )
    original = piece.original
    home = client.get("/").content.decode()
    category = Category.objects.get(name="Pre-loved")
    assert f'href="{category.get_absolute_url()}"' in home  # navigation and the home section
    assert "data-preloved-home" in home and piece.product.title in home
    listing = client.get(category.get_absolute_url(), {"sort": "price-asc"})
    assert listing.status_code == 200 and piece.product.title in listing.content.decode()
    child = original.children.first()
    for page in (original, child):
        html = client.get(page.get_absolute_url()).content.decode()
        assert "Also available pre-loved from £66.50" in html
    html = client.get(piece.product.get_absolute_url()).content.decode()
    assert "Pre-loved, grade A." in html and "Like new: barely used" in html
    assert "Repaired in our workshop:</strong> New edge paint" in html
    assert "cannot be personalised" in html and 'name="initials"' not in html
    assert "This evergreen bifold wallet was made from start to finish" in html
    refused = client.post(
        f"/basket/add/{piece.product.pk}/", {"quantity": 2}, follow=True
    ).content.decode()
    assert "a maximum of 1" in refused.lower() or "only 1" in refused.lower(), refused[-3000:]
    client.post(f"/basket/add/{piece.product.pk}/", {"quantity": 1})
    assert "pre-loved, grade A" in client.get("/basket/").content.decode()

    piece.product.is_public = False  # sold
    piece.product.save()
    assert piece.product.title not in client.get("/").content.decode()
    assert "pre-loved from" not in client.get(original.get_absolute_url()).content.decode()
    assert client.get(piece.product.get_absolute_url()).status_code == 404


def test_the_report_and_customer_profitability_count_the_resale(jo, staff):
    from django.utils import timezone

    from shop.reports import selectors as reports
    from shop.reports.services import report_facts_refresh
    from shop.takeback import selectors

    piece = preloved_publish(takeback=credited(jo, staff=staff), staff=staff)  # £30 credit
    credited(customer("lee@example.com"), staff=staff, route="recycle")  # £30, recycled
    sam = customer("sam@example.com")
    sell(piece, sam)
    today = timezone.localdate()
    period = {"start": today.replace(day=1), "end": today}

    figures = selectors.preloved_report(**period)
    assert (figures["listed"], figures["sold"], figures["on_sale"]) == (1, 1, 0)
    assert figures["days_to_sell"] == Decimal("0.0")
    assert figures["revenue"] == Decimal("55.42")  # £66.50 incl. VAT
    assert (figures["credit_paid"], figures["margin"]) == (Decimal("30.00"), Decimal("25.42"))
    (month,) = selectors.scheme_net_cost_by_month(**period)
    assert (month["credit"], month["revenue"]) == (Decimal("60.00"), Decimal("55.42"))
    assert month["net_cost"] == Decimal("4.58")
    leather = selectors.leather_kept_and_recycled(**period)
    assert leather == {"kept_kg": Decimal("0.250"), "recycled_kg": Decimal("0.250")}

    # Customer profitability: the buyer's resale is a sale like any (its cost price is 0:
    # the credit is not the buyer's); the credit stays a cost of the customer who earned it.
    report_facts_refresh()
    rows = {r["email"]: r for r in reports.customer_profitability(**period, per_page=10).rows}
    buyer, earner = rows["sam@example.com"], rows["jo@example.com"]
    assert (buyer["orders"], buyer["net_revenue"], buyer["cogs"]) == (1, Decimal("55.42"), 0)
    assert buyer["credits_issued"] is None
    assert earner["credits_issued"] == Decimal("30.00")

    client = Client()
    client.force_login(staff)
    html = client.get("/dashboard/take-back/report/").content.decode()
    for text in ("data-sold>1<", "data-resale-revenue>£55.42<", "data-resale-margin>£25.42<"):
        assert text in html


def test_the_page_says_why_a_piece_cannot_be_priced_instead_of_failing(jo, staff):
    """No resale rule for the grade (staff removed it, or a flushed database): the staff
    page opens and says why, as publishing would."""
    takeback = credited(jo, staff=staff)
    ResaleRule.objects.all().delete()
    client = Client()
    client.force_login(staff)
    response = client.get(f"/dashboard/take-back/{takeback.pk}/")
    assert response.status_code == 200
    assert 'class="text-danger"' in response.content.decode()
