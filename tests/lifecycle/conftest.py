import pytest

from tests.lifecycle.helpers import customer
from tests.takeback.helpers import small_catalogue


@pytest.fixture
def catalogue(db):
    return small_catalogue()


@pytest.fixture
def jo(catalogue):
    """A customer of the small catalogue who opted in to marketing email."""
    return customer()


@pytest.fixture(autouse=True)
def _site_domain(db):
    from django.contrib.sites.models import Site

    Site.objects.update_or_create(pk=1, defaults={"domain": "shop.test", "name": "Marlow & Vale"})
