"""The dashboard screens through their pages: list, create and edit with bad input, start and
stop, the report, the menu entry, and who may do what."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from shop.experiments.models import Experiment
from tests.experiments.conftest import make_experiment

pytestmark = pytest.mark.django_db
LIST = "/dashboard/experiments/"
NEW = "/dashboard/experiments/new/"
GOOD = {
    "name": "sort-test",
    "title": "Newest first on category pages",
    "description": "Does a newest-first default sort sell more?",
    "audience": "all",
    "segment": "",
    "goal": "order_paid",
    "starts_at": "",
    "ends_at": "",
    "variants": "control:50:As today\nnewest:50:Newest first",
}


def _staff(*perms, name="sam"):
    user = get_user_model().objects.create_user(
        username=name, email=f"{name}@example.com", password="x", is_staff=True
    )
    for codename in perms:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def runner():
    return _staff("view_experiment", "run_experiments")


def test_create_start_stop_and_report_through_the_pages(runner):
    response = runner.post(NEW, GOOD)
    assert response.status_code == 302 and response["Location"] == LIST
    experiment = Experiment.objects.get(name="sort-test")
    assert experiment.status == "draft"
    assert [(v.key, v.weight, v.label) for v in experiment.variants.all()] == [
        ("control", 50, "As today"),
        ("newest", 50, "Newest first"),
    ]
    page = runner.get(LIST).content.decode()
    assert "Newest first on category pages" in page and ">Start</button>" in page

    runner.post(f"/dashboard/experiments/{experiment.pk}/start/")
    experiment.refresh_from_db()
    assert experiment.status == "running" and experiment.starts_at is not None
    assert ">Stop</button>" in runner.get(LIST).content.decode()

    # Started: the variants cannot change any more, the title can.
    edited = {**GOOD, "title": "Newest first (category pages)", "variants": "control:1\nx:9"}
    assert runner.post(f"/dashboard/experiments/{experiment.pk}/edit/", edited).status_code == 302
    experiment.refresh_from_db()
    assert experiment.title == "Newest first (category pages)"
    assert [v.weight for v in experiment.variants.all()] == [50, 50]

    runner.post(f"/dashboard/experiments/{experiment.pk}/stop/")
    experiment.refresh_from_db()
    assert experiment.status == "stopped" and experiment.ends_at is not None
    report = runner.get(f"/dashboard/experiments/{experiment.pk}/report/")
    assert report.status_code == 200
    html = report.content.decode()
    assert "Not enough data yet" in html and "100 visitors and 10 conversions" in html
    assert "not counted" in html

    # A stopped test does not start again.
    runner.post(f"/dashboard/experiments/{experiment.pk}/start/")
    experiment.refresh_from_db()
    assert experiment.status == "stopped"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"name": "Sort Test"}, "name"),
        ({"name": "x" * 5000}, "name"),
        ({"name": "<b>sort</b>"}, "name"),
        ({"name": "sort\x00test"}, "name"),
        ({"title": "<script>alert(1)</script>"}, "title"),
        ({"title": "x" * 5000}, "title"),
        ({"title": "Sort\u202e test"}, "title"),
        ({"title": "nul\x00here"}, "title"),
        ({"description": "y" * 5000}, "description"),
        ({"variants": "control:50"}, "variants"),
        ({"variants": "newest:50\ncontrol:50"}, "variants"),
        ({"variants": "control:0\nnewest:50"}, "variants"),
        ({"variants": "control:-5\nnewest:50"}, "variants"),
        ({"variants": "control:50\nnewest:abc"}, "variants"),
        ({"variants": "control:50\ncontrol:50"}, "variants"),
        ({"variants": "control:50\n<b>:50"}, "variants"),
        ({"variants": "control:50\nnewest:50:<img src=x>"}, "variants"),
        ({"variants": "control:50\nnewest:99999"}, "variants"),
        ({"variants": "z" * 5000}, "variants"),
        ({"audience": "segment", "segment": ""}, "segment"),
        ({"audience": "everyone"}, "audience"),
        ({"segment": "🙂"}, "segment"),
        ({"goal": "buy"}, "goal"),
        ({"starts_at": "9999-01-01T00:00"}, "starts_at"),
        ({"starts_at": "2030-01-02T00:00", "ends_at": "2030-01-01T00:00"}, "ends_at"),
        ({"ends_at": "yesterday"}, "ends_at"),
    ],
)
def test_bad_input_is_a_form_error_not_a_500(runner, change, field):
    response = runner.post(NEW, {**GOOD, **change})
    assert response.status_code == 400
    assert f'data-error="{field}"' in response.content.decode()
    assert not Experiment.objects.exists()
    assert "<script>alert" not in response.content.decode()


def test_a_duplicate_name_is_refused(runner):
    make_experiment("sort-test", start=False)
    response = runner.post(NEW, GOOD)
    assert response.status_code == 400
    assert "exists already" in response.content.decode()
    assert Experiment.objects.count() == 1


def test_forged_ids_and_methods(runner):
    for path in ("/dashboard/experiments/99999999999/report/", "/dashboard/experiments/7/edit/"):
        assert runner.get(path).status_code == 404
    assert runner.post("/dashboard/experiments/99999999999/start/").status_code == 404
    experiment = make_experiment("sort-test", start=False)
    assert runner.get(f"/dashboard/experiments/{experiment.pk}/start/").status_code == 405


def test_permissions():
    experiment = make_experiment("sort-test", start=False)
    paths = [LIST, NEW, f"/dashboard/experiments/{experiment.pk}/report/"]
    # Anonymous: the dashboard login.
    for path in paths:
        assert Client().get(path).status_code == 302
    # Staff without the permissions: 403, and nothing changes.
    plain = _staff(name="pat")
    for path in paths:
        assert plain.get(path).status_code == 403
    assert plain.post(f"/dashboard/experiments/{experiment.pk}/start/").status_code == 403
    # Who may look, but not run: the list and report, no buttons, no changes.
    viewer = _staff("view_experiment", name="val")
    page = viewer.get(LIST)
    assert page.status_code == 200 and ">Start</button>" not in page.content.decode()
    assert viewer.get(f"/dashboard/experiments/{experiment.pk}/report/").status_code == 200
    assert viewer.get(NEW).status_code == 403
    assert viewer.post(f"/dashboard/experiments/{experiment.pk}/start/").status_code == 403
    assert viewer.post(NEW, GOOD).status_code == 403
    experiment.refresh_from_db()
    assert experiment.status == "draft" and Experiment.objects.count() == 1


def test_the_menu_lists_experiments_for_those_who_may_see_them():
    viewer = _staff("view_experiment", name="val")
    index = viewer.get("/dashboard/")
    assert index.status_code == 200
    assert 'href="/dashboard/experiments/"' in index.content.decode()
    other = _staff(name="pat")
    index = other.get("/dashboard/")
    assert index.status_code == 200
    assert 'href="/dashboard/experiments/"' not in index.content.decode()
