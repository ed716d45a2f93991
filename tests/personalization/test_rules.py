"""Validation and pricing rules, property-based where the input space is large."""

import string
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.personalization.models import Kind
from shop.personalization.rules import (
    BLOCKED_INITIALS,
    Choices,
    OfferView,
    PersonalizationError,
    ValueView,
    clean_gift_message,
    clean_initials,
    quote,
    validate,
)

D = Decimal


def _value(code, surcharge="0.00", cost="0.00", lead=0, label=None):
    return ValueView(
        code=code,
        label=label or code.title(),
        hex="",
        surcharge=D(surcharge),
        cost=D(cost),
        lead_days=lead,
    )


OFFERS = {
    Kind.MONOGRAM: OfferView(
        kind=Kind.MONOGRAM,
        surcharge=D("0.00"),
        cost=D("0.00"),
        lead_days=3,
        values={
            "style": {
                "deboss": _value("deboss", "10.00", "3.30"),
                "foil": _value("foil", "15.00", "5.00"),
            },
            "position": {"front": _value("front"), "inside": _value("inside")},
        },
    ),
    Kind.THREAD: OfferView(
        kind=Kind.THREAD,
        surcharge=D("0.00"),
        cost=D("0.50"),
        lead_days=1,
        values={
            "colour": {c: _value(c) for c in ("natural", "oxblood", "forest", "navy", "charcoal")},
        },
    ),
    Kind.HARDWARE: OfferView(
        kind=Kind.HARDWARE,
        surcharge=D("12.00"),
        cost=D("4.00"),
        lead_days=2,
        values={
            "finish": {c: _value(c) for c in ("brass", "nickel", "gunmetal")},
        },
    ),
    Kind.GIFT_MESSAGE: OfferView(
        kind=Kind.GIFT_MESSAGE, surcharge=D("0.00"), cost=D("0.30"), lead_days=0
    ),
}
ALLOWED = [
    w
    for w in ("".join(p) for p in [("A",), ("A", "B"), ("M", "V", "W")])
    if w not in BLOCKED_INITIALS
]


@given(st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=3))
def test_one_to_three_capital_letters_are_accepted_unless_blocked(initials):
    if initials in BLOCKED_INITIALS:
        with pytest.raises(PersonalizationError) as exc:
            clean_initials(initials)
        assert "can't stamp" in exc.value.errors["initials"]
    else:
        assert clean_initials(initials) == initials


@given(st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=3))
def test_lower_case_letters_are_capitalised(initials):
    if initials.upper() not in BLOCKED_INITIALS:
        assert clean_initials(initials) == initials.upper()


@given(st.text(alphabet=string.ascii_letters, min_size=4, max_size=30))
def test_more_than_three_letters_are_refused(initials):
    with pytest.raises(PersonalizationError) as exc:
        clean_initials(initials)
    assert exc.value.errors["initials"] == "Please use at most 3 letters."


NOT_A_TO_Z = st.characters().filter(
    lambda c: c not in string.ascii_letters + "." and not c.isspace()
)


@given(st.text(alphabet=string.ascii_letters, max_size=1), NOT_A_TO_Z, st.text(max_size=1))
def test_anything_but_letters_a_to_z_is_refused(before, odd, after):
    with pytest.raises(PersonalizationError) as exc:
        clean_initials(before + odd + after)
    assert "initials" in exc.value.errors


@given(st.text(max_size=140).filter(lambda s: all(c == "\n" or c.isprintable() for c in s)))
def test_printable_gift_messages_up_to_140_are_kept(message):
    cleaned_in = message.replace("\r", "")
    if cleaned_in.strip().count("\n") > 4:
        return
    try:
        cleaned = clean_gift_message(message)
    except PersonalizationError as exc:
        # Only unassigned/private-use/format code points may still be refused.
        assert "cannot print" in exc.value.errors["gift_message"]
        return
    assert len(cleaned) <= 140
    assert cleaned == cleaned.strip()


