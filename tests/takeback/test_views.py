"""Customer screens: the account tabs, registering (online lines, boutique/gift items with
photos), the estimate, the label (PDF with tracking number and QR), the timeline, answering
an offer, store credit; and nobody sees another customer's take-backs (404)."""

import subprocess

import pytest
from django.test import Client
from django.urls import reverse

from shop.takeback.models import TakeBack
from shop.takeback.services import takeback_approve, takeback_credit_issue, takeback_label_issue
from tests.takeback.helpers import (
    customer,
    delivered_order,
    graded,
    image_upload,
    product,
    register_line,
    staff_member,
)

pytestmark = pytest.mark.django_db
S = TakeBack.Status


def test_pages_need_sign_in(client, catalogue):
    for name in ("takeback:list", "takeback:register", "credit:history"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "login" in response["Location"]


def test_account_tabs_and_empty_pages(jo_client):
    page = jo_client.get(reverse("takeback:list")).content.decode()
    assert "Take back" in page and "Store credit" in page
    assert "You have not sent anything back yet" in page
    page = jo_client.get(reverse("credit:history")).content.decode()
    assert "£0.00" in page


def test_register_page_lists_lines_with_estimates(jo_client, jo):
    order = delivered_order(user=jo)
    page = jo_client.get(reverse("takeback:register")).content.decode()
    assert order.number in page and order.lines.first().title in page
    assert "£12.00–£30.00" in page  # like new: B min to A max (default rules)
    assert "£2.00–£5.00" in page  # damaged


def test_register_an_order_line(jo_client, jo):
    order = delivered_order(user=jo)
    line = order.lines.first()
    response = jo_client.post(
        reverse("takeback:register"),
        {
            "line": [line.pk],
            f"condition-{line.pk}": "good",
            f"notes-{line.pk}": "Scuffed",
            "terms": "on",
        },
    )
    takeback = TakeBack.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("takeback:detail", kwargs={"pk": takeback.pk})
    assert takeback.line == line and takeback.condition_notes == "Scuffed"
    page = jo_client.get(response["Location"]).content.decode()
    assert "label is being prepared" in page and "£6.00 to £20.00" in page
    # Registered once: the line is gone from the page, a second post is refused.
    page = jo_client.get(reverse("takeback:register")).content.decode()
    assert f'value="{line.pk}"' not in page
    again = jo_client.post(
        reverse("takeback:register"),
        {"line": [line.pk], f"condition-{line.pk}": "good", "terms": "on"},
    )
    assert again.status_code == 400
    assert "already registered for take-back" in again.content.decode()
    assert TakeBack.objects.count() == 1


def test_register_needs_terms_condition_and_an_item(jo_client, jo):
    line = delivered_order(user=jo).lines.first()
    no_terms = jo_client.post(
        reverse("takeback:register"), {"line": [line.pk], f"condition-{line.pk}": "good"}
    )
    assert no_terms.status_code == 400 and "accept the take-back terms" in no_terms.content.decode()
    no_condition = jo_client.post(reverse("takeback:register"), {"line": [line.pk], "terms": "on"})
    assert "describe the condition" in no_condition.content.decode()
    nothing = jo_client.post(reverse("takeback:register"), {"terms": "on"})
    assert "choose at least one item" in nothing.content.decode()
    assert not TakeBack.objects.exists()


def test_register_a_gift_with_photos(jo_client, settings, tmp_path):
    settings.TAKEBACK_PRIVATE_ROOT = str(tmp_path)
    wallet = product().parent
    response = jo_client.post(
        reverse("takeback:register"),
        {
            "other-product": wallet.pk,
            "other-source": "gift",
            "other-purchase_year": "2018",
            "other-condition": "worn",
            "other-photos": [image_upload("PNG"), image_upload("WEBP", "b.webp")],
            "terms": "on",
        },
    )
    assert response.status_code == 302
    takeback = TakeBack.objects.get()
    assert takeback.source == "gift" and takeback.product == wallet
    photos = list(takeback.photos.all())
    assert len(photos) == 2
    # Photos are served to their owner only, never from public media.
    url = reverse("takeback:photo", kwargs={"pk": takeback.pk, "photo_pk": photos[1].pk})
    served = jo_client.get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/webp"
    assert not photos[0].image.name.startswith(str(settings.MEDIA_ROOT))
    jo_client.force_login(customer("sam@example.com"))
    assert jo_client.get(url).status_code == 404


def test_a_fake_photo_is_refused_with_a_message(jo_client, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.TAKEBACK_PRIVATE_ROOT = str(tmp_path)
    response = jo_client.post(
        reverse("takeback:register"),
        {
            "other-product": product().parent.pk,
            "other-source": "boutique",
            "other-condition": "worn",
            "other-photos": [SimpleUploadedFile("me.jpg", b"GIF89a...", "image/jpeg")],
            "terms": "on",
        },
    )
    assert response.status_code == 400
    assert "is not a JPEG, PNG or WebP image" in response.content.decode()
    assert not TakeBack.objects.exists()


def test_another_customers_line_is_404(jo_client):
    line = delivered_order(user=customer("sam@example.com")).lines.first()
    response = jo_client.post(
        reverse("takeback:register"),
        {"line": [line.pk], f"condition-{line.pk}": "good", "terms": "on"},
    )
    assert response.status_code == 404
    assert (
        jo_client.post(reverse("takeback:register"), {"line": ["x"], "terms": "on"}).status_code
        == 404
    )
    assert not TakeBack.objects.exists()


def test_label_pdf_has_the_tracking_number_and_the_page_shows_the_qr(jo_client, jo, tmp_path):
    takeback = takeback_label_issue(takeback=register_line(jo, delivered_order(user=jo)))
    page = jo_client.get(reverse("takeback:detail", kwargs={"pk": takeback.pk})).content.decode()
    assert takeback.tracking_number in page and "data:image/svg+xml" in page
    response = jo_client.get(reverse("takeback:label", kwargs={"pk": takeback.pk}))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    pdf = tmp_path / "label.pdf"
    pdf.write_bytes(response.content)
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert takeback.tracking_number in text and "Marlow & Vale Take-back" in text
    assert takeback.reference in text


def test_customer_marks_posted_and_follows_the_timeline(jo_client, jo):
    takeback = takeback_label_issue(takeback=register_line(jo, delivered_order(user=jo)))
    url = reverse("takeback:shipped", kwargs={"pk": takeback.pk})
    assert jo_client.post(url).status_code == 302
    takeback.refresh_from_db()
    assert takeback.status == S.IN_TRANSIT
    # Twice: a clear message, no error.
    response = jo_client.post(url, follow=True)
    assert "not waiting to be posted" in response.content.decode()
    page = jo_client.get(reverse("takeback:detail", kwargs={"pk": takeback.pk})).content.decode()
    for label in (
        "Registered",
        "Label issued",
        "In transit",
        "Received",
        "Graded",
        "Credit issued",
        "Closed",
    ):
        assert label in page
    assert 'data-step="in_transit"' in page and "is-current" in page


def test_accept_and_decline_an_offer(jo_client, jo):
    staff = staff_member()
    offered = takeback_approve(takeback=graded(jo, staff=staff, grade="D"), staff=staff)
    url = reverse("takeback:offer", kwargs={"pk": offered.pk})
    page = jo_client.get(reverse("takeback:detail", kwargs={"pk": offered.pk})).content.decode()
    assert "Our offer: £5.00" in page
    assert jo_client.post(url, {"answer": "maybe"}).status_code == 302
    offered.refresh_from_db()
    assert offered.status == S.OFFERED
    jo_client.post(url, {"answer": "decline", "decline_choice": "return"})
    offered.refresh_from_db()
    assert offered.status == S.CLOSED and offered.decline_choice == "return"

    second = takeback_approve(takeback=graded(jo, staff=staff, grade="D"), staff=staff)
    jo_client.post(reverse("takeback:offer", kwargs={"pk": second.pk}), {"answer": "accept"})
    second.refresh_from_db()
    assert second.status == S.APPROVED
    takeback_credit_issue(takeback=second)
    page = jo_client.get(reverse("credit:history")).content.decode()
    assert "£5.00" in page and "Credit issued" in page and second.product_title in page


@pytest.mark.parametrize(
    "name,extra",
    [
        ("takeback:detail", {}),
        ("takeback:label", {}),
        ("takeback:shipped", {}),
        ("takeback:offer", {}),
        ("takeback:photo", {"photo_pk": 1}),
    ],
)
def test_another_customers_takeback_is_404(client, catalogue, name, extra):
    jo = customer()
    takeback = takeback_label_issue(takeback=register_line(jo, delivered_order(user=jo)))
    client.force_login(customer("sam@example.com"))
    url = reverse(name, kwargs={"pk": takeback.pk, **extra})
    response = (
        client.post(url) if name in ("takeback:shipped", "takeback:offer") else client.get(url)
    )
    assert response.status_code == 404
    takeback.refresh_from_db()
    assert takeback.status == S.LABEL_ISSUED


def test_label_is_404_before_it_is_issued(jo_client, jo):
    takeback = register_line(jo, delivered_order(user=jo))
    assert jo_client.get(reverse("takeback:label", kwargs={"pk": takeback.pk})).status_code == 404
    assert jo_client.get(reverse("takeback:detail", kwargs={"pk": 999999})).status_code == 404


def test_customer_adds_photos_until_the_item_arrives(jo_client, jo, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from shop.takeback.services import takeback_receive

    settings.TAKEBACK_PRIVATE_ROOT = str(tmp_path)
    takeback = takeback_label_issue(takeback=register_line(jo, delivered_order(user=jo)))
    url = reverse("takeback:photos", kwargs={"pk": takeback.pk})
    page = jo_client.post(url, {"photos": [image_upload("JPEG", "a.jpg")]}, follow=True)
    assert "1 photo(s) added" in page.content.decode()
    fake = SimpleUploadedFile("b.png", b"not a picture", "image/png")
    page = jo_client.post(url, {"photos": [fake]}, follow=True)
    assert "is not a JPEG, PNG or WebP image" in page.content.decode()
    assert takeback.photos.count() == 1 and takeback.events.filter(kind="photo_added").count() == 1
    # Someone else: 404, nothing added.
    other = Client()
    other.force_login(customer("sam@example.com"))
    assert other.post(url, {"photos": [image_upload()]}).status_code == 404
    takeback_receive(tracking_number=takeback.tracking_number, staff=staff_member())
    page = jo_client.post(url, {"photos": [image_upload()]}, follow=True)
    assert "until the item reaches us" in page.content.decode()
    assert takeback.photos.count() == 1
