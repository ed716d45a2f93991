"""Staff screens of growth under /dashboard/growth/: the funnel report (and its CSV). Who may
see it: active staff with `growth.view_funnel` (superusers have it). Anonymous visitors go to
the dashboard login; other signed-in users get 403. Thin: parse the filters, call the
selector, render or stream."""

from __future__ import annotations

from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy
from oscar.views.decorators import permissions_required

from shop.common.safe_csv import SafeCSVWriter
from shop.growth import selectors
from shop.growth.forms import FunnelFilterForm
from shop.growth.models import FUNNEL_STEPS

VIEW_PERMS = ["is_staff", "growth.view_funnel"]
funnel_required = permissions_required(VIEW_PERMS, login_url=reverse_lazy("dashboard:login"))


def referral_figures(*, start, end) -> dict:
    """The referral programme's figures for the period, beside the funnel (share-link landings
    are in the funnel itself, under the source "referral")."""
    from shop.referrals.selectors import referral_summary

    return referral_summary(start=start, end=end)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(report: selectors.FunnelReport) -> StreamingHttpResponse:
    """One row per day: visitors reaching each step, all paid orders, bot requests left out;
    then the totals; then, after an empty row, the breakdown. Cells through SafeCSVWriter (no
    live formulas: a source is whatever a link said)."""
    writer = SafeCSVWriter(_Echo())
    labels = [selectors.STEP_LABELS[step] for step in FUNNEL_STEPS]
    header = ["day", *labels, "paid orders (all, from orders)", "bot requests left out"]

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in report.days:
            yield writer.writerow(
                [row["day"].isoformat(), *(row[s] for s in FUNNEL_STEPS)]
                + [row["paid_orders"], row["bot_requests"]]
            )
        yield writer.writerow(
            ["total (distinct visitors)", *(s.visitors for s in report.steps)]
            + [report.paid_orders, report.bot_requests]
        )
        yield writer.writerow([])
        yield writer.writerow([f"by {selectors.DIMENSIONS[report.breakdown_by].lower()}", *labels])
        for row in report.breakdown:
            yield writer.writerow([row["value"], *(row[s] for s in FUNNEL_STEPS)])

    f = report.filters
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="funnel-{f.start:%Y%m%d}-{f.end:%Y%m%d}.csv"'
    )
    return response


@funnel_required
def funnel(request: HttpRequest) -> HttpResponse:
    form = FunnelFilterForm(request.GET or None)
    filters = form.filters()
    report = selectors.funnel_report(filters=filters, breakdown_by=form.breakdown_by())
    if request.GET.get("export") == "csv":
        return _csv(report)
    chart = {
        "steps": [s.label for s in report.steps],
        "visitors": [s.visitors for s in report.steps],
        "days": [row["day"].isoformat() for row in report.days],
        "trend": [
            {"label": selectors.STEP_LABELS[step], "data": [row[step] for row in report.days]}
            for step in FUNNEL_STEPS
        ],
        "paid_orders": [row["paid_orders"] for row in report.days],
    }
    query = request.GET.copy()
    query["export"] = "csv"
    return render(
        request,
        "shop/growth/funnel.html",
        {
            "form": form,
            "report": report,
            "chart": chart,
            "start": filters.start,
            "end": filters.end,
            "sources": selectors.funnel_sources(start=filters.start, end=filters.end),
            "breakdown_label": selectors.DIMENSIONS[report.breakdown_by],
            "csv_query": query.urlencode(),
            "referral_summary": referral_figures(start=filters.start, end=filters.end),
        },
    )
