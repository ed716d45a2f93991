"""Requests that answered 500 on the take-back screens (issue "No request gets a 500"):
each is sent exactly as it came, and ends in a form error, a 400/404 or a clean page."""

from __future__ import annotations

import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from shop.takeback.models import TakeBack
from shop.takeback.services import takeback_label_issue
from tests.takeback.helpers import (
    delivered_order,
    image_upload,
    product,
    register_line,
    staff_member,
)

pytestmark = pytest.mark.django_db


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares width x height pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
def grader_client(client, catalogue):
    client.force_login(staff_member())
    return client


def _gift(photo) -> dict:
    return {
        "other-product": product().parent.pk,
        "other-source": "gift",
        "other-condition": "worn",
        "other-photos": [photo],
        "terms": "on",
    }


def test_a_png_declaring_30000_by_30000_pixels_is_a_form_error(jo_client, settings, tmp_path):
    settings.TAKEBACK_PRIVATE_ROOT = str(tmp_path)
    bomb = png_declaring(30000, 30000)
    assert len(bomb) < 100
    photo = SimpleUploadedFile("bomb.png", bomb, content_type="image/png")
    response = jo_client.post(reverse("takeback:register"), _gift(photo))
    assert response.status_code == 400
    assert "too many pixels" in response.content.decode()
    assert not TakeBack.objects.exists()


def test_a_png_declaring_10000_by_10000_pixels_is_refused_too(jo_client, settings, tmp_path):
    settings.TAKEBACK_PRIVATE_ROOT = str(tmp_path)
    photo = SimpleUploadedFile("big.png", png_declaring(10000, 10000), content_type="image/png")
    response = jo_client.post(reverse("takeback:register"), _gift(photo))
    assert response.status_code == 400
    assert "too many pixels" in response.content.decode()
    assert not TakeBack.objects.exists()


def test_a_bomb_added_as_a_photo_later_is_a_message(jo_client, jo, settings, tmp_path):
    settings.TAKEBACK_PRIVATE_ROOT = str(tmp_path)
    takeback = register_line(jo, delivered_order(user=jo))
    photo = SimpleUploadedFile("bomb.png", png_declaring(30000, 30000), content_type="image/png")
    url = reverse("takeback:photos", kwargs={"pk": takeback.pk})
    response = jo_client.post(url, {"photos": [photo]}, follow=True)
    assert response.status_code == 200
    assert "too many pixels" in response.content.decode()
    assert takeback.photos.count() == 0


def test_a_superscript_line_on_the_register_page_get(jo_client, jo):
    response = jo_client.get(reverse("takeback:register"), {"line": "²"})
    assert response.status_code == 200


def test_a_superscript_line_on_the_register_page_post(jo_client, jo):
    response = jo_client.post(
        reverse("takeback:register"), {"line": "²", "condition-²": "good", "terms": "on"}
    )
    assert response.status_code == 404
    assert not TakeBack.objects.exists()


def test_a_line_id_past_postgresql_integer_is_404(jo_client, jo):
    response = jo_client.post(reverse("takeback:register"), {"line": "99999999999", "terms": "on"})
    assert response.status_code == 404


def test_a_nul_in_the_notes_is_stripped(jo_client, jo):
    line = delivered_order(user=jo).lines.first()
    response = jo_client.post(
        reverse("takeback:register"),
        {
            "line": [line.pk],
            f"condition-{line.pk}": "good",
            f"notes-{line.pk}": "Scuf\x00fed",
            "terms": "on",
        },
    )
    assert response.status_code == 302
    assert TakeBack.objects.get().condition_notes == "Scuffed"


def test_report_with_end_in_year_9999(grader_client):
    response = grader_client.get(reverse("takeback-dashboard:report"), {"end": "9999-12-31"})
    assert response.status_code == 200


def test_queue_with_age_days_a_million(grader_client):
    response = grader_client.get(reverse("takeback-dashboard:queue"), {"age_days": "1000000"})
    assert response.status_code == 200
    assert "Filters not applied. Older than (days): Ensure this value" in response.content.decode()


@pytest.mark.parametrize("bad", ["²", "abc", "99999999999"])
def test_bulk_with_ids_that_are_not_ids(grader_client, jo, bad):
    takeback = takeback_label_issue(takeback=register_line(jo, delivered_order(user=jo)))
    response = grader_client.post(
        reverse("takeback-dashboard:bulk"), {"action": "receive", "ids": [takeback.pk, bad]}
    )
    assert response.status_code == 302
    takeback.refresh_from_db()
    assert takeback.status == TakeBack.Status.LABEL_ISSUED


def test_rules_delete_with_a_superscript_rule_id(grader_client):
    from django.contrib.auth.models import Permission

    user = staff_member(email="rules@marlowandvale.example")
    user.user_permissions.add(Permission.objects.get(codename="edit_takeback_rules"))
    grader_client.force_login(user)
    response = grader_client.post(
        reverse("takeback-dashboard:rules"), {"form": "delete", "rule_id": "²"}
    )
    assert response.status_code == 404


def test_an_ordinary_photo_still_passes(jo_client, settings, tmp_path):
    settings.TAKEBACK_PRIVATE_ROOT = str(tmp_path)
    response = jo_client.post(reverse("takeback:register"), _gift(image_upload("PNG")))
    assert response.status_code == 302