@given(st.text(min_size=141, max_size=400).filter(lambda s: len(s.strip()) > 140))
def test_gift_messages_over_140_are_refused(message):
    with pytest.raises(PersonalizationError):
        clean_gift_message(message)


@given(
    st.text(max_size=60),
    st.sampled_from(["\x00", "\x07", "\x1b", "\u200b", "\u202e", "\x7f"]),
    st.text(max_size=60),
)
def test_control_characters_in_gift_messages_are_refused(before, control, after):
    with pytest.raises(PersonalizationError) as exc:
        clean_gift_message(before + control + "x" + after)
    assert "gift_message" in exc.value.errors


def test_quote_adds_each_surcharge_and_takes_the_longest_lead_time():
    choices = validate(
        offers=OFFERS,
        data={
            "initials": "mvw",
            "style": "foil",
            "position": "front",
            "thread": "navy",
            "finish": "brass",
            "gift_message": "Happy birthday\r\nLove, Sam",
        },
    )
    assert choices == Choices(
        initials="MVW",
        style="foil",
        position="front",
        thread="navy",
        finish="brass",
        gift_message="Happy birthday\nLove, Sam",
    )
    q = quote(offers=OFFERS, choices=choices)
    assert [i.kind for i in q.items] == ["monogram", "thread", "hardware", "gift_message"]
    assert q.surcharge == D("27.00")  # foil 15 + hardware 12
    assert q.cost == D("9.80")  # 5.00 + 0.50 + 4.00 + 0.30
    assert q.lead_days == 3
    assert q.made_to_order


@pytest.mark.parametrize(
    "data,field",
    [
        ({"initials": "AB"}, "style"),  # a monogram needs a style
        ({"initials": "AB", "style": "laser"}, "style"),  # not offered
        ({"initials": "AB", "style": "foil", "position": "sleeve"}, "position"),
        ({"thread": "pink"}, "thread"),  # outside the palette
        ({"finish": "gold"}, "finish"),
        ({"style": "foil"}, "initials"),  # a style without initials
        ({"initials": "A1"}, "initials"),
        ({"initials": "ÀB"}, "initials"),
        ({"initials": "ABCD"}, "initials"),
        ({"initials": "KKK", "style": "foil", "position": "front"}, "initials"),
        ({"gift_message": "x" * 141}, "gift_message"),
        ({"gift_message": "hi\x00"}, "gift_message"),
    ],
)
def test_validate_refuses_with_a_message_on_the_field(data, field):
    with pytest.raises(PersonalizationError) as exc:
        validate(offers=OFFERS, data=data)
    assert field in exc.value.errors and exc.value.errors[field]


def test_options_the_product_does_not_offer_are_refused():
    offers = {Kind.THREAD: OFFERS[Kind.THREAD]}
    for data, field in (
        ({"initials": "AB", "style": "foil"}, "initials"),
        ({"finish": "brass"}, "finish"),
        ({"gift_message": "hello"}, "gift_message"),
    ):
        with pytest.raises(PersonalizationError) as exc:
            validate(offers=offers, data=data)
        assert field in exc.value.errors


def test_non_string_values_are_treated_as_missing():
    assert validate(offers=OFFERS, data={"initials": ["A"], "thread": None}) == Choices()


@given(
    initials=st.sampled_from(["", "A", "MV", "JRR"]),
    style=st.sampled_from(["deboss", "foil"]),
    thread=st.sampled_from(["", "natural", "navy"]),
    finish=st.sampled_from(["", "brass", "gunmetal"]),
)
def test_line_value_round_trips_and_is_canonical(initials, style, thread, finish):
    choices = Choices(
        initials=initials, style=style if initials else "", thread=thread, finish=finish
    )
    value = choices.as_line_value()
    assert list(value) == sorted(value)
    assert Choices.from_line_value(value) == choices
    q = quote(offers=OFFERS, choices=choices)
    expected = (D("15.00") if style == "foil" else D("10.00")) if initials else D("0")
    expected += D("12.00") if finish else D("0")
    assert q.surcharge == expected
