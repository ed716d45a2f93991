"""Oversize request bodies are refused from Content-Length, per path, before anything reads
them (shop.common.body_limit)."""

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client, RequestFactory

from shop.common.body_limit import RequestBodyLimitMiddleware, body_limit_for

MB = 1024 * 1024


def test_each_route_has_its_cap():
    photos = settings.TAKEBACK_PHOTOS_MAX * settings.TAKEBACK_PHOTO_MAX_BYTES
    assert body_limit_for("/accounts/take-back/new/") > photos
    assert body_limit_for("/accounts/take-back/12/photos/") > photos
    assert body_limit_for("/dashboard/take-back/12/grade/") > photos
    assert 20 * MB < body_limit_for("/dashboard/business-reports/imports/") < 25 * MB
    for path in ("/", "/accounts/login/", "/accounts/take-back/12/", "/basket/add/1/"):
        assert body_limit_for(path) == settings.REQUEST_BODY_MAX_BYTES == MB


def _middleware():
    ran = []

    def view(request):
        ran.append(request)
        return HttpResponse("view")

    return RequestBodyLimitMiddleware(view), ran


@pytest.mark.parametrize(
    ("path", "length", "status"),
    [
        ("/accounts/login/", MB + 1, 413),
        ("/accounts/login/", MB, 200),
        ("/accounts/take-back/3/photos/", 60 * MB, 413),
        ("/accounts/take-back/3/photos/", 40 * MB, 200),
        ("/dashboard/business-reports/imports/", 60 * MB, 413),
        ("/dashboard/business-reports/imports/", 20 * MB, 200),
        ("/accounts/login/", "junk", 200),  # as Django: an unreadable length reads nothing
    ],
)
def test_over_the_cap_is_413_and_the_view_never_runs(path, length, status):
    middleware, ran = _middleware()
    request = RequestFactory().post(path, data=b"x", content_type="text/plain")
    request.META["CONTENT_LENGTH"] = str(length)
    response = middleware(request)
    assert response.status_code == status
    assert bool(ran) == (status == 200)
    if status == 413:
        assert "too large" in response.content.decode()


@pytest.mark.django_db
def test_through_the_stack_nothing_runs_after_a_refusal(django_assert_num_queries):
    """The whole middleware stack and URL: no session, user, CSRF or view work happens (not
    one query), and the 60 MB were never read (the test sends 5 bytes and claims 60 MB)."""
    client = Client()
    with django_assert_num_queries(0):
        response = client.post(
            "/accounts/take-back/1/photos/",
            data=b"small",
            content_type="multipart/form-data; boundary=x",
            CONTENT_LENGTH=str(60 * MB),
        )
    assert response.status_code == 413
    assert "at most 49 MB" in response.content.decode()
