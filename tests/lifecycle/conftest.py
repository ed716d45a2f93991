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


@pytest.fixture(autouse=True)
def _campaigns(db):
    """The four campaigns a migrated database holds. A live-server test elsewhere in the
    suite flushes the database, which takes the migration's rows with it; a lifecycle test
    starts from what a real store has, whatever ran before it."""
    from shop.lifecycle.services import campaigns_ensure

    campaigns_ensure()
