"""Business reports in the dashboard. Thin: parse the filters, call a selector or service,
render (or stream CSV). Who may see them: active staff with `reports.view_business_reports`
(superusers have it); importing also needs `reports.import_offline_sales`. Anonymous
visitors go to the dashboard login; other signed-in users get 403."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from oscar.views.decorators import permissions_required

from shop.common.safe_csv import SafeCSVWriter
from shop.reports import selectors, services
from shop.reports.forms import (
    BaselineForm,
    ProjectionForm,
    RangeForm,
    ShareForm,
    TargetForm,
    UploadForm,
)
from shop.reports.models import SalesImport

VIEW_PERMS = ["is_staff", "reports.view_business_reports"]
reports_required = permissions_required(VIEW_PERMS, login_url=reverse_lazy("dashboard:login"))
import_required = permissions_required(
    [*VIEW_PERMS, "reports.import_offline_sales"], login_url=reverse_lazy("dashboard:login")
)


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(filename: str, header: list[str], rows: Iterable[list]) -> StreamingHttpResponse:
    """Stream a CSV: rows are written as they come from the database cursor, with no cell a
    spreadsheet would run as a formula (shop.common.safe_csv)."""
    writer = SafeCSVWriter(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([_local(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _local(value: Any) -> Any:
    """A moment as the pages show it: in the shop's time zone, to the minute (a boutique sale
    on 3 October exports as 2026-10-03 00:00, not as its UTC 2026-10-02 23:00)."""
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return value


def _wants_csv(request: HttpRequest) -> bool:
    return request.GET.get("export") == "csv"


def _range_suffix(start: date, end: date) -> str:
    return f"{start:%Y%m%d}-{end:%Y%m%d}"


@reports_required
def index(request: HttpRequest) -> HttpResponse:
    return redirect("business-reports:online-share")


@reports_required
def online_share(request: HttpRequest) -> HttpResponse:
    form = ShareForm(request.GET or None)
    start, end = form.range()
    bucket = form.cleaned_data["bucket"] if form.is_valid() else "month"
    target_form = TargetForm(prefix="target")
    projection_form = ProjectionForm(prefix="projection")
    if request.method == "POST":
        if "target-share_percent" in request.POST:
            target_form = TargetForm(request.POST, prefix="target")
            if target_form.is_valid():
                services.online_share_target_set(user=request.user, **target_form.cleaned_data)
                messages.success(request, "Target saved.")
                return redirect(request.get_full_path())
        else:
            projection_form = ProjectionForm(request.POST, prefix="projection")
            if projection_form.is_valid():
                services.sustainable_projection_set(
                    user=request.user, **projection_form.cleaned_data
                )
                messages.success(request, "Projection saved.")
                return redirect(request.get_full_path())
    report = selectors.online_share_report(start=start, end=end, bucket=bucket)
    channels = report.channels
    if _wants_csv(request):
        header = ["period", "revenue", "units", "online revenue share %", "online units share %"]
        header += [f"{c['code']} revenue" for c in channels]
        header += [f"{c['code']} units" for c in channels]
        header += ["Evergreen revenue", "other revenue", "Evergreen units", "other units"]
        header += ["Evergreen projection", "target online share %"]

        def rows():
            for r in report.rows:
                by = r["by_channel"]
                yield (
                    [r["bucket"], r["revenue"], r["units"]]
                    + [r["online_revenue_share"], r["online_units_share"]]
                    + [by.get(c["code"], {}).get("revenue", 0) for c in channels]
                    + [by.get(c["code"], {}).get("units", 0) for c in channels]
                    + [r["sustainable_revenue"], r["other_revenue"]]
                    + [r["sustainable_units"], r["other_units"]]
                    + [r["projection"], r["target_share"]]
                )

        return csv_response(f"online-share-{_range_suffix(start, end)}.csv", header, rows())
    for r in report.rows:
        r["channel_cells"] = [r["by_channel"].get(c["code"], {}) for c in channels]
    chart = {
        "labels": [r["bucket"].isoformat() for r in report.rows],
        "channels": [
            {
                "label": c["name"],
                "revenue": [
                    float(r["by_channel"].get(c["code"], {}).get("revenue", 0)) for r in report.rows
                ],
            }
            for c in channels
        ],
        "share": [
            float(r["online_revenue_share"]) if r["online_revenue_share"] is not None else None
            for r in report.rows
        ],
        "target": float(report.target_share) if report.target_share is not None else None,
        "sustainable": [float(r["sustainable_revenue"]) for r in report.rows],
        "other": [float(r["other_revenue"]) for r in report.rows],
        "projection": [
            float(r["projection"]) if r["projection"] is not None else None for r in report.rows
        ],
    }
    return render(
        request,
        "shop/reports/online_share.html",
        {
            "form": form,
            "report": report,
            "chart": chart,
            "target_form": target_form,
            "projection_form": projection_form,
            "projections": selectors.projections(),
            "start": start,
            "end": end,
        },
    )


@reports_required
def customers(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and "refresh" in request.POST:
        services.report_facts_refresh()
        messages.success(request, "Customer figures refreshed.")
        return redirect(request.get_full_path())
    refreshed = services.report_facts_ensure()
    form = RangeForm(request.GET or None)
    start, end = form.range()
    if _wants_csv(request):
        names = [name for name, _ in selectors.CUSTOMER_COLUMNS]
        return csv_response(
            f"customer-profitability-{_range_suffix(start, end)}.csv",
            [label for _, label in selectors.CUSTOMER_COLUMNS],
            (
                [row[name] for name in names]
                for row in selectors.customer_profitability_rows(start=start, end=end)
            ),
        )
    sort = request.GET.get("sort", "margin")
    descending = request.GET.get("dir", "desc") != "asc"
    try:
        page_number = max(1, int(request.GET.get("page", 1)))
    except ValueError:
        page_number = 1
    search = request.GET.get("q", "").strip()[:100]
    page = selectors.customer_profitability(
        start=start,
        end=end,
        sort=sort,
        descending=descending,
        page=page_number,
        search=search,
    )
    curve = page.curve  # computed with the page, from the same aggregation of the customers
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    for key in ("sort", "dir"):
        sort_query.pop(key, None)
    return render(
        request,
        "shop/reports/customers.html",
        {
            "form": form,
            "page": page,
            "curve": curve,
            "chart": {"points": [{"x": float(p["x"]), "y": float(p["y"])} for p in curve.points]},
            "columns": selectors.CUSTOMER_PAGE_COLUMNS,
            "formulas": selectors.FORMULAS,
            "sort": sort,
            "descending": descending,
            "search": search,
            "query": query.urlencode(),
            "sort_query": sort_query.urlencode(),
            "start": start,
            "end": end,
            "credits_recorded": selectors.credits_recorded(),
            "refreshed": refreshed,
        },
    )


@reports_required
def customer_detail(request: HttpRequest, key: str) -> HttpResponse:
    if not (key.startswith("u:") or key.startswith("e:")) or len(key) > 300:
        raise Http404
    refreshed = services.report_facts_ensure()
    form = RangeForm(request.GET or None)
    start, end = form.range()
    detail = selectors.customer_detail(customer_key=key, start=start, end=end)
    if detail.figures is None and not detail.orders and not detail.offline_sales:
        raise Http404("No sales for this customer.")
    if _wants_csv(request):
        fields = ["number", "sold_at", "status", "units", "gross", "discounts", "net"]
        fields += ["cogs", "pers_revenue", "pers_cost", "shipping_charged", "shipping_cost"]
        fields += ["fees", "refunds", "margin"]
        return csv_response(
            "customer-orders.csv", fields, ([o[f] for f in fields] for o in detail.orders)
        )
    figures = detail.figures or {}
    waterfall = [
        ("Net revenue", figures.get("net_revenue", 0) + figures.get("offline_revenue", 0)),
        ("Shipping charged", figures.get("shipping_charged", 0)),
        ("Cost of goods", -figures.get("cogs", 0)),
        ("Personalization cost", -figures.get("pers_cost", 0)),
        ("Shipping cost (est.)", -figures.get("shipping_cost", 0)),
        ("Payment fees", -figures.get("fees", 0)),
        ("Refunds", -figures.get("refunds", 0)),
        ("Store credit issued", -(figures.get("credits_issued") or 0)),
        ("Contribution margin", figures.get("margin", 0)),
    ]
    return render(
        request,
        "shop/reports/customer_detail.html",
        {
            "form": form,
            "key": key,
            "detail": detail,
            "figures": figures,
            "waterfall": waterfall,
            "chart": {
                "labels": [w[0] for w in waterfall],
                "values": [float(w[1]) for w in waterfall],
            },
            "formulas": selectors.FORMULAS,
            "start": start,
            "end": end,
            "refreshed": refreshed,
        },
    )


@reports_required
def segments(request: HttpRequest) -> HttpResponse:
    refreshed = services.report_facts_ensure()
    form = RangeForm(request.GET or None)
    start, end = form.range()
    rfm = selectors.rfm_segments(start=start, end=end)
    cohort_rows = selectors.cohorts(start=start, end=end)
    if _wants_csv(request):
        if request.GET.get("table") == "cohorts":
            header = ["cohort", "customers", "margin", "margin per customer"]
            header += [f"month +{k} %" for k in range(1, 13)]
            return csv_response(
                f"cohorts-{_range_suffix(start, end)}.csv",
                header,
                (
                    [r["cohort"], r["customers"], r["margin"], r["margin_per_customer"]]
                    + r["retention"]
                    for r in cohort_rows
                ),
            )
        fields = ["segment", "customers", "avg_recency_days", "avg_orders", "revenue", "margin"]
        fields.append("margin_per_customer")
        return csv_response(
            f"rfm-{_range_suffix(start, end)}.csv",
            fields,
            ([s[f] for f in fields] for s in rfm["segments"]),
        )
    grid = {(c["r"], c["f"]): c for c in rfm["grid"]}
    grid_rows = [
        {"r": r, "cells": [grid.get((r, f)) for f in range(1, 6)]} for r in range(5, 0, -1)
    ]
    return render(
        request,
        "shop/reports/segments.html",
        {
            "form": form,
            "segments": rfm["segments"],
            "grid_rows": grid_rows,
            "cohorts": cohort_rows,
            "months": range(1, 13),
            "start": start,
            "end": end,
            "refreshed": refreshed,
        },
    )


@reports_required
def lead_time(request: HttpRequest) -> HttpResponse:
    form = RangeForm(request.GET or None)
    start, end = form.range()
    rows = selectors.lead_time_by_month(start=start, end=end)
    fields = ["month", "kind", "orders", "shipped", "median_days", "p90_days", "on_time", "due"]
    fields.append("on_time_share")
    if _wants_csv(request):
        return csv_response(
            f"lead-time-{_range_suffix(start, end)}.csv",
            fields,
            ([r[f] for f in fields] for r in rows),
        )
    months = sorted({r["month"] for r in rows})

    def series(kind: str, field: str) -> list:
        found = {r["month"]: r[field] for r in rows if r["kind"] == kind}
        return [float(found[m]) if found.get(m) is not None else None for m in months]

    chart = {
        "labels": [m.isoformat() for m in months],
        "median_personalized": series("personalized", "median_days"),
        "median_plain": series("not personalized", "median_days"),
        "p90_all": series("all", "p90_days"),
        "on_time": series("all", "on_time_share"),
    }
    return render(
        request,
        "shop/reports/lead_time.html",
        {"form": form, "rows": rows, "chart": chart, "start": start, "end": end},
    )


@reports_required
def production_cost(request: HttpRequest) -> HttpResponse:
    form = BaselineForm(request.GET or None)
    start, end = form.range()
    baseline = (form.cleaned_data.get("baseline") if form.is_valid() else None) or (
        selectors.production_cost_default_baseline(start=start, end=end)
    )
    rows = selectors.production_cost_by_month(start=start, end=end, baseline=baseline)
    fields = ["dimension", "label", "month", "units", "units_without_cost", "average_cost"]
    fields += ["baseline_cost", "average_change_percent", "like_for_like_percent"]
    fields += ["mix_effect_points"]
    if _wants_csv(request):
        return csv_response(
            f"production-cost-{_range_suffix(start, end)}.csv",
            fields,
            ([r[f] for f in fields] for r in rows),
        )
    months = sorted({r["month"] for r in rows})

    def series(dimension: str, label: str, field: str) -> list:
        found = {
            r["month"]: r[field]
            for r in rows
            if r["dimension"] == dimension and r["label"] == label
        }
        return [float(found[m]) if found.get(m) is not None else None for m in months]

    chart = {
        "labels": [m.isoformat() for m in months],
        "all": series("all", "All products", "like_for_like_percent"),
        "sustainable": series("line", selectors.SUSTAINABLE_LINE, "like_for_like_percent"),
        "mix": series("all", "All products", "mix_effect_points"),
        "target": float(selectors.COST_TARGET_PERCENT),
    }
    return render(
        request,
        "shop/reports/production_cost.html",
        {
            "form": form,
            "rows": rows,
            "baseline": baseline,
            "headline": selectors.production_cost_headline(rows),
            "cost_target": selectors.COST_TARGET_PERCENT,
            "chart": chart,
            "history": selectors.cost_history(),
            "start": start,
            "end": end,
        },
    )


@reports_required
def personalization(request: HttpRequest) -> HttpResponse:
    refreshed = services.report_facts_ensure()
    form = RangeForm(request.GET or None)
    start, end = form.range()
    wants_csv = _wants_csv(request)
    report = selectors.personalization_economics(start=start, end=end, detail=not wants_csv)
    if wants_csv:
        fields = ["option_label", "value", "value_label", "lines", "units", "eligible_lines"]
        fields += ["uptake_percent", "surcharge_revenue", "workshop_cost", "lead_days"]
        fields += ["margin_per_unit"]
        return csv_response(
            f"personalization-{_range_suffix(start, end)}.csv",
            [*fields, "flags"],
            ([r[f] for f in fields] + ["; ".join(r["flags"])] for r in report.rows),
        )
    labels = [f"{r['option_label']}: {r['value_label']}" for r in report.rows]
    chart = {
        "labels": labels,
        "margin": [float(r["margin_per_unit"] or 0) for r in report.rows],
        "uptake": [float(r["uptake_percent"] or 0) for r in report.rows],
    }
    segments = {}
    for row in report.by_segment:
        segments.setdefault((row["option"], row["value"]), {})[row["grp"]] = row["uptake_percent"]
    segment_names = sorted({row["grp"] for row in report.by_segment if row["kind"] == "rfm"})
    for row in report.rows:
        cells = segments.get((row["option"], row["value"]), {})
        row["segment_cells"] = [cells.get(name) for name in ["New", "Returning", *segment_names]]
    return render(
        request,
        "shop/reports/personalization.html",
        {
            "form": form,
            "report": report,
            "chart": chart,
            "segment_names": ["New", "Returning", *segment_names],
            "formulas": selectors.PERSONALIZATION_FORMULAS,
            "start": start,
            "end": end,
            "refreshed": refreshed,
        },
    )


@reports_required
def imports(request: HttpRequest) -> HttpResponse:
    form = UploadForm()
    can_import = request.user.has_perm("reports.import_offline_sales")
    if request.method == "POST":
        if not can_import:
            return HttpResponse("You may not import sales.", status=403)
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > services.MAX_IMPORT_BYTES:
                form.add_error("file", services.import_too_large_message(upload.size))
        if form.is_valid():
            upload = form.cleaned_data["file"]
            # Read one byte past the limit: enough to refuse a file that is too large.
            content = upload.read(services.MAX_IMPORT_BYTES + 1)
            sales_import = services.sales_import_create(
                content=content,
                file_name=upload.name,
                skip_bad_rows=form.cleaned_data["skip_bad_rows"],
                user=request.user,
            )
            return redirect("business-reports:import-detail", pk=sales_import.pk)
    return render(
        request,
        "shop/reports/imports.html",
        {
            "upload_form": form,
            "can_import": can_import,
            "imports": SalesImport.objects.defer("content").select_related("created_by")[:50],
            "columns": services.REQUIRED_COLUMNS + services.OPTIONAL_COLUMNS,
            "channels": selectors.channels(),
            "max_mb": services.MAX_IMPORT_BYTES // 1024 // 1024,
        },
    )


@reports_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sales_import = get_object_or_404(SalesImport.objects.defer("content"), pk=pk)
    if _wants_csv(request):
        return csv_response(
            f"import-{pk}-errors.csv",
            ["line", "errors"],
            ([bad["line"], "; ".join(bad["errors"])] for bad in sales_import.errors),
        )
    running = sales_import.status in (SalesImport.Status.PENDING, SalesImport.Status.RUNNING)
    return render(
        request,
        "shop/reports/import_detail.html",
        {
            "sales_import": sales_import,
            "running": running,
            "back": reverse("business-reports:imports"),
        },
    )
