"""shop.common.clientip.client_ip: one rule for the client's address."""

import pytest
from django.test import RequestFactory, override_settings

from shop.common.clientip import client_ip


def _request(remote: str = "10.0.0.2", forwarded: str | None = None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_without_a_proxy_the_header_is_ignored():
    assert client_ip(_request(forwarded="203.0.113.1")) == "10.0.0.2"


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (1, "203.0.113.1", "203.0.113.1"),
        (1, "6.6.6.6, 203.0.113.1", "203.0.113.1"),  # the client's own entry is not believed
        (1, " 6.6.6.6 ,203.0.113.1 ", "203.0.113.1"),
        (2, "6.6.6.6, 203.0.113.1, 10.0.0.3", "203.0.113.1"),
        (2, "203.0.113.1", "10.0.0.2"),  # did not come through both proxies
        (1, "", "10.0.0.2"),
        (1, None, "10.0.0.2"),
        (1, "not-an-address", "10.0.0.2"),
        (1, "2001:DB8::1", "2001:db8::1"),
    ],
)
def test_behind_proxies_the_entry_count_places_from_the_right(count, forwarded, expected):
    with override_settings(TRUSTED_PROXY_COUNT=count):
        assert client_ip(_request(forwarded=forwarded)) == expected


def test_no_address_at_all_is_empty():
    assert client_ip(_request(remote="")) == ""
