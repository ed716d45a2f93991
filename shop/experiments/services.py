"""Changing experiments: create and edit (while a draft), start, stop, the account's
assignment on sign-in, and the demo experiment. Every change makes the request path read
the running experiments again (selectors.experiments_forget, after commit)."""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from shop.experiments.hashing import pick
from shop.experiments.models import CONTROL, Assignment, Experiment, Variant
from shop.experiments.selectors import (
    ACCOUNT_KEY,
    ACCOUNT_SECONDS,
    Audience,
    experiments_forget,
    live_experiments,
)
from shop.growth.visitor import analytics_allowed, visitor_id

logger = logging.getLogger(__name__)

DEMO_NAME = "takeback-promise"


class ExperimentRefused(ValueError):
    """A change the experiment's state does not allow; the message is for staff."""


@dataclass(frozen=True)
class VariantSpec:
    key: str
    weight: int
    label: str = ""


def _variants_replace(experiment: Experiment, variants: list[VariantSpec]) -> None:
    if not variants or variants[0].key != CONTROL:
        raise ExperimentRefused("The first variant must be the control, named “control”.")
    experiment.variants.all().delete()
    Variant.objects.bulk_create(
        Variant(
            experiment=experiment,
            key=spec.key,
            label=spec.label,
            weight=spec.weight,
            position=position,
            is_control=position == 0,
        )
        for position, spec in enumerate(variants)
    )


def experiment_save(
    *,
    experiment: Experiment | None,
    name: str,
    title: str,
    description: str,
    audience: str,
    segment: str,
    goal: str,
    starts_at: datetime.datetime | None,
    ends_at: datetime.datetime | None,
    variants: list[VariantSpec] | None,
) -> Experiment:
    """Create an experiment (experiment=None) or edit one. Once it has started, only its
    title, description and stop time can change: its name, audience, goal, start and
    variants decide who saw what, and the report reads them."""
    with transaction.atomic():
        if experiment is None:
            experiment = Experiment()
        else:
            experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
        draft = experiment.status == Experiment.Status.DRAFT
        experiment.title, experiment.description = title, description
        if experiment.status != Experiment.Status.STOPPED:
            experiment.ends_at = ends_at
        if draft:
            experiment.name, experiment.audience, experiment.goal = name, audience, goal
            experiment.segment = segment if audience == Experiment.Audience.SEGMENT else ""
            experiment.starts_at = starts_at
        experiment.full_clean()
        experiment.save()
        if draft and variants is not None:
            _variants_replace(experiment, variants)
        transaction.on_commit(experiments_forget)
    return experiment


def experiment_start(*, experiment: Experiment, now: datetime.datetime | None = None) -> Experiment:
    """Draft → running, from its start time (now when it had none or it has passed)."""
    now = now or timezone.now()
    with transaction.atomic():
        experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
        if experiment.status != Experiment.Status.DRAFT:
            raise ExperimentRefused("Only a draft can be started; a stopped test stays stopped.")
        if experiment.variants.count() < 2:
            raise ExperimentRefused("An experiment needs a control and at least one variant.")
        if experiment.ends_at is not None and experiment.ends_at <= now:
            raise ExperimentRefused("Its stop time has passed: set a later one first.")
        if experiment.starts_at is None or experiment.starts_at < now:
            experiment.starts_at = now
        experiment.status = Experiment.Status.RUNNING
        experiment.save(update_fields=["status", "starts_at", "updated_at"])
        transaction.on_commit(experiments_forget)
    return experiment


def experiment_stop(*, experiment: Experiment, now: datetime.datetime | None = None) -> Experiment:
    """Running → stopped, now (its report keeps the data up to now)."""
    now = now or timezone.now()
    with transaction.atomic():
        experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
        if experiment.status != Experiment.Status.RUNNING:
            raise ExperimentRefused("Only a running experiment can be stopped.")
        experiment.status = Experiment.Status.STOPPED
        if experiment.ends_at is None or experiment.ends_at > now:
            experiment.ends_at = max(now, experiment.starts_at or now)
            if experiment.starts_at and experiment.ends_at <= experiment.starts_at:
                experiment.starts_at = None  # stopped before it began: no window at all
        experiment.save(update_fields=["status", "starts_at", "ends_at", "updated_at"])
        transaction.on_commit(experiments_forget)
    return experiment


def assignments_on_sign_in(*, request: HttpRequest | None, user) -> dict[str, str]:
    """An account signed in (or registered) in a browser that may be counted. For each live
    experiment: if the account already has a variant, it wins from now on (this browser is
    told to show it, also when signed out again); otherwise the account takes this browser's
    variant, if it is in the experiment's audience. Returns the account's variants by name."""
    if request is None or not analytics_allowed(request):
        return {}
    experiments = live_experiments()
    if not experiments:
        return {}
    vid = visitor_id(request)
    audience = Audience(vid=vid, user_id=user.pk)
    hashed = {e.name: pick(e.name, vid, e.variants) for e in experiments} if vid else {}
    chosen: dict[str, str] = {}
    with transaction.atomic():
        existing = {
            a.experiment_id: a.variant.key
            for a in Assignment.objects.filter(
                user=user, experiment_id__in=[e.id for e in experiments]
            ).select_related("variant")
        }
        for exp in experiments:
            if exp.id in existing:
                chosen[exp.name] = existing[exp.id]
                continue
            if vid is None or not audience.includes(exp):
                continue
            key = hashed[exp.name]
            variant_id = exp.variant_ids[[k for k, _ in exp.variants].index(key)]
            assignment, _ = Assignment.objects.get_or_create(
                experiment_id=exp.id,
                user=user,
                defaults={"variant_id": variant_id, "visitor_id": vid},
            )
            chosen[exp.name] = (
                key if assignment.variant_id == variant_id else assignment.variant.key
            )
        if vid is not None:
            differing = {n: k for n, k in chosen.items() if k != hashed[n]}
            matching = {n for n, k in chosen.items() if k == hashed[n]}
            transaction.on_commit(lambda: _browser_follows_account(vid, differing, matching))
    request._mv_variants = None  # this request reads them again, signed in
    return chosen


def _browser_follows_account(vid: str, differing: dict[str, str], matching: set[str]) -> None:
    """Remember, for this browser's signed-out pages, the account variants that differ
    from its own hash (no database read on those pages); forget those that now match."""
    key = ACCOUNT_KEY.format(vid)
    try:
        current = cache.get(key) or {}
        merged = {n: k for n, k in current.items() if n not in matching} | differing
        if merged:
            cache.set(key, merged, timeout=ACCOUNT_SECONDS)
        elif current:
            cache.delete(key)
    except Exception:
        logger.warning("experiments: could not remember browser %s", vid, exc_info=True)


def experiment_demo_ensure() -> Experiment:
    """The demo's running experiment (idempotent): the take-back promise on the product
    page or not, half and half, judged on adding to the basket."""
    existing = Experiment.objects.filter(name=DEMO_NAME).first()
    if existing is not None:
        return existing
    experiment = experiment_save(
        experiment=None,
        name=DEMO_NAME,
        title="Take-back promise on the product page",
        description=(
            "Does showing the take-back promise beside the basket button on Evergreen product "
            "pages make more visitors add the piece to their basket?"
        ),
        audience=Experiment.Audience.ALL,
        segment="",
        goal="add_to_basket",
        starts_at=None,
        ends_at=None,
        variants=[
            VariantSpec(CONTROL, 50, "As today"),
            VariantSpec("promise", 50, "Take-back promise shown"),
        ],
    )
    return experiment_start(experiment=experiment)
