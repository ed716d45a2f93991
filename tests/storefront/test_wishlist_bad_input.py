"""Oscar's wish list form answered 500 when a shared-email row was marked for deletion
(issue "No request gets a 500"): the row is dropped and the list is created."""

import pytest
from oscar.apps.wishlists.models import WishList
from oscar.test.factories import UserFactory

pytestmark = pytest.mark.django_db
CREATE = "/accounts/wishlists/create/"


def _form(**extra) -> dict:
    return {
        "name": "Birthday",
        "visibility": "Shared",
        "shared_emails-TOTAL_FORMS": "3",
        "shared_emails-INITIAL_FORMS": "0",
        "shared_emails-MIN_NUM_FORMS": "0",
        "shared_emails-MAX_NUM_FORMS": "1000",
        **extra,
    }


@pytest.fixture
def jo_client(client):
    client.force_login(UserFactory(email="jo@example.com"))
    return client


def test_wishlist_create_with_shared_emails_0_delete_x(jo_client):
    response = jo_client.post(CREATE, _form(**{"shared_emails-0-DELETE": "x"}))
    assert response.status_code == 302
    wishlist = WishList.objects.get()
    assert wishlist.name == "Birthday" and not wishlist.shared_emails.exists()


def test_wishlist_create_drops_a_deleted_email_and_keeps_the_others(jo_client):
    response = jo_client.post(
        CREATE,
        _form(
            **{
                "shared_emails-0-email": "gone@example.com",
                "shared_emails-0-DELETE": "on",
                "shared_emails-1-email": "kept@example.com",
            }
        ),
    )
    assert response.status_code == 302
    emails = list(WishList.objects.get().shared_emails.values_list("email", flat=True))
    assert emails == ["kept@example.com"]


def test_wishlist_update_deletes_a_shared_email_marked_for_deletion(jo_client):
    jo_client.post(CREATE, _form(**{"shared_emails-0-email": "sam@example.com"}))
    wishlist = WishList.objects.get()
    shared = wishlist.shared_emails.get()
    response = jo_client.post(
        f"/accounts/wishlists/{wishlist.key}/update/",
        _form(
            **{
                "shared_emails-INITIAL_FORMS": "1",
                "shared_emails-0-id": str(shared.pk),
                "shared_emails-0-email": "sam@example.com",
                "shared_emails-0-DELETE": "on",
            }
        ),
    )
    assert response.status_code == 302
    assert not wishlist.shared_emails.exists()
