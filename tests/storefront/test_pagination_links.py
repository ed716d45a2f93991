"""A listing's page links (storefront_tags.listing_pagination): the page cache misses draw
them on every request, so they are written in Python; these hold what a shopper clicks."""

import re

from django.core.paginator import Paginator

from shop.storefront.templatetags.storefront_tags import listing_pagination


def _links(html: str) -> list[tuple[str, str]]:
    """(href or "" for a non-link, visible text) of each item, in order."""
    items = re.findall(r"<li>(.*?)</li>", html)
    found = []
    for item in items:
        href = re.search(r'href="([^"]*)"', item)
        text = re.sub(r"<[^>]+>", "", item).replace("Page ", "").strip()
        found.append((href.group(1) if href else "", text))
    return found


def _page(number: int, pages: int):
    return Paginator(range(pages * 24), 24).page(number)


def test_one_page_has_no_links():
    assert listing_pagination(_page(1, 1), "sort_by=name") == ""


def test_first_page_previous_is_disabled_and_page_one_has_no_number():
    html = listing_pagination(_page(1, 3), "")
    assert _links(html) == [
        ("", "&larr; Previous"),
        ("", "1"),
        ("?page=2", "2"),
        ("?page=3", "3"),
        ("?page=2", "Next &rarr;"),
    ]
    assert '<span aria-current="page"><span class="mv-sr">Page </span>1</span>' in html
    assert 'rel="next"' in html and 'rel="prev"' not in html


def test_middle_page_keeps_the_query_and_elides_far_pages():
    html = listing_pagination(_page(6, 12), "line=Evergreen&sort_by=price-desc")
    query = "line=Evergreen&amp;sort_by=price-desc"
    assert _links(html) == [
        (f"?{query}&amp;page=5", "&larr; Previous"),
        (f"?{query}", "1"),
        ("", "&hellip;"),
        (f"?{query}&amp;page=5", "5"),
        ("", "6"),
        (f"?{query}&amp;page=7", "7"),
        ("", "&hellip;"),
        (f"?{query}&amp;page=12", "12"),
        (f"?{query}&amp;page=7", "Next &rarr;"),
    ]


def test_previous_from_page_two_is_the_address_without_a_page():
    html = listing_pagination(_page(2, 2), "q=wallet")
    assert _links(html)[0] == ("?q=wallet", "&larr; Previous")
    assert _links(html)[-1] == ("", "Next &rarr;")


def test_the_query_is_escaped():
    html = listing_pagination(_page(1, 2), 'q=%22%3E&x="><script>')
    assert "<script>" not in html
    assert "?q=%22%3E&amp;x=&quot;&gt;&lt;script&gt;&amp;page=2" in html
