import pytest

from tests.takeback.helpers import customer, small_catalogue


@pytest.fixture
def catalogue(db):
    return small_catalogue()


@pytest.fixture
def jo(catalogue):
    """A customer of the small catalogue."""
    return customer()


@pytest.fixture
def jo_client(client, jo):
    client.force_login(jo)
    return client
