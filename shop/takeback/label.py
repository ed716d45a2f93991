"""The prepaid return label: an A6 PDF with the tracking number as text and as a QR code."""

from __future__ import annotations

import segno
from django.template.loader import render_to_string

from shop.takeback.models import TakeBack
from shop.workshop.pdf import html_to_pdf


def label_qr_data_uri(*, tracking_number: str) -> str:
    return segno.make(tracking_number, error="m").svg_data_uri(scale=4, border=2)


def label_context(*, takeback: TakeBack) -> dict:
    return {
        "takeback": takeback,
        "customer": takeback.customer,
        "qr": label_qr_data_uri(tracking_number=takeback.tracking_number),
    }


def label_pdf(*, takeback: TakeBack) -> bytes:
    if not takeback.tracking_number:
        raise ValueError(f"Take-back {takeback.reference} has no label yet")
    html = render_to_string("shop/takeback/label.html", label_context(takeback=takeback))
    return html_to_pdf(html)
