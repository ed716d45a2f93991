"""Reads for the workshop: the open job list, an order's jobs, and what a ticket shows."""

from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.text import capfirst

from shop.personalization.models import Kind
from shop.workshop.models import WorkshopJob


def _jobs() -> QuerySet[WorkshopJob]:
    return WorkshopJob.objects.select_related("order", "line").prefetch_related(
        "line__personalizations"
    )


def open_jobs() -> QuerySet[WorkshopJob]:
    """Open and in-progress jobs, soonest due first (then by order number): three queries
    however many jobs there are (jobs with order and line, their choices)."""
    return (
        _jobs()
        .filter(status__in=WorkshopJob.ACTIVE)
        .order_by("due_date", "order__number", "line_id")
    )


def order_jobs(*, order_number: str) -> QuerySet[WorkshopJob]:
    """Every job of one order, in line order."""
    return _jobs().filter(order__number=order_number).order_by("line_id")


def job_get(*, job_id: int) -> WorkshopJob:
    """One job with its order, line, product and recorded choices (404 if missing)."""
    return get_object_or_404(
        WorkshopJob.objects.select_related("order", "line", "line__product").prefetch_related(
            "line__personalizations"
        ),
        pk=job_id,
    )


@dataclass(frozen=True)
class Monogram:
    initials: str
    style: str
    position: str
    description: str


@dataclass(frozen=True)
class Ticket:
    job: WorkshopJob
    colour: str = ""
    monogram: Monogram | None = None
    thread: str = ""
    finish: str = ""
    gift_message: str = ""
    others: list[tuple[str, str]] = field(default_factory=list)


def job_ticket(*, job: WorkshopJob) -> Ticket:
    """What the maker needs, from the choices recorded at placement (never today's offers)."""
    monogram = None
    thread = finish = gift_message = ""
    others: list[tuple[str, str]] = []
    for row in job.line.personalizations.all():
        if row.kind == Kind.MONOGRAM:
            monogram = _monogram(row)
        elif row.kind == Kind.THREAD:
            thread = row.description
        elif row.kind == Kind.HARDWARE:
            finish = row.description
        elif row.kind == Kind.GIFT_MESSAGE:
            gift_message = row.data.get("message") or row.description
        else:
            others.append((row.get_kind_display(), row.description))
    return Ticket(
        job=job,
        colour=_colour(job.line.product_id),
        monogram=monogram,
        thread=thread,
        finish=finish,
        gift_message=gift_message,
        others=others,
    )


def _monogram(row) -> Monogram:
    """Initials from the recorded data; style and position labels from the recorded
    description ("AB, gold foil, front corner"), falling back to their codes."""
    initials = row.data.get("initials", "")
    style, position = row.data.get("style", ""), row.data.get("position", "")
    prefix = f"{initials}, "
    if initials and row.description.startswith(prefix):
        rest = row.description[len(prefix) :]
        if not position:
            style = rest
        elif ", " in rest:
            style, position = rest.rsplit(", ", 1)
    return Monogram(
        initials=initials,
        style=capfirst(style),
        position=capfirst(position),
        description=row.description,
    )


def _colour(product_id: int | None) -> str:
    """The product's (or variant's) colour attribute, if it has one."""
    if product_id is None:
        return ""
    from shop.catalogue.models import ProductAttributeValue

    value = (
        ProductAttributeValue.objects.filter(product_id=product_id, attribute__code="colour")
        .values_list("value_text", flat=True)
        .first()
    )
    return value or ""
