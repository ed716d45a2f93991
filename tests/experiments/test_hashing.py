"""A visitor's variant is a weighted hash: weights are respected, and the report's SQL gives
every visitor the same variant as the pages' Python."""

from collections import Counter

import pytest
from django.db import connection

from shop.experiments.hashing import bucket, pick
from shop.experiments.selectors import bucket_sql
from tests.experiments.conftest import vid

VARIANTS = [("control", 1), ("blue", 2), ("green", 7)]


def test_weights_are_respected_within_tolerance_over_10000_ids():
    counts = Counter(pick("sort-test", vid(n), VARIANTS) for n in range(10_000))
    # Expected 1,000 / 2,000 / 7,000; 4 standard deviations of a binomial is under 200.
    assert abs(counts["control"] - 1000) < 120
    assert abs(counts["blue"] - 2000) < 160
    assert abs(counts["green"] - 7000) < 190


def test_the_same_visitor_always_gets_the_same_variant_and_names_mix_differently():
    assert {pick("sort-test", vid(7), VARIANTS) for _ in range(5)} == {
        pick("sort-test", vid(7), VARIANTS)
    }
    first = [pick("a-test", vid(n), [("control", 1), ("b", 1)]) for n in range(200)]
    second = [pick("b-test", vid(n), [("control", 1), ("b", 1)]) for n in range(200)]
    assert first != second


@pytest.mark.django_db
def test_python_and_sql_agree_on_many_ids():
    ids = [vid(n) for n in range(3000)] + ["AbC-_xyz0123456789abcd", "-" * 22]
    sql = "SELECT v, {bucket} FROM unnest(%(ids)s::text[]) AS v".format(
        bucket=bucket_sql(name_param="%(name)s", visitor_column="v", total_column="%(total)s")
    )
    for name, total in (("takeback-promise", 100), ("sort-test", 10), ("x", 997)):
        with connection.cursor() as cursor:
            cursor.execute(sql, {"ids": ids, "name": name, "total": total})
            from_sql = dict(cursor.fetchall())
        assert from_sql == {v: bucket(name, v, total) for v in ids}
