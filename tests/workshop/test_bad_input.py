"""Requests that answered 500 on the workshop screens (issue "No request gets a 500"): an
advance whose `next` is not a URL goes back to the job list, the move still made."""

import pytest

from shop.workshop.models import WorkshopJob
from shop.workshop.services import workshop_jobs_create
from tests.workshop.helpers import place_personalized_order

pytestmark = pytest.mark.django_db
LIST = "/dashboard/workshop/"


@pytest.mark.parametrize(
    "next_url", ["job-list", "workshop:job-list", "evil", "javascript:alert(1)", "/\x00x", "//x"]
)
def test_workshop_advance_with_a_next_that_is_not_a_url(
    staff_client, demo_personalization, next_url
):
    (job,) = workshop_jobs_create(order=place_personalized_order())
    response = staff_client.post(
        f"/dashboard/workshop/jobs/{job.pk}/advance/",
        {"status": "in_progress", "next": next_url},
    )
    assert response.status_code == 302 and response["Location"] == LIST
    assert WorkshopJob.objects.get(pk=job.pk).status == "in_progress"


def test_workshop_advance_with_a_local_next_still_goes_there(staff_client, demo_personalization):
    (job,) = workshop_jobs_create(order=place_personalized_order())
    back = f"/dashboard/workshop/orders/{job.order.number}/"
    response = staff_client.post(
        f"/dashboard/workshop/jobs/{job.pk}/advance/", {"status": "in_progress", "next": back}
    )
    assert response.status_code == 302 and response["Location"] == back
