"""The dashboard menu offers a staff member only the screens they may open: a link that
answers 403 is a door painted on the wall."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from oscar.test.factories import UserFactory

pytestmark = pytest.mark.django_db


def _menu_links(client: Client) -> set[str]:
    """The dashboard links of the menu bar (Oscar's `navbar-primary`)."""
    page = client.get("/dashboard/")
    assert page.status_code == 200
    [menu] = re.findall(r'<nav class="[^"]*navbar-primary.*?</nav>', page.content.decode(), re.S)
    return set(re.findall(r'href="(/dashboard/[^"#?]*)"', menu))


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_staff_without_permissions_sees_only_screens_they_may_open():
    client = _signed_in(UserFactory(is_staff=True))
    links = _menu_links(client)
    assert "/dashboard/take-back/" in links  # staff-only screens stay
    refused = sorted(link for link in links if client.get(link).status_code == 403)
    assert refused == [], refused
    for guarded in ("/dashboard/fulfilment/", "/dashboard/take-back/receive/"):
        assert guarded not in links


def test_the_permissions_bring_their_screens_back():
    user = UserFactory(is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            codename__in=[
                "view_order",
                "change_order",
                "grade_takeback",
                "edit_takeback_rules",
            ]
        )
    )
    client = _signed_in(user)
    links = _menu_links(client)
    for guarded in (
        "/dashboard/fulfilment/",
        "/dashboard/take-back/receive/",
        "/dashboard/take-back/rules/",
    ):
        assert guarded in links
        assert client.get(guarded).status_code == 200


def test_one_fulfilment_menu_and_one_reports_menu_that_fit_the_bar():
    html = _signed_in(UserFactory(is_staff=True, is_superuser=True)).get("/dashboard/").content
    [menu] = re.findall(r'<nav class="[^"]*navbar-primary.*?</nav>', html.decode(), re.S)
    tops = re.findall(
        r'class="[^"]*dropdown-toggle[^"]*"[^>]*>\s*(?:<i[^>]*></i>)?\s*([^<]+?)\s*<', menu
    )
    assert tops.count("Fulfilment") == 1 and tops.count("Reports") == 1
    # + Dashboard: 10 items in 1280px, the Growth menu (funnel, experiments, referrals,
    # lifecycle) included.
    assert "Personalization" in tops and "Growth" in tops and len(tops) <= 9
    for link in ("/dashboard/parcel-costs/", "/dashboard/business-reports/personalization/"):
        assert link in menu
