"""The report counts, in the database, hand-made funnel events: visitors per variant (by the
hash, or the account's Assignment), conversions after their first event in the window, and
the interval and verdict from those counts."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from shop.experiments.models import Assignment
from shop.experiments.selectors import experiment_counts, experiment_report
from shop.experiments.services import experiment_stop
from shop.growth.models import Event, Visitor
from tests.experiments.conftest import make_experiment, vids_for

pytestmark = pytest.mark.django_db
VARIANTS = [("control", 50), ("promise", 50)]
NAME = "takeback-promise"


def _visitor(vid, *, first_seen, user=None):
    return Visitor.objects.create(
        id=vid, first_seen_at=first_seen, last_seen_at=first_seen, user=user
    )


def _events(visitor, *steps):
    for step, at in steps:
        Event.objects.create(visitor=visitor, step=step, at=at, user=visitor.user)


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def running(now):
    experiment = make_experiment(NAME, variants=VARIANTS)
    type(experiment).objects.filter(pk=experiment.pk).update(starts_at=now - timedelta(days=3))
    experiment.refresh_from_db()
    return experiment


def test_counts_interval_and_verdict_on_hand_made_events(running, now):
    before, start = now - timedelta(days=5), now - timedelta(days=3)
    c1, c2, c3, c4, c5 = vids_for(NAME, VARIANTS, "control", 5)
    p1, p2, p3 = vids_for(NAME, VARIANTS, "promise", 3)
    h = lambda hours: start + timedelta(hours=hours)  # noqa: E731

    # Control: c1 converts; c2 only visits; c3 reached the goal before the test only;
    # c4 has no event in the window (not counted).
    _events(_visitor(c1, first_seen=h(1)), ("visit", h(1)), ("add_to_basket", h(2)))
    _events(_visitor(c2, first_seen=h(1)), ("visit", h(3)))
    _events(_visitor(c3, first_seen=before), ("add_to_basket", before), ("visit", h(4)))
    _events(_visitor(c4, first_seen=before), ("visit", before), ("add_to_basket", before))
    # Promise: p1 converts; p2's first event in the window is the goal itself (converts);
    # p3 goes on to checkout without the goal step.
    _events(_visitor(p1, first_seen=h(1)), ("visit", h(1)), ("add_to_basket", h(5)))
    _events(_visitor(p2, first_seen=h(1)), ("add_to_basket", h(6)), ("visit", h(7)))
    _events(_visitor(p3, first_seen=h(1)), ("visit", h(8)), ("checkout_started", h(9)))
    # c5's browser hashes to control, but its account was assigned "promise" on another
    # browser: the account's variant counts (and it converts).
    ada = get_user_model().objects.create_user(username="ada", email="ada@example.com")
    Assignment.objects.create(
        experiment=running, user=ada, variant=running.variants.get(key="promise")
    )
    _events(_visitor(c5, first_seen=h(1), user=ada), ("visit", h(2)), ("add_to_basket", h(3)))

    report = experiment_report(experiment=running, now=now)
    counts = {r["key"]: (r["visitors"], r["conversions"]) for r in report["rows"]}
    assert counts == {"control": (3, 1), "promise": (4, 3)}
    promise = report["rows"][1]
    # p1 = 3/4 = 0.75, p2 = 1/3: difference 0.416667;
    # se = sqrt(0.75·0.25/4 + (1/3)(2/3)/3) = sqrt(0.046875 + 0.0740741) = 0.3477777;
    # 1.96·se = 0.6816443 → [−0.2649776, 1.0983110].
    assert promise["rate"] == pytest.approx(0.75)
    assert promise["interval"].difference == pytest.approx(0.4166667, abs=1e-6)
    assert promise["interval"].low == pytest.approx(-0.2649776, abs=1e-6)
    assert promise["interval"].high == pytest.approx(1.0983110, abs=1e-6)
    assert report["verdicts"] == ["Not enough data yet"]


def test_a_stopped_test_counts_nothing_after_its_stop(running, now):
    (p1,) = vids_for(NAME, VARIANTS, "promise", 1)
    visitor = _visitor(p1, first_seen=now - timedelta(days=2))
    _events(visitor, ("visit", now - timedelta(days=2)))
    experiment_stop(experiment=running, now=now - timedelta(days=1))
    running.refresh_from_db()
    _events(visitor, ("add_to_basket", now - timedelta(hours=1)))
    counts = {
        r["key"]: (r["visitors"], r["conversions"])
        for r in experiment_counts(experiment=running, now=now)
    }
    assert counts == {"control": (0, 0), "promise": (1, 0)}


def test_audiences_new_and_returning_by_first_seen_day(now):
    start = now - timedelta(hours=1)
    for name, audience in (("new-test", "new"), ("back-test", "returning")):
        experiment = make_experiment(name, variants=[("control", 1), ("b", 1)], audience=audience)
        type(experiment).objects.filter(pk=experiment.pk).update(starts_at=start)
    fresh, old = "n" * 22, "o" * 22
    _events(
        _visitor(fresh, first_seen=now - timedelta(minutes=30)),
        ("visit", now - timedelta(minutes=30)),
    )
    _events(
        _visitor(old, first_seen=now - timedelta(days=10)), ("visit", now - timedelta(minutes=20))
    )
    from shop.experiments.models import Experiment

    def total(name):
        rows = experiment_counts(experiment=Experiment.objects.get(name=name), now=now)
        return sum(r["visitors"] for r in rows)

    assert total("new-test") == 1
    assert total("back-test") == 1


def test_a_draft_has_no_window_and_reports_zeros(now):
    draft = make_experiment("draft-test", start=False)
    report = experiment_report(experiment=draft, now=now)
    assert report["window"] is None
    assert [r["visitors"] for r in report["rows"]] == [0, 0]
    assert report["verdicts"] == ["Not enough data yet"]


def test_the_report_page_shows_the_figures(running, now):
    from django.contrib.auth.models import Permission
    from django.test import Client

    c1, c2 = vids_for(NAME, VARIANTS, "control", 2)
    (p1,) = vids_for(NAME, VARIANTS, "promise", 1)
    at = now - timedelta(hours=5)
    _events(_visitor(c1, first_seen=at), ("visit", at), ("add_to_basket", at))
    _events(_visitor(c2, first_seen=at), ("visit", at))
    _events(_visitor(p1, first_seen=at), ("visit", at), ("add_to_basket", at))
    staff = get_user_model().objects.create_user(username="s", email="s@x.com", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_experiment"))
    client = Client()
    client.force_login(staff)
    html = client.get(f"/dashboard/experiments/{running.pk}/report/").content.decode()
    # Control 1/2 = 50.0 %, promise 1/1 = 100.0 %: +50.0 points; se = sqrt(0 + 0.25/2)
    # = 0.3535534, 1.96·se = 0.6929646 → [−19.3, +119.3] points.
    assert "50.0 %" in html and "100.0 %" in html
    assert "+50.0 pts" in html and "-19.3 pts to +119.3 pts" in html
    assert "Not enough data yet" in html


def test_audience_segment_counts_the_segments_accounts_only(now, monkeypatch):
    users = get_user_model().objects
    champion = users.create_user(username="c", email="c@example.com")
    other = users.create_user(username="o", email="o@example.com")
    monkeypatch.setattr(
        "shop.reports.selectors.customer_segments",
        lambda *, user_ids=None, on=None: {champion.pk: "Champions", other.pk: "At risk"},
    )
    experiment = make_experiment(
        "seg-test", variants=[("control", 1), ("b", 1)], audience="segment", segment="Champions"
    )
    type(experiment).objects.filter(pk=experiment.pk).update(starts_at=now - timedelta(hours=2))
    experiment.refresh_from_db()
    at = now - timedelta(hours=1)
    _events(_visitor("c" * 22, first_seen=at, user=champion), ("visit", at))
    _events(_visitor("o" * 22, first_seen=at, user=other), ("visit", at))
    _events(_visitor("a" * 22, first_seen=at), ("visit", at))  # anonymous
    rows = experiment_counts(experiment=experiment, now=now)
    assert sum(r["visitors"] for r in rows) == 1


def test_a_customer_with_an_earlier_paid_order_is_returning(now):
    from oscar.test.factories import create_order

    from shop.experiments.hashing import pick
    from shop.experiments.selectors import variant
    from tests.experiments.conftest import vid
    from tests.experiments.test_sticky import _request

    variants = [("control", 1), ("b", 1)]
    experiment = make_experiment("back-test", variants=variants, audience="returning")
    type(experiment).objects.filter(pk=experiment.pk).update(starts_at=now - timedelta(hours=2))
    experiment.refresh_from_db()
    buyer = get_user_model().objects.create_user(username="b", email="b@example.com")
    browser_id = next(v for v in map(vid, range(500)) if pick("back-test", v, variants) == "b")
    # First seen today, no order yet: not returning.
    assert variant(_request(browser_id, buyer), "back-test") == "control"
    order = create_order(user=buyer)
    type(order).objects.filter(pk=order.pk).update(
        status="Paid", date_placed=now - timedelta(hours=3)
    )
    assert variant(_request(browser_id, buyer), "back-test") == "b"
    # The report agrees: the customer's events count, an anonymous newcomer's do not.
    at = now - timedelta(hours=1)
    _events(_visitor(browser_id, first_seen=at, user=buyer), ("visit", at))
    _events(_visitor("z" * 22, first_seen=at), ("visit", at))
    rows = experiment_counts(experiment=experiment, now=now)
    assert {r["key"]: r["visitors"] for r in rows} == {"control": 0, "b": 1}
