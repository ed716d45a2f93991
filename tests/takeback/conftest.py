import pytest

from tests.takeback.helpers import small_catalogue


@pytest.fixture
def catalogue(db):
    return small_catalogue()
