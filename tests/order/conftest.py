import pytest
from django.test import Client
from oscar.test.factories import UserFactory


@pytest.fixture
def boss(db):
    """A test client signed in as a superuser (its user as `client.user`)."""
    user = UserFactory(is_staff=True, is_superuser=True, email="boss@marlowandvale.example")
    client = Client()
    client.force_login(user)
    client.user = user
    return client
