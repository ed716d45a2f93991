"""Staff screens of experiments under /dashboard/experiments/: the list, create and edit,
start and stop (POST), and each experiment's report. Looking needs
`experiments.view_experiment`; changing anything `experiments.run_experiments` (others get
403, anonymous visitors the dashboard login)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from oscar.views.decorators import permissions_required

from shop.experiments import selectors, services
from shop.experiments.forms import ExperimentForm
from shop.experiments.models import Experiment

LOGIN = reverse_lazy("dashboard:login")
VIEW_PERMS = ["is_staff", "experiments.view_experiment"]
RUN_PERMS = ["is_staff", "experiments.run_experiments"]
view_required = permissions_required(VIEW_PERMS, login_url=LOGIN)
run_required = permissions_required(RUN_PERMS, login_url=LOGIN)


def _message(exc: Exception) -> str:
    return " ".join(getattr(exc, "messages", None) or [str(exc)])


@view_required
@require_GET
def experiment_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "shop/experiments/list.html",
        {
            "experiments": selectors.experiment_list(),
            "can_run": request.user.has_perm("experiments.run_experiments"),
        },
    )


def _save(request: HttpRequest, experiment: Experiment | None) -> HttpResponse:
    form = ExperimentForm(request.POST or None, experiment=experiment)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = services.experiment_save(
                experiment=experiment,
                name=data["name"],
                title=data["title"],
                description=data["description"],
                audience=data["audience"],
                segment=data.get("segment") or "",
                goal=data["goal"],
                starts_at=data.get("starts_at"),
                ends_at=data.get("ends_at"),
                variants=data["variants"],
            )
        except (ValidationError, services.ExperimentRefused) as exc:
            form.add_error(None, _message(exc))
        except IntegrityError:  # the same name saved a moment ago in another window
            form.add_error("name", "An experiment with this name exists already.")
        else:
            messages.success(request, f"Experiment “{saved.title}” saved.")
            return redirect("experiments-dashboard:list")
    return render(
        request,
        "shop/experiments/form.html",
        {"form": form, "experiment": experiment},
        status=400 if form.errors else 200,
    )


@run_required
@require_http_methods(["GET", "POST"])
def experiment_create(request: HttpRequest) -> HttpResponse:
    return _save(request, None)


@run_required
@require_http_methods(["GET", "POST"])
def experiment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _save(request, get_object_or_404(Experiment, pk=pk))


def _transition(request: HttpRequest, pk: int, service, done: str) -> HttpResponse:
    """Start or stop (POST): call the service, say what happened, back to the list."""
    experiment = get_object_or_404(Experiment, pk=pk)
    try:
        service(experiment=experiment)
    except services.ExperimentRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Experiment “{experiment.title}” {done}.")
    return redirect("experiments-dashboard:list")


@run_required
@require_POST
def experiment_start(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(request, pk, services.experiment_start, "started")


@run_required
@require_POST
def experiment_stop(request: HttpRequest, pk: int) -> HttpResponse:
    return _transition(request, pk, services.experiment_stop, "stopped")


@view_required
@require_GET
def experiment_report(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = get_object_or_404(Experiment.objects.prefetch_related("variants"), pk=pk)
    return render(
        request,
        "shop/experiments/report.html",
        {
            "experiment": experiment,
            "report": selectors.experiment_report(experiment=experiment),
            "can_run": request.user.has_perm("experiments.run_experiments"),
        },
    )
