"""Experiments' test helpers: a real browser-like client (a user agent, the consent and
visitor cookies growth reads), experiments made through the services, and visitor ids
chosen by the hash so a test knows which variant each one sees."""

from __future__ import annotations

import itertools

import pytest
from django.test import Client

from shop.experiments.hashing import pick
from shop.experiments.selectors import experiments_forget
from shop.experiments.services import VariantSpec, experiment_save, experiment_start

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Firefox/128.0"


@pytest.fixture(autouse=True)
def _experiments_forgotten():
    """Each process keeps the running experiments for a few seconds: not across tests."""
    experiments_forget()
    yield
    experiments_forget()


def vid(n: int) -> str:
    """A well-formed visitor id (22 characters of the cookie's alphabet)."""
    return f"t{n:021d}"


def vids_for(name: str, variants: list[tuple[str, int]], key: str, count: int = 1) -> list[str]:
    """Visitor ids whose hash gives `key` in the experiment."""
    found = (v for v in map(vid, itertools.count()) if pick(name, v, variants) == key)
    return list(itertools.islice(found, count))


def browser(visitor: str | None = None, *, consent: str | None = "analytics", agent=UA) -> Client:
    client = Client(HTTP_USER_AGENT=agent) if agent else Client()
    if consent:
        client.cookies["mv_consent"] = consent
    if visitor:
        client.cookies["mv_vid"] = visitor
    return client


def make_experiment(
    name: str = "takeback-promise",
    *,
    variants: list[tuple[str, int]] | None = None,
    audience: str = "all",
    segment: str = "",
    goal: str = "add_to_basket",
    start: bool = True,
    starts_at=None,
    ends_at=None,
):
    variants = variants or [("control", 50), ("promise", 50)]
    experiment = experiment_save(
        experiment=None,
        name=name,
        title=name.replace("-", " ").capitalize(),
        description="",
        audience=audience,
        segment=segment,
        goal=goal,
        starts_at=starts_at,
        ends_at=ends_at,
        variants=[VariantSpec(key, weight) for key, weight in variants],
    )
    if start:
        experiment = experiment_start(experiment=experiment)
    experiments_forget()  # the services forget on commit; tests run in one transaction
    return experiment
