"""Consent at registration (both forms, through POST) and on the account's Email
preferences page; every change a history row with the words shown."""

import pytest
from django.test import Client

from shop.lifecycle.models import ConsentChange, ConsentSource, MarketingConsent
from shop.lifecycle.services import CONSENT_LABEL, CONSENT_WORDING
from tests.lifecycle.helpers import customer

pytestmark = pytest.mark.django_db
PASSWORD = "a fresh long pass phrase 9"
FORMS = {
    "register-page": ("/accounts/register/", ""),
    "login-page": ("/accounts/login/", "registration-"),
}


def _register(client, form: str, email: str, *, opt_in: bool, ip: str = "10.9.0.1"):
    url, prefix = FORMS[form]
    data = {
        f"{prefix}email": email,
        f"{prefix}password1": PASSWORD,
        f"{prefix}password2": PASSWORD,
        "registration_submit": "Register",
    }
    if opt_in:
        data[f"{prefix}marketing_opt_in"] = "on"
    return client.post(url, data, REMOTE_ADDR=ip)


@pytest.mark.parametrize("form", FORMS)
def test_the_registration_forms_offer_the_unticked_checkbox(client, form):
    page = client.get(FORMS[form][0]).content.decode()
    assert CONSENT_LABEL in page
    name = f'name="{FORMS[form][1]}marketing_opt_in"'
    assert name in page
    tag = page[page.index(name) - 200 : page.index(name) + 200]
    assert "checked" not in tag


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("opt_in", [True, False])
def test_registering_records_the_answer_with_its_words(form, opt_in):
    from django.contrib.auth import get_user_model

    response = _register(Client(), form, "grace@example.com", opt_in=opt_in)
    assert response.status_code == 302
    user = get_user_model().objects.get(email="grace@example.com")
    consent = MarketingConsent.objects.get(user=user)
    assert (consent.opted_in, consent.source) == (opt_in, ConsentSource.REGISTRATION)
    (change,) = ConsentChange.objects.filter(user=user)
    assert (change.opted_in, change.source, change.wording) == (
        opt_in,
        ConsentSource.REGISTRATION,
        CONSENT_WORDING,
    )


def test_registering_an_address_that_has_an_account_changes_nothing(catalogue):
    ada = customer("ada@example.com", consent=False)
    response = _register(Client(), "register-page", "ADA@example.com", opt_in=True)
    assert response.status_code == 302
    assert not MarketingConsent.objects.filter(user=ada).exists()
    assert not ConsentChange.objects.exists()


def test_a_tampered_checkbox_value_is_just_a_yes_or_no(catalogue):
    from django.contrib.auth import get_user_model

    url, _ = FORMS["register-page"]
    data = {
        "email": "odd@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "marketing_opt_in": "x" * 5000 + "\u202e<b>🙂",
    }
    assert Client().post(url, data, REMOTE_ADDR="10.9.0.2").status_code == 302
    user = get_user_model().objects.get(email="odd@example.com")
    assert MarketingConsent.objects.get(user=user).opted_in is True


def test_the_account_tab_and_page_opt_in_and_out(catalogue):
    jo = customer("jo@example.com", consent=False)
    client = Client()
    client.force_login(jo)
    profile = client.get("/accounts/profile/").content.decode()
    assert 'href="/accounts/email-preferences/"' in profile
    page = client.get("/accounts/email-preferences/")
    assert page.status_code == 200
    assert "You do not get marketing emails from us." in page.content.decode()
    assert "Save email preferences" in page.content.decode()

    response = client.post("/accounts/email-preferences/", {"marketing_opt_in": "on"})
    assert response.status_code == 302
    assert MarketingConsent.objects.get(user=jo).opted_in
    page = client.get("/accounts/email-preferences/").content.decode()
    assert "You get our letters about new pieces" in page
    assert "Account page" in page  # the history

    client.post("/accounts/email-preferences/", {})
    assert not MarketingConsent.objects.get(user=jo).opted_in
    assert [(c.opted_in, c.source) for c in ConsentChange.objects.filter(user=jo)] == [
        (False, ConsentSource.ACCOUNT),
        (True, ConsentSource.ACCOUNT),
    ]
    # Saving the same answer again adds no history row.
    client.post("/accounts/email-preferences/", {})
    assert ConsentChange.objects.filter(user=jo).count() == 2


def test_the_account_page_needs_a_sign_in(db):
    response = Client().get("/accounts/email-preferences/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_staff_record_a_withdrawal_in_the_admin_with_their_name(catalogue):
    from oscar.test.factories import UserFactory

    jo = customer("jo@example.com")
    admin_user = UserFactory(email="admin@marlowandvale.example", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin_user)
    response = client.post(
        "/admin/lifecycle/marketingconsent/",
        {"action": "consent_out", "_selected_action": [jo.pk]},
    )
    assert response.status_code == 302
    assert not MarketingConsent.objects.get(user=jo).opted_in
    change = ConsentChange.objects.filter(user=jo).first()
    assert (change.opted_in, change.source, change.actor) == (
        False,
        ConsentSource.STAFF,
        admin_user,
    )


@pytest.mark.parametrize("model", ["marketingconsent", "consentchange", "send"])
def test_the_admin_lists_consent_and_sends_but_never_adds_them(admin_client, model):
    assert admin_client.get(f"/admin/lifecycle/{model}/").status_code == 200
    assert admin_client.get(f"/admin/lifecycle/{model}/add/").status_code == 403
