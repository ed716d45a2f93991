"""Customers with delivered orders, take-backs moved along the scheme, test photos."""

from __future__ import annotations

import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from oscar.test.factories import UserFactory, create_order
from PIL import Image

from shop.basket.models import Basket
from shop.catalogue.models import Product
from shop.order import pipeline
from shop.order.models import Order
from shop.partner.strategy import UKStrategy
from shop.takeback.models import TakeBack
from shop.takeback.services import (
    RegistrationItem,
    takeback_grade,
    takeback_label_issue,
    takeback_receive,
    takeback_register,
)

WALLET = "MV-EG-BIF"  # £95, colour variants
TOTE = "MV-EG-TOT"


def product(upc: str = WALLET) -> Product:
    parent = Product.objects.get(upc=upc)
    return parent.children.order_by("pk").first() or parent


def delivered_order(*, user, upc: str = WALLET, quantity: int = 1, status=pipeline.DELIVERED):
    basket = Basket.objects.create(owner=user)
    basket.strategy = UKStrategy()
    basket.add_product(product(upc), quantity=quantity)
    order = create_order(basket=basket, user=user)
    Order.objects.filter(pk=order.pk).update(status=status)
    order.refresh_from_db()
    return order


def customer(email: str = "jo@example.com", **kwargs):
    return UserFactory(email=email, first_name="Jo", last_name="Walker", **kwargs)


def staff_member(*, perms: bool = True, email: str = "grader@marlowandvale.example"):
    from django.contrib.auth.models import Permission

    user = UserFactory(email=email, is_staff=True)
    if perms:
        user.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label="takeback",
                codename__in=["grade_takeback", "edit_takeback_rules"],
            )
        )
    return user


def register_line(user, order, *, condition: str = "like_new", **kwargs) -> TakeBack:
    (takeback,) = takeback_register(
        customer=user,
        items=[RegistrationItem(condition=condition, line=order.lines.first(), **kwargs)],
        terms_accepted=True,
    )
    return takeback


def received(user, order=None, *, staff, condition: str = "like_new") -> TakeBack:
    order = order or delivered_order(user=user)
    takeback = register_line(user, order, condition=condition)
    takeback = takeback_label_issue(takeback=takeback)
    return takeback_receive(tracking_number=takeback.tracking_number, staff=staff)


def graded(user, *, staff, grade: str = "A", condition: str = "like_new") -> TakeBack:
    takeback = received(user, staff=staff, condition=condition)
    return takeback_grade(takeback=takeback, grade=grade, route="resell", staff=staff)


def image_upload(fmt: str = "PNG", name: str = "photo.png", size=(40, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (120, 80, 50)).save(buffer, format=fmt)
    content_type = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}[fmt]
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


D = Decimal


def small_catalogue():
    """Two products in colour variants (a £95 wallet, a £245 tote): much faster than the
    demo catalogue, and all the scheme needs."""
    from oscar.test.factories import create_product

    from shop.catalogue.models import ProductClass
    from shop.takeback.services import credit_rules_default_ensure, resale_rules_default_ensure

    # Migrations seed these; a transactional test's flush removes them for later tests.
    credit_rules_default_ensure()
    resale_rules_default_ensure()

    leather, _ = ProductClass.objects.get_or_create(
        name="Leather goods", defaults={"slug": "leather-goods", "track_stock": True}
    )
    for upc, title, price in (
        (WALLET, "Evergreen bifold wallet", "95.00"),
        (TOTE, "Evergreen tote", "245.00"),
    ):
        parent = Product.objects.create(
            upc=upc, title=title, structure=Product.PARENT, product_class=leather
        )
        create_product(
            upc=f"{upc}-01",
            title=f"{title} (Chestnut)",
            parent=parent,
            product_class="Leather goods",
            price=Decimal(price),
            num_in_stock=50,
            partner_name="Marlow & Vale",
        )
    return leather
