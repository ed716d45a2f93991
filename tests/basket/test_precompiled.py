"""Precompiled querysets (shop.common.precompiled) give what the same querysets give through
the ORM: the same rows, fields, related objects (no query to reach them), annotations."""

import datetime as dt

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signing import Signer
from django.db import connection
from django.db.models import Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oscar.apps.offer.models import Benefit, Condition, ConditionalOffer
from oscar.test.factories import ConditionalOfferFactory, RangeFactory, UserFactory

from shop.basket.middleware import SITE_OFFERS
from shop.basket.models import LINES, Basket, Line, LineAttribute, _lines_query
from shop.basket.selectors import open_anonymous_basket
from shop.catalogue.models import Product, ProductImage
from shop.common.precompiled import Precompiled
from tests.basket.helpers import fill_basket

pytestmark = pytest.mark.django_db


def _fields(obj) -> dict:
    """The loaded field values of a model instance (deferred ones left out)."""
    return {
        f.attname: getattr(obj, f.attname)
        for f in obj._meta.concrete_fields
        if f.attname in obj.__dict__
    }


def _deferred(obj) -> set:
    return {f.attname for f in obj._meta.concrete_fields if f.attname not in obj.__dict__}


RELATED = (
    ("product",),
    ("product", "product_class"),
    ("product", "parent"),
    ("product", "parent", "product_class"),
    ("stockrecord",),
    ("stockrecord", "partner"),
)


def _follow(obj, path):
    for name in path:
        obj = getattr(obj, name)
        if obj is None:
            return None
    return obj


def test_lines_are_what_the_orm_reads(client, demo_personalization, django_assert_num_queries):
    fill_basket(client)
    basket = Basket.objects.get()
    holdall, tote = (Product.objects.get(upc=upc) for upc in ("MV-EG-HOL", "MV-EG-TOT"))
    for product, name, order in ((holdall, "b", 1), (holdall, "a", 1), (holdall, "c", 0)):
        ProductImage.objects.create(
            product=product, original=f"products/{name}.png", display_order=order
        )
    ProductImage.objects.create(product=tote, original="products/tote.png", display_order=0)
    with django_assert_num_queries(1):
        fast = LINES.run(basket.pk, timezone.now(), known={"basket": basket})
    orm = list(_lines_query(basket.pk, timezone.now()))
    assert [line.pk for line in fast] == [line.pk for line in orm] and len(fast) == 3
    assert any(line.product.parent_id for line in fast)  # a colour, with its parent
    with django_assert_num_queries(0):  # everything joined is there, and the basket
        for line in fast:
            assert line.basket is basket
            for path in RELATED:
                _follow(line, path)
    for mine, theirs in zip(fast, orm, strict=True):
        assert _fields(mine) == _fields(theirs)
        assert (mine.picture, mine.basket_has_vouchers) == (
            theirs.picture,
            theirs.basket_has_vouchers,
        )
        for path in RELATED:
            a, b = _follow(mine, path), _follow(theirs, path)
            assert (a is None) == (b is None), path
            if a is not None:
                assert type(a) is type(b) and _fields(a) == _fields(b), path
                assert _deferred(a) == _deferred(b), path
                assert a._state.adding is False and a._state.db == "default"
    assert "search_vector" in _deferred(fast[0].product)
    # The first picture by display order; a colour without its own shows its parent's.
    assert [line.picture for line in fast] == ["products/c.png", "products/tote.png", None]


def test_attributes_are_what_the_orm_reads(client, demo_personalization):
    """Each line's attributes, read with the lines as JSON rows, are what the ORM reads: the
    same rows in the same order, every field of the attribute and its option of the same
    value and type, saved instances of the default database; one option instance per option."""
    fill_basket(client)
    basket = Basket.objects.get()
    line = basket.all_lines()[0]
    # A second attribute on one line, with a value JSON holds in a list.
    LineAttribute.objects.create(
        line=line, option=line.attributes.all()[0].option, value=["a", 1, None]
    )
    basket = Basket.objects.get()
    fast = [a for line in basket.all_lines() for a in line.attributes.all()]
    orm = list(
        LineAttribute.objects.filter(line__basket=basket)
        .select_related("option")
        .order_by("line_id", "pk")
    )
    assert [a.pk for a in fast] == [a.pk for a in orm] and len(fast) == 4
    for mine, theirs in zip(fast, orm, strict=True):
        for a, b in ((mine, theirs), (mine.option, theirs.option)):
            assert _fields(a) == _fields(b) and not _deferred(a)
            assert [type(v) for v in _fields(a).values()] == [type(v) for v in _fields(b).values()]
            assert a._state.adding is False and a._state.db == "default"
    assert fast[1].value == ["a", 1, None]
    assert len({id(a.option) for a in fast}) == 1


