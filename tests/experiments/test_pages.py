"""The demo experiment on the product page, the template tags, and the page cache serving
each visitor the page of their variant."""

import pytest
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext

from shop.catalogue.models import Product
from shop.experiments.models import Experiment
from shop.experiments.selectors import experiments_forget
from shop.experiments.services import DEMO_NAME, experiment_demo_ensure
from shop.storefront.services import demo_data_load
from tests.experiments.conftest import browser, make_experiment, vids_for
from tests.experiments.test_sticky import _request

pytestmark = pytest.mark.django_db
VARIANTS = [("control", 50), ("promise", 50)]
PROMISE = "data-takeback-promise"


def _evergreen_page() -> str:
    return Product.objects.get(upc="MV-EG-BIF").get_absolute_url()


def _demo():
    experiment = experiment_demo_ensure()
    experiments_forget()
    return experiment


def test_the_demo_experiment_runs_half_and_half_and_is_made_once():
    first = _demo()
    assert experiment_demo_ensure().pk == first.pk
    assert first.name == DEMO_NAME and first.status == Experiment.Status.RUNNING
    assert [(v.key, v.weight, v.is_control) for v in first.variants.all()] == [
        ("control", 50, True),
        ("promise", 50, False),
    ]
    assert first.goal == "add_to_basket"


def test_the_demo_loader_starts_it(monkeypatch):
    monkeypatch.setattr("shop.storefront.services.call_command", lambda *a, **k: None)
    demo_data_load()
    assert Experiment.objects.get(name=DEMO_NAME).status == Experiment.Status.RUNNING


def test_the_promise_shows_on_the_product_page_for_promise_visitors_only(demo_catalogue):
    _demo()
    (promise,) = vids_for(DEMO_NAME, VARIANTS, "promise")
    (control,) = vids_for(DEMO_NAME, VARIANTS, "control")
    page = browser(promise).get(_evergreen_page())
    assert page.status_code == 200
    html = page.content.decode()
    assert PROMISE in html and "When it has done its work, send it home." in html
    assert PROMISE not in browser(control).get(_evergreen_page()).content.decode()
    assert (
        PROMISE not in browser(promise, consent="declined").get(_evergreen_page()).content.decode()
    )
    assert PROMISE not in browser(promise, consent=None).get(_evergreen_page()).content.decode()


def test_the_page_cache_serves_each_visitor_their_variant(demo_catalogue):
    _demo()
    p1, p2 = vids_for(DEMO_NAME, VARIANTS, "promise", 2)
    c1, c2 = vids_for(DEMO_NAME, VARIANTS, "control", 2)
    path = _evergreen_page()

    first = browser(p1).get(path)
    assert first["X-Page-Cache"] == "miss" and PROMISE in first.content.decode()
    control = browser(c1).get(path)
    assert control["X-Page-Cache"] == "miss" and PROMISE not in control.content.decode()

    # The same visitor again, and another with the same variant: from the cache, no SQL.
    with CaptureQueriesContext(connection) as queries:
        again = browser(p1).get(path)
        same = browser(p2).get(path)
    assert (again["X-Page-Cache"], same["X-Page-Cache"]) == ("hit", "hit")
    assert PROMISE in again.content.decode() and PROMISE in same.content.decode()
    assert len(queries) == 0, [q["sql"] for q in queries]

    # Everyone who sees control shares one page: counted or not, or a bot.
    for client in (browser(c2), browser(p1, consent="declined"), browser(p1, agent="curl/8")):
        response = client.get(path)
        assert response["X-Page-Cache"] == "hit"
        assert PROMISE not in response.content.decode()


def test_the_page_key_names_the_variants_other_than_control():
    from shop.storefront.page_cache import page_key

    make_experiment(DEMO_NAME, variants=VARIANTS)
    make_experiment("b-test", variants=[("control", 1), ("b", 1)])
    both = next(v for v in vids_for(DEMO_NAME, VARIANTS, "promise", 50) if _b(v))
    (control,) = vids_for(DEMO_NAME, VARIANTS, "control")
    from shop.experiments.selectors import page_key_part

    assert page_key_part(_request(both)) == "b-test=b&takeback-promise=promise"
    keys = {page_key(_request(v)) for v in (both, control)}
    assert len(keys) == 2


def _b(visitor):
    from shop.experiments.hashing import pick

    return pick("b-test", visitor, [("control", 1), ("b", 1)]) == "b"


TEMPLATE = Template(
    "{% load experiments %}{% variant name as v %}[{{ v }}]"
    '{% experiment name "promise" %}PROMISE{% else %}PLAIN{% endexperiment %}'
    '{% experiment name "control" %}CONTROL{% endexperiment %}'
)


@pytest.mark.parametrize(
    "name", ["no-such-test", "<b>x</b>", "x" * 5000, "take\x00back", "\u202ex", "🙂", None]
)
def test_the_template_tags_read_control_for_garbage_and_write_none_of_it(name):
    make_experiment(DEMO_NAME, variants=VARIANTS)
    (promise,) = vids_for(DEMO_NAME, VARIANTS, "promise")
    request = _request(promise)
    assert TEMPLATE.render(Context({"request": request, "name": DEMO_NAME})) == "[promise]PROMISE"
    html = TEMPLATE.render(Context({"request": request, "name": name}))
    assert html == "[control]PLAINCONTROL"


def test_the_template_tags_without_a_request_show_control():
    make_experiment(DEMO_NAME, variants=VARIANTS)
    assert TEMPLATE.render(Context({"name": DEMO_NAME})) == "[control]PLAINCONTROL"
