"""Oscar's dashboard tables: every sort link a table header offers answers, and a column with
nothing to sort by (a row's checkbox, its actions) offers none and ignores a typed `?sort=`."""

import html
import re

import pytest
from django.test import Client
from oscar.test.factories import UserFactory

pytestmark = pytest.mark.django_db

TABLE_PAGES = ["/dashboard/catalogue/", "/dashboard/catalogue/categories/", "/dashboard/users/"]


@pytest.fixture
def staff_client(demo_catalogue) -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("url", TABLE_PAGES)
def test_every_sort_link_answers(staff_client, url):
    page = staff_client.get(url)
    assert page.status_code == 200
    links = {
        html.unescape(q) for q in re.findall(r'<th[^>]*><a href="\?([^"]*)"', page.content.decode())
    }
    assert links, "the table offers no sort link at all"
    assert not [q for q in links if re.search(r"sort=-?(checkbox|check|actions)\b", q)]
    for query in sorted(links):
        assert staff_client.get(f"{url}?{query}").status_code == 200, query


@pytest.mark.parametrize("url", TABLE_PAGES)
@pytest.mark.parametrize("column", ["checkbox", "-checkbox", "actions", "check"])
def test_a_typed_sort_by_a_template_column_is_ignored(staff_client, url, column):
    assert staff_client.get(url, {"sort": column}).status_code == 200