def test_a_basket_reads_its_lines_attributes_and_vouchers_once(
    client, demo_personalization, django_assert_num_queries
):
    fill_basket(Client())  # someone else's basket
    fill_basket(client)
    basket = Basket.objects.order_by("pk").last()
    with django_assert_num_queries(2):  # lines (attributes with them), personalisation offers
        lines = list(basket.all_lines())
    with django_assert_num_queries(0):
        assert basket.all_lines().count() == 3 and basket.all_lines().exists()
        assert list(basket.vouchers.all()) == []
        for line in lines:
            assert [a.option.code for a in line.attributes.all()] == ["personalization"]
            assert line.attributes.all()[0].line is line
    # A copy of the lines' queryset reads this basket's lines, in the same order.
    copy = basket.all_lines().filter(quantity__gte=1)
    assert [line.pk for line in copy] == [line.pk for line in lines]
    assert Line.objects.exclude(basket=basket).exists()  # other baskets' lines are left out


def _offer(name, **fields):
    everything = RangeFactory(includes_all_products=True)
    return ConditionalOfferFactory(
        name=name,
        condition=Condition.objects.create(range=everything, type=Condition.COUNT, value=1),
        benefit=Benefit.objects.create(range=everything, type=Benefit.PERCENTAGE, value=5),
        **fields,
    )


def test_site_offers_are_oscars_active_site_offers(db):
    now = timezone.now()
    hour = dt.timedelta(hours=1)
    _offer("Open, no dates")
    _offer("Started, not ended", start_datetime=now - hour, end_datetime=now + hour)
    _offer("Not started", start_datetime=now + hour)
    _offer("Ended", end_datetime=now - hour)
    _offer("Suspended", status=ConditionalOffer.SUSPENDED)
    _offer("A voucher's", offer_type=ConditionalOffer.VOUCHER)
    _offer("Higher priority", priority=5)
    theirs = ConditionalOffer.active.filter(offer_type=ConditionalOffer.SITE).select_related(
        "condition", "benefit"
    )
    mine = SITE_OFFERS.run(timezone.now())
    assert [o.name for o in mine] == [o.name for o in theirs]
    assert {o.name for o in mine} == {"Open, no dates", "Started, not ended", "Higher priority"}
    assert [_fields(o.condition) for o in mine] == [_fields(o.condition) for o in theirs]
    assert [_fields(o.benefit) for o in mine] == [_fields(o.benefit) for o in theirs]
    later = SITE_OFFERS.run(now + 2 * hour)
    assert {o.name for o in later} == {"Open, no dates", "Not started", "Higher priority"}


def test_no_site_offer_is_read_when_none_was_active_with_the_lines(client, demo_personalization):
    def offers_read() -> tuple[str, int]:
        with CaptureQueriesContext(connection) as queries:
            page = client.get("/basket/").content.decode()
        return page, sum(q["sql"].startswith('SELECT "offer_conditionaloffer"') for q in queries)

    fill_basket(client)
    client.get("/basket/")
    assert offers_read()[1] == 0
    offer = _offer("Later", start_datetime=timezone.now() + dt.timedelta(hours=1))
    assert offers_read()[1] == 0  # an offer, not active yet: still none read
    offer.start_datetime = None
    offer.save()
    page, read = offers_read()
    assert read == 1 and '<th scope="row">Later</th>' in page  # active: read once, applied


def test_a_visitors_basket_is_read_with_its_lines_in_one_statement(
    client, demo_personalization, django_assert_num_queries
):
    """open_anonymous_basket: the basket a visitor's cookie names, with its lines as LINES
    reads them (one basket object), in one statement; all_lines takes them once."""
    fill_basket(Client())  # someone else's basket
    fill_basket(client)
    basket = Basket.objects.order_by("pk").last()
    with django_assert_num_queries(1):
        found = open_anonymous_basket(basket_id=basket.pk)
    assert type(found) is Basket and _fields(found) == _fields(basket)
    assert found._state.adding is False and found._state.db == "default"
    with django_assert_num_queries(1):  # the personalisation offers: the lines were read
        lines = list(found.all_lines())
    orm = list(_lines_query(basket.pk, timezone.now()).prefetch_related("attributes"))
    assert [line.pk for line in lines] == [line.pk for line in orm] and len(lines) == 3
    with django_assert_num_queries(0):
        for mine, theirs in zip(lines, orm, strict=True):
            assert mine.basket is found and _fields(mine) == _fields(theirs)
            assert (mine.picture, mine.basket_has_vouchers, mine.site_offers_active) == (
                theirs.picture,
                theirs.basket_has_vouchers,
                theirs.site_offers_active,
            )
            for path in RELATED:
                a, b = _follow(mine, path), _follow(theirs, path)
                assert (a is None) == (b is None) and (a is None or _fields(a) == _fields(b))
            assert [a.pk for a in mine.attributes.all()] == [a.pk for a in theirs.attributes.all()]
    # Taken once: a change to the basket reads its lines again.
    found.reset_offer_applications()
    with django_assert_num_queries(1):
        assert len(found.all_lines()) == 3
    emptied = open_anonymous_basket(basket_id=basket.pk)
    emptied.flush()  # before its lines were asked for
    assert list(emptied.all_lines()) == []


