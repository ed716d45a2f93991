import pytest
from oscar.test.factories import UserFactory


@pytest.fixture
def staff_client(client, db):
    user = UserFactory(is_staff=True, email="maker@marlowandvale.example")
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def customer_client(client, db):
    user = UserFactory(is_staff=False, email="customer@example.com")
    client.force_login(user)
    return client


@pytest.fixture
def workdays(settings):
    """A predictable working week: stock ships the next working day, 14:00 cut-off, and no
    bank holidays."""
    settings.STOCK_DISPATCH_DAYS = 1
    settings.DISPATCH_CUTOFF = "14:00"
    settings.WORKSHOP_CLOSED_DAYS = []
    return settings
