import pytest

from tests.reports.helpers import build_dataset


@pytest.fixture
def dataset(demo_catalogue, django_user_model):
    return build_dataset(django_user_model)