def test_a_visitors_basket_without_lines_or_not_open_is_read_apart_or_not_at_all(
    client, demo_catalogue, django_assert_num_queries
):
    client.post(f"/basket/add/{Product.objects.get(upc='MV-HE-KEY').pk}/", {"quantity": 1})
    basket = Basket.objects.get()
    basket.flush()
    with django_assert_num_queries(2):  # no lines: the basket on its own
        found = open_anonymous_basket(basket_id=basket.pk)
    with django_assert_num_queries(0):
        assert found.pk == basket.pk and list(found.all_lines()) == [] and found.is_empty
    assert open_anonymous_basket(basket_id=basket.pk + 1000) is None
    basket.owner = UserFactory()
    basket.save()
    assert open_anonymous_basket(basket_id=basket.pk) is None  # someone's
    basket.owner = None
    basket.save()
    basket.submit()
    assert open_anonymous_basket(basket_id=basket.pk) is None  # no longer open


def test_a_lines_attributes_queryset_is_the_one_django_builds(client, demo_personalization):
    """prefetched() makes a line's attributes queryset directly (shop.basket.models): the
    same SQL, hints and known line as Django's related manager gives; a copy of it reads
    that line's attributes only, each knowing its line."""
    from shop.basket.models import _reverse_queryset

    fill_basket(client)
    line, other = Line.objects.order_by("pk")[:2]
    mine = _reverse_queryset(line, Line._meta.get_field("attributes"))
    django = line.attributes.all()
    assert type(mine) is type(django) and mine.model is django.model and mine.db == django.db
    assert str(mine.query) == str(django.query) and mine._hints == django._hints
    assert mine._known_related_objects == django._known_related_objects
    copy = list(mine.filter(pk__gte=0))
    assert [a.pk for a in copy] == [a.pk for a in line.attributes.filter(pk__gte=0)]
    assert copy and all(a.line is line for a in copy)
    assert not set(a.pk for a in copy) & set(other.attributes.values_list("pk", flat=True))


def test_the_same_offer_rows_give_the_same_offers_and_views_and_a_change_new_ones(
    demo_personalization,
):
    """The basket's offers are kept per process by the rows they were made from: the same
    rows, the same objects and views (built once); a changed value, new ones."""
    from shop.basket.models import read_personalization_offers
    from shop.personalization.models import PersonalizationValue
    from shop.personalization.selectors import _offers_by_base

    holdall = Product.objects.get(upc="MV-EG-HOL")
    args = ([holdall.pk], [holdall.product_class_id])
    first, again = read_personalization_offers(*args), read_personalization_offers(*args)
    assert first is again
    views = _offers_by_base([holdall], read_rows=read_personalization_offers)[holdall.pk]
    assert all(
        view is other
        for view, other in zip(
            views.values(),
            _offers_by_base([holdall], read_rows=read_personalization_offers)[holdall.pk].values(),
            strict=True,
        )
    )
    value = PersonalizationValue.objects.filter(offer__in=[o.pk for o in first]).first()
    value.label = "Renamed"
    value.save()
    changed = read_personalization_offers(*args)
    assert changed is not first

    def labels(offers):
        return {value.label for offer in offers for value in offer.active_values}

    assert "Renamed" in labels(changed) and "Renamed" not in labels(first)
    fresh = _offers_by_base([holdall], read_rows=read_personalization_offers)[holdall.pk]
    assert fresh == _offers_by_base([holdall])[holdall.pk] != views


def test_a_cookie_naming_a_basket_that_is_not_open_is_dropped(client, demo_catalogue):
    client.post(f"/basket/add/{Product.objects.get(upc='MV-HE-KEY').pk}/", {"quantity": 1})
    basket = Basket.objects.get()
    assert client.get("/basket/").context["basket"].pk == basket.pk
    basket.submit()
    response = client.get("/basket/")
    assert response.context["basket"].pk is None
    cookie = settings.OSCAR_BASKET_COOKIE_OPEN
    assert response.cookies[cookie]["max-age"] == 0
    client.cookies[cookie] = Signer().sign("not-a-number")
    response = client.get("/basket/")
    assert response.status_code == 200 and response.context["basket"].pk is None


