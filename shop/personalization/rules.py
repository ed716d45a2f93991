"""The personalization rules as pure functions: validation and pricing. No database access:
callers pass the product's offers (see selectors.offers_for_product)."""

import re
import unicodedata
from dataclasses import dataclass, field, fields
from decimal import Decimal

from shop.personalization.models import Kind, ValueGroup

MAX_INITIALS = 3
MAX_GIFT_MESSAGE = 140
INITIALS_RE = re.compile(r"[A-Z]{1,3}")
# Initials we will not stamp into leather. Kept short and plain on purpose.
BLOCKED_INITIALS = frozenset(
    {"ASS", "CUM", "DIK", "FAG", "FCK", "FUK", "KKK", "NGR", "PIS", "SHT", "TIT", "WTF", "SS"}
)


def makes_to_order(kind: str) -> bool:
    """The made-to-order rule: every personalisation but a gift message means the piece is
    made for this customer (no change-of-mind return). The one place it is written; the
    other shapes below (choices, order-line rows) ask it."""
    return kind != Kind.GIFT_MESSAGE


# The choice fields of each kind (Choices below).
KIND_FIELDS = {
    Kind.MONOGRAM: ("initials", "style", "position"),
    Kind.THREAD: ("thread",),
    Kind.HARDWARE: ("finish",),
    Kind.GIFT_MESSAGE: ("gift_message",),
}


