"""The report's interval and verdict, pure, on numbers worked by hand."""

import pytest

from shop.experiments import stats


def test_interval_of_a_clear_win():
    # Control 20/200 = 0.10, variant 40/200 = 0.20: difference 0.10.
    # se = sqrt(0.2·0.8/200 + 0.1·0.9/200) = sqrt(0.0008 + 0.00045) = sqrt(0.00125)
    #    = 0.0353553; 1.96·se = 0.0692965 → [0.0307035, 0.1692965].
    interval = stats.difference_interval(
        control_visitors=200, control_conversions=20, visitors=200, conversions=40
    )
    assert interval.difference == pytest.approx(0.10)
    assert interval.low == pytest.approx(0.0307035, abs=1e-6)
    assert interval.high == pytest.approx(0.1692965, abs=1e-6)
    assert interval.excludes_zero()


def test_interval_that_straddles_zero():
    # Control 10/100 = 0.10, variant 12/100 = 0.12: difference 0.02.
    # se = sqrt(0.12·0.88/100 + 0.1·0.9/100) = sqrt(0.001056 + 0.0009) = sqrt(0.001956)
    #    = 0.0442267; 1.96·se = 0.0866843 → [−0.0666843, 0.1066843].
    interval = stats.difference_interval(
        control_visitors=100, control_conversions=10, visitors=100, conversions=12
    )
    assert interval.low == pytest.approx(-0.0666843, abs=1e-6)
    assert interval.high == pytest.approx(0.1066843, abs=1e-6)
    assert not interval.excludes_zero()


def test_no_interval_without_visitors():
    assert (
        stats.difference_interval(
            control_visitors=0, control_conversions=0, visitors=10, conversions=1
        )
        is None
    )


def _row(label, visitors, conversions, control_visitors=200, control_conversions=20):
    return {
        "label": label,
        "visitors": visitors,
        "conversions": conversions,
        "is_control": False,
        "interval": stats.difference_interval(
            control_visitors=control_visitors,
            control_conversions=control_conversions,
            visitors=visitors,
            conversions=conversions,
        ),
    }


CONTROL = {"label": "As today", "visitors": 200, "conversions": 20, "is_control": True}


def test_verdicts():
    assert stats.verdict([CONTROL, _row("Promise", 200, 40)]) == [
        "Promise converts better than control"
    ]
    # 12/300 = 0.04 against 0.10: difference −0.06, 1.96·se = 1.96·sqrt(0.04·0.96/300 +
    # 0.1·0.9/200) = 1.96·0.0240416 = 0.0471215 → [−0.1071, −0.0129]: worse.
    assert stats.verdict([CONTROL, _row("Promise", 300, 12)]) == [
        "Promise converts worse than control"
    ]
    assert stats.verdict([CONTROL, _row("Promise", 200, 22)]) == ["No clear difference"]


def test_not_enough_data_until_every_variant_has_100_visitors_and_10_conversions():
    assert stats.verdict([CONTROL, _row("Promise", 99, 40)]) == ["Not enough data yet"]
    assert stats.verdict([CONTROL, _row("Promise", 200, 9)]) == ["Not enough data yet"]
    small_control = {**CONTROL, "visitors": 99}
    assert stats.verdict([small_control, _row("Promise", 200, 80)]) == ["Not enough data yet"]