def test_a_marker_the_query_does_not_hold_is_refused(db):
    with pytest.raises(ImproperlyConfigured):
        Precompiled(lambda pk: Basket.objects.filter(pk=1), -1).compiled()
    with pytest.raises(ImproperlyConfigured):
        Precompiled(
            lambda pk: Basket.objects.filter(pk=pk).prefetch_related("lines"), -1
        ).compiled()


def test_precompiled_rows_are_the_orms_values_list(demo_catalogue):
    """PrecompiledRows runs a values_list queryset compiled once: the same tuples, the
    fields' converters applied (JSON decoded, the amounts Decimals), for any value."""
    from decimal import Decimal

    from shop.common.precompiled import PrecompiledRows

    def build(pk):
        return (
            Product.objects.filter(pk__gte=pk)
            .order_by("pk")
            .values_list("pk", "title", "listing_facets", "listing_price")
        )

    rows = PrecompiledRows(build, -918273645)
    first, tenth = Product.objects.order_by("pk").values_list("pk", flat=True)[:10:9]
    for start in (first, tenth):
        assert rows.run(start) == list(build(start))
    row = next(r for r in rows.run(first) if r[3] is not None)
    assert isinstance(row[2], dict) and isinstance(row[3], Decimal)
    with pytest.raises(ImproperlyConfigured):
        PrecompiledRows(lambda pk: Product.objects.filter(pk=pk), -1).compiled()
    with pytest.raises(ImproperlyConfigured):
        PrecompiledRows(lambda pk: build(1), -1).compiled()


def _views(views: dict) -> list:
    """Offer views by base, with the order of their values (the product page lists them)."""
    return [
        (
            base,
            kind,
            view.kind,
            view.surcharge,
            view.lead_days,
            view.cost,
            [(group, list(values.items())) for group, values in view.values.items()],
        )
        for base, by_kind in sorted(views.items())
        for kind, view in by_kind.items()
    ]


def test_personalization_offers_read_for_the_basket_are_the_orms(demo_personalization):
    from shop.basket.models import read_personalization_offers
    from shop.personalization.models import PersonalizationOffer, PersonalizationValue
    from shop.personalization.selectors import _offer_base, _offers_by_base

    holdall = Product.objects.get(upc="MV-EG-HOL")
    PersonalizationValue.objects.filter(offer__product=holdall, code="gunmetal").update(
        is_active=False
    )
    PersonalizationOffer.objects.update_or_create(  # switches its class's thread off
        product=holdall,
        kind="thread",
        defaults={"is_active": False, "surcharge": 0, "cost": 0, "lead_days": 0},
    )
    products = Product.objects.filter(
        upc__in=["MV-EG-HOL", "MV-EG-TOT", "MV-EG-BIF", "MV-HE-KEY"]
    ).select_related("parent")
    children = Product.objects.filter(parent__upc="MV-EG-TOT").select_related("parent")[:1]
    assert len(products) == 4 and len(children) == 1
    seen = []
    for group in ([*products, *children], [holdall], list(children)):
        bases = list({_offer_base(p).pk: _offer_base(p) for p in group}.values())
        orm = _offers_by_base(bases)
        assert _views(_offers_by_base(bases, read_rows=read_personalization_offers)) == _views(orm)
        seen.append(orm)
    # What the cases were: the holdall's own inactive thread offer switches its class's off,
    # one of its finishes is no longer offered.
    assert "thread" not in seen[1][holdall.pk]
    assert "gunmetal" not in seen[1][holdall.pk]["hardware"].values.get("finish", {})
    assert "brass" in seen[1][holdall.pk]["hardware"].values.get("finish", {})
    # An offer left with no active value is still read (with none), as the ORM reads it.
    bifold = next(p for p in products if p.upc == "MV-EG-BIF")
    emptied = PersonalizationOffer.objects.filter(
        Q(product=bifold) | Q(product=None, product_class=bifold.product_class),
        values__isnull=False,
    ).first()
    PersonalizationValue.objects.filter(offer=emptied).update(is_active=False)
    orm = _offers_by_base([bifold])
    fast = _offers_by_base([bifold], read_rows=read_personalization_offers)
    assert _views(fast) == _views(orm)
    assert fast[bifold.pk][emptied.kind].values == {}