class PersonalizationError(ValueError):
    """Raised with `errors`: {field name: message} for the shopper."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class ValueView:
    code: str
    label: str
    hex: str
    surcharge: Decimal
    cost: Decimal
    lead_days: int


@dataclass(frozen=True)
class OfferView:
    kind: str
    surcharge: Decimal
    cost: Decimal
    lead_days: int
    values: dict[str, dict[str, ValueView]] = field(default_factory=dict)  # group -> code -> value


@dataclass(frozen=True)
class Choices:
    """What the shopper chose. Empty strings mean "not chosen"."""

    initials: str = ""
    style: str = ""
    position: str = ""
    thread: str = ""
    finish: str = ""
    gift_message: str = ""

    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in CHOICE_FIELDS)

    @property
    def made_to_order(self) -> bool:
        return any(
            getattr(self, name)
            for kind, names in KIND_FIELDS.items()
            if makes_to_order(kind)
            for name in names
        )

    def as_line_value(self) -> dict[str, str]:
        """Canonical form stored on basket/order lines (sorted keys, only what was chosen),
        so identical choices give identical line references and merge."""
        return {name: v for name in sorted(CHOICE_FIELDS) if (v := getattr(self, name))}

    @classmethod
    def from_line_value(cls, value: object) -> "Choices":
        if not isinstance(value, dict):
            return cls()
        known = cls.__dataclass_fields__
        return cls(**{k: str(v) for k, v in value.items() if k in known})


# Choices' fields (plain strings: reading them needs no deep copy, as asdict makes).
CHOICE_FIELDS = tuple(f.name for f in fields(Choices))


@dataclass(frozen=True)
class QuoteItem:
    kind: str
    description: str
    surcharge: Decimal
    cost: Decimal
    lead_days: int
    data: dict[str, str]


@dataclass(frozen=True)
class Quote:
    items: tuple[QuoteItem, ...] = ()

    @property
    def surcharge(self) -> Decimal:
        return sum((i.surcharge for i in self.items), Decimal("0.00"))

    @property
    def cost(self) -> Decimal:
        return sum((i.cost for i in self.items), Decimal("0.00"))

    @property
    def lead_days(self) -> int:
        # The workshop does every choice on the piece in one job: the longest one sets the date.
        return max((i.lead_days for i in self.items), default=0)

    @property
    def made_to_order(self) -> bool:
        return any(makes_to_order(i.kind) for i in self.items)


def clean_initials(raw: str) -> str:
    # People type "J. R." or "j r": spaces and full stops are dropped, letters capitalised.
    initials = "".join(unicodedata.normalize("NFC", raw).split()).replace(".", "")
    initials = initials.upper() if initials.isascii() else initials
    if not initials:
        return ""
    if len(initials) > MAX_INITIALS:
        raise PersonalizationError({"initials": "Please use at most 3 letters."})
    if not INITIALS_RE.fullmatch(initials):
        raise PersonalizationError(
            {
                "initials": "Initials can only use the letters A to Z "
                "(no numbers, accents or symbols)."
            }
        )
    if initials in BLOCKED_INITIALS:
        raise PersonalizationError(
            {"initials": "We're sorry, we can't stamp those initials. Please choose others."}
        )
    return initials


def clean_gift_message(raw: str) -> str:
    message = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(message) > MAX_GIFT_MESSAGE:
        raise PersonalizationError(
            {
                "gift_message": f"Please keep the message to {MAX_GIFT_MESSAGE} characters "
                f"(it has {len(message)})."
            }
        )
    for char in message:
        if char != "\n" and unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            raise PersonalizationError(
                {"gift_message": "The message contains characters we cannot print on the card."}
            )
    if message.count("\n") > 4:
        raise PersonalizationError({"gift_message": "Please keep the message to 5 lines or fewer."})
    return message


def validate(*, offers: dict[str, OfferView], data: dict[str, str]) -> Choices:
    """Turn what the page sent into Choices, or raise PersonalizationError per field.

    Anything the product does not offer, or a value outside its list, is refused.
    """
    errors: dict[str, str] = {}

    def text(name: str) -> str:
        value = data.get(name, "")
        return value if isinstance(value, str) else ""

    def pick(name: str, kind: str, group: str, required: bool) -> str:
        code = text(name).strip()
        if not code:
            if required:
                errors[name] = "Please choose one."
            return ""
        offer = offers.get(kind)
        if offer is None:
            errors[name] = "This product does not offer that."
            return ""
        if code not in offer.values.get(group, {}):
            errors[name] = "Please choose one of the options shown."
            return ""
        return code

    initials = style = position = gift = ""
    try:
        initials = clean_initials(text("initials"))
    except PersonalizationError as exc:
        errors.update(exc.errors)
    monogram = offers.get(Kind.MONOGRAM)
    if initials and monogram is None:
        errors["initials"] = "This product cannot be monogrammed."
    if (initials or text("style")) and monogram is not None:
        style = pick("style", Kind.MONOGRAM, ValueGroup.STYLE, required=bool(initials))
        has_positions = bool(monogram.values.get(ValueGroup.POSITION))
        position = pick(
            "position",
            Kind.MONOGRAM,
            ValueGroup.POSITION,
            required=bool(initials) and has_positions,
        )
        if not initials and "initials" not in errors:
            errors["initials"] = "Please enter the initials to stamp, or choose no monogram."
    elif text("position").strip():
        errors["position"] = "A position only applies to a monogram."
    thread = pick("thread", Kind.THREAD, ValueGroup.COLOUR, required=False)
    finish = pick("finish", Kind.HARDWARE, ValueGroup.FINISH, required=False)
    try:
        gift = clean_gift_message(text("gift_message"))
    except PersonalizationError as exc:
        errors.update(exc.errors)
    if gift and Kind.GIFT_MESSAGE not in offers:
        errors["gift_message"] = "This product cannot carry a gift message."
    if errors:
        raise PersonalizationError(errors)
    return Choices(
        initials=initials,
        style=style,
        position=position,
        thread=thread,
        finish=finish,
        gift_message=gift,
    )


def quote(*, offers: dict[str, OfferView], choices: Choices) -> Quote:
    """Price the choices against the offers. Raises PersonalizationError for a choice that is
    no longer offered (e.g. a basket line whose option staff switched off)."""
    items: list[QuoteItem] = []

    def value(kind: str, group: str, code: str) -> ValueView:
        offer = offers.get(kind)
        found = offer.values.get(group, {}).get(code) if offer else None
        if found is None:
            raise PersonalizationError({group: "That choice is no longer offered."})
        return found

    if choices.initials:
        offer = offers.get(Kind.MONOGRAM)
        if offer is None:
            raise PersonalizationError(
                {"initials": "Monograms are no longer offered on this product."}
            )
        style = value(Kind.MONOGRAM, ValueGroup.STYLE, choices.style)
        parts = [style]
        description = f"{choices.initials}, {style.label.lower()}"
        if choices.position:
            pos = value(Kind.MONOGRAM, ValueGroup.POSITION, choices.position)
            parts.append(pos)
            description += f", {pos.label.lower()}"
        items.append(
            _item(
                Kind.MONOGRAM,
                description,
                offer,
                parts,
                {
                    "initials": choices.initials,
                    "style": choices.style,
                    "position": choices.position,
                },
            )
        )
    for kind, group, code in (
        (Kind.THREAD, ValueGroup.COLOUR, choices.thread),
        (Kind.HARDWARE, ValueGroup.FINISH, choices.finish),
    ):
        if code:
            chosen = value(kind, group, code)
            items.append(_item(kind, chosen.label, offers[kind], [chosen], {group: code}))
    if choices.gift_message:
        offer = offers.get(Kind.GIFT_MESSAGE)
        if offer is None:
            raise PersonalizationError(
                {"gift_message": "Gift messages are no longer offered here."}
            )
        items.append(
            _item(
                Kind.GIFT_MESSAGE,
                choices.gift_message,
                offer,
                [],
                {"message": choices.gift_message},
            )
        )
    return Quote(items=tuple(items))


def _item(
    kind: str, description: str, offer: OfferView, values: list[ValueView], data: dict
) -> QuoteItem:
    return QuoteItem(
        kind=str(kind),
        description=description,
        surcharge=offer.surcharge + sum((v.surcharge for v in values), Decimal("0.00")),
        cost=offer.cost + sum((v.cost for v in values), Decimal("0.00")),
        lead_days=max([offer.lead_days, *(v.lead_days for v in values)]),
        data={k: v for k, v in data.items() if v},
    )
