"""account_register: the address is checked again under a lock, so a registration of the
same address that committed after the form was validated is refused and nothing is kept."""

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import RequestFactory
from oscar.apps.customer.forms import EmailUserCreationForm

from shop.storefront.services import AccountRegistrationRefused, account_register

pytestmark = pytest.mark.django_db
PASSWORD = "a fresh long pass phrase 9"


def test_an_address_taken_after_validation_is_refused(django_capture_on_commit_callbacks):
    form = EmailUserCreationForm(
        data={"email": "twin@example.com", "password1": PASSWORD, "password2": PASSWORD},
        host="testserver",
    )
    assert form.is_valid()
    get_user_model().objects.create_user(username="first", email="Twin@Example.com")
    request = RequestFactory().post("/accounts/register/", REMOTE_ADDR="10.4.0.1")
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(AccountRegistrationRefused) as refused:
            account_register(request=request, form=form)
    assert refused.value.field == "email"
    assert get_user_model().objects.filter(email__iexact="twin@example.com").count() == 1
    assert mail.outbox == []
