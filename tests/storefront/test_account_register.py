"""account_register: the address is checked again under a lock, so a registration of the
same address that committed after the form was validated creates nothing: the owner of the
address is emailed instead, as for any registration of an existing address."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import RequestFactory
from oscar.apps.customer.forms import EmailUserCreationForm

from shop.storefront.services import account_register

pytestmark = pytest.mark.django_db
PASSWORD = "a fresh long pass phrase 9"


def test_an_address_taken_after_validation_creates_nothing_and_emails_its_owner(
    django_capture_on_commit_callbacks,
):
    form = EmailUserCreationForm(
        data={"email": "twin@example.com", "password1": PASSWORD, "password2": PASSWORD},
        host="testserver",
    )
    assert form.is_valid()
    get_user_model().objects.create_user(username="first", email="Twin@Example.com")
    request = RequestFactory().post("/accounts/register/", REMOTE_ADDR="10.4.0.1")
    with django_capture_on_commit_callbacks(execute=True):
        assert account_register(request=request, form=form) is None
    assert get_user_model().objects.filter(email__iexact="twin@example.com").count() == 1
    assert [m.to for m in mail.outbox] == [["Twin@example.com"]]
    assert "tried to register" in mail.outbox[0].body
