"""Staff screens for the take-back scheme under /dashboard/take-back/: the queue (filters,
search, bulk actions), receiving parcels by tracking number, one take-back (grade, route,
approve or adjust the credit, reject, close, audit log), credit rules and time limits, and
the report. Active staff may look; acting needs `takeback.grade_takeback`, editing rules
`takeback.edit_takeback_rules` (others get 403)."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from oscar.views.decorators import permissions_required

from shop.common.parsing import parse_date, parse_id, parse_ids
from shop.credit.selectors import credit_balance
from shop.takeback import selectors
from shop.takeback.forms import (
    ApproveForm,
    BulkForm,
    CloseForm,
    GradeForm,
    PolicyForm,
    PublishForm,
    QueueFilterForm,
    ReceiveForm,
    RejectForm,
    ResaleRuleForm,
    RuleForm,
    WeightForm,
)
from shop.takeback.models import (
    CreditRule,
    ProductWeight,
    ResaleRule,
    TakeBack,
    TakeBackPhoto,
)
from shop.takeback.services import (
    TakeBackRefused,
    TakeBackTransitionError,
    credit_rule_save,
    preloved_publish,
    resale_rule_save,
    takeback_approve,
    takeback_close,
    takeback_grade,
    takeback_policy_update,
    takeback_receive,
    takeback_reject,
)
from shop.takeback.views import photo_response

LOGIN = reverse_lazy("dashboard:login")
staff_required = permissions_required(["is_staff"], login_url=LOGIN)
grader_required = permissions_required(["is_staff", "takeback.grade_takeback"], login_url=LOGIN)
rules_required = permissions_required(["is_staff", "takeback.edit_takeback_rules"], login_url=LOGIN)
REFUSED = (TakeBackRefused, TakeBackTransitionError, ValidationError)


def _message(exc: Exception) -> str:
    return " ".join(getattr(exc, "messages", None) or [str(exc)])


@staff_required
@require_GET
def queue(request):
    form = QueueFilterForm(request.GET or {"status": "open"})
    filters = {"status": "open"}
    if form.is_valid():
        filters = form.cleaned_data
    else:
        errors = [f"{form[name].label}: {' '.join(e)}" for name, e in form.errors.items()]
        messages.error(request, "Filters not applied. " + " ".join(errors))
    takebacks = selectors.staff_queue(
        status=filters.get("status") or "",
        age_days=filters.get("age_days"),
        product=filters.get("product") or "",
        condition=filters.get("condition") or "",
        q=filters.get("q") or "",
    )
    page = Paginator(takebacks, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "shop/takeback/dashboard/queue.html",
        {
            "form": form,
            "page_obj": page,
            "takebacks": page.object_list,
            "bulk_actions": BulkForm.ACTIONS,
            "can_grade": request.user.has_perm("takeback.grade_takeback"),
            "now": timezone.now(),
        },
    )


@grader_required
@require_POST
def bulk(request):
    # An id that is not one (text, "²", past PostgreSQL's integer) fails the form below.
    ids = parse_ids(request.POST.getlist("ids")) or []
    form = BulkForm(request.POST, ids=ids)
    back = request.POST.get("next", "")
    back = (
        back
        if back.startswith("/dashboard/take-back/")
        else reverse_lazy("takeback-dashboard:queue")
    )
    if not form.is_valid():
        messages.error(request, "Choose take-backs and an action (a rejection needs a reason).")
        return redirect(back)
    action, done, failed = form.cleaned_data["action"], [], []
    for takeback in TakeBack.objects.filter(pk__in=form.cleaned_data["ids"]).order_by("pk"):
        try:
            if action == "receive":
                if not takeback.tracking_number:
                    raise TakeBackRefused(f"{takeback.reference} has no label yet.")
                takeback_receive(tracking_number=takeback.tracking_number, staff=request.user)
            elif action == "approve":
                takeback_approve(takeback=takeback, staff=request.user)
            elif action == "close":
                takeback_close(takeback=takeback, staff=request.user)
            elif action == "reject":
                takeback_reject(
                    takeback=takeback, staff=request.user, reason=form.cleaned_data["reason"]
                )
        except REFUSED as exc:
            failed.append(_message(exc))
        else:
            done.append(takeback.reference)
    if done:
        messages.success(request, f"{len(done)} take-back(s) updated: {', '.join(done)}.")
    for error in failed:
        messages.error(request, error)
    return redirect(back)


@grader_required
@require_http_methods(["GET", "POST"])
def receive(request):
    form = ReceiveForm(request.POST or None)
    received = None
    if request.method == "POST" and form.is_valid():
        try:
            received = takeback_receive(
                tracking_number=form.cleaned_data["tracking_number"],
                staff=request.user,
                note=form.cleaned_data["note"],
            )
        except REFUSED as exc:
            messages.error(request, _message(exc))
        else:
            messages.success(request, f"{received.reference} received: {received.product_title}.")
            form = ReceiveForm()
    return render(
        request,
        "shop/takeback/dashboard/receive.html",
        {
            "form": form,
            "received": received,
            "recent": TakeBack.objects.filter(status=TakeBack.Status.RECEIVED).order_by(
                "-received_at"
            )[:20],
        },
    )


def _detail_context(request, takeback: TakeBack, **forms) -> dict:
    publish = selectors.preloved_publish_offer(takeback=takeback)
    context = {
        "publish": publish,
        "publish_form": PublishForm(
            takeback=takeback, initial={"price": (publish or {}).get("high")}
        ),
        "piece": selectors.preloved_piece_for(takeback=takeback),
        "provenance": selectors.piece_provenance(takeback=takeback),
        "takeback": takeback,
        "events": selectors.takeback_audit_log(takeback=takeback),
        "photos": takeback.photos.all(),
        "grade_form": GradeForm(),
        "approve_form": ApproveForm(initial={"amount": takeback.credit_amount}),
        "reject_form": RejectForm(),
        "close_form": CloseForm(),
        "can_grade": request.user.has_perm("takeback.grade_takeback"),
        "customer_credit": credit_balance(user=takeback.customer),
        "rules": [
            (grade, selectors.credit_rule_for(product=takeback.product, grade=grade))
            for grade in "ABCD"
        ],
    }
    context.update(forms)
    return context


@staff_required
@require_GET
def detail(request, pk: int):
    takeback = get_object_or_404(TakeBack.objects.select_related("customer", "line__order"), pk=pk)
    return render(
        request, "shop/takeback/dashboard/detail.html", _detail_context(request, takeback)
    )


@grader_required
@require_POST
def act(request, pk: int, action: str):
    takeback = get_object_or_404(TakeBack, pk=pk)
    forms = {
        "grade": GradeForm(request.POST, request.FILES),
        "approve": ApproveForm(request.POST),
        "reject": RejectForm(request.POST),
        "close": CloseForm(request.POST),
        "publish": PublishForm(request.POST, takeback=takeback),
    }
    if action not in forms:
        raise Http404("No such action")
    form = forms[action]
    if form.is_valid():
        data = form.cleaned_data
        try:
            if action == "grade":
                takeback_grade(
                    takeback=takeback,
                    grade=data["grade"],
                    route=data["route"],
                    staff=request.user,
                    notes=data["notes"],
                    photos=data["photos"],
                )
            elif action == "approve":
                takeback_approve(
                    takeback=takeback, staff=request.user, amount=data["amount"], note=data["note"]
                )
            elif action == "reject":
                takeback_reject(takeback=takeback, staff=request.user, reason=data["reason"])
            elif action == "publish":
                piece = preloved_publish(
                    takeback=takeback,
                    staff=request.user,
                    price=data["price"],
                    photo_ids=data["photos"],
                    repair_note=data["repair_note"],
                )
                messages.success(
                    request, f"{takeback.reference} is on sale as “{piece.product.title}”."
                )
                return redirect("takeback-dashboard:detail", pk=takeback.pk)
            else:
                takeback_close(takeback=takeback, staff=request.user, note=data["note"])
        except REFUSED as exc:
            messages.error(request, _message(exc))
        else:
            takeback.refresh_from_db()
            messages.success(request, f"{takeback.reference}: {takeback.staff_status_label}.")
            return redirect("takeback-dashboard:detail", pk=takeback.pk)
    else:
        messages.error(request, "Please correct the form below.")
    takeback.refresh_from_db()
    context = _detail_context(request, takeback, **{f"{action}_form": form})
    return render(request, "shop/takeback/dashboard/detail.html", context, status=400)


@staff_required
@require_GET
def photo(request, pk: int):
    return photo_response(get_object_or_404(TakeBackPhoto, pk=pk))


@rules_required
@require_http_methods(["GET", "POST"])
def rules(request):
    policy = selectors.takeback_policy()
    rule_form = RuleForm(prefix="rule")
    policy_form = PolicyForm(
        prefix="policy",
        initial={
            "reminder_days": policy.reminder_days,
            "expiry_days": policy.expiry_days,
            "offer_days": policy.offer_days,
        },
    )
    weight_form = WeightForm(prefix="weight")
    resale_form = ResaleRuleForm(prefix="resale")
    status = 200
    if request.method == "POST":
        which = request.POST.get("form")
        try:
            if which == "rule":
                rule_form = RuleForm(request.POST, prefix="rule")
                if rule_form.is_valid():
                    data = rule_form.cleaned_data
                    credit_rule_save(
                        grade=data["grade"],
                        min_amount=data["min_amount"],
                        max_amount=data["max_amount"],
                        product=data["product"] if data["scope"] == "product" else None,
                        product_class=(data["product_class"] if data["scope"] == "class" else None),
                    )
                    messages.success(request, "Credit rule saved.")
                    return redirect("takeback-dashboard:rules")
            elif which == "delete":
                rule = get_object_or_404(CreditRule, pk=parse_id(request.POST.get("rule_id")) or 0)
                if not rule.product_id and not rule.product_class_id:
                    raise TakeBackRefused("The default rules can be changed, not deleted.")
                rule.delete()
                messages.success(request, "Credit rule deleted.")
                return redirect("takeback-dashboard:rules")
            elif which == "policy":
                policy_form = PolicyForm(request.POST, prefix="policy")
                if policy_form.is_valid():
                    takeback_policy_update(staff=request.user, **policy_form.cleaned_data)
                    messages.success(request, "Time limits saved.")
                    return redirect("takeback-dashboard:rules")
            elif which == "resale":
                resale_form = ResaleRuleForm(request.POST, prefix="resale")
                if resale_form.is_valid():
                    resale_rule_save(**resale_form.cleaned_data)
                    messages.success(request, "Resale price rule saved.")
                    return redirect("takeback-dashboard:rules")
            elif which == "weight":
                weight_form = WeightForm(request.POST, prefix="weight")
                if weight_form.is_valid():
                    ProductWeight.objects.update_or_create(
                        product=weight_form.cleaned_data["product"],
                        defaults={"leather_kg": weight_form.cleaned_data["leather_kg"]},
                    )
                    messages.success(request, "Weight saved.")
                    return redirect("takeback-dashboard:rules")
        except TakeBackRefused as exc:
            messages.error(request, str(exc))
        status = 400
    return render(
        request,
        "shop/takeback/dashboard/rules.html",
        {
            "rules": CreditRule.objects.select_related("product", "product_class"),
            "policy": policy,
            "rule_form": rule_form,
            "policy_form": policy_form,
            "weight_form": weight_form,
            "resale_form": resale_form,
            "resale_rules": ResaleRule.objects.all(),
            "weights": ProductWeight.objects.select_related("product").order_by("product__title"),
        },
        status=status,
    )


def _date(value: str | None, default: date) -> date:
    return parse_date(value) or default


@staff_required
@require_GET
def report(request):
    today = timezone.localdate()
    end = _date(request.GET.get("end"), today)
    start = _date(request.GET.get("start"), end - timedelta(days=365))
    if start > end:
        start, end = end, start
    routes = list(selectors.takeback_routes_share(start=start, end=end))
    graded = sum(row["count"] for row in routes)
    for row in routes:
        row["share"] = round(100 * row["count"] / graded, 1) if graded else 0
        row["label"] = dict(TakeBack._meta.get_field("route").choices).get(row["route"])
    return render(
        request,
        "shop/takeback/dashboard/report.html",
        {
            "start": start,
            "end": end,
            "per_month": selectors.takebacks_per_month_table(start=start, end=end),
            "credit": selectors.takeback_credit_totals(start=start, end=end),
            "routes": routes,
            "landfill_kg": selectors.takeback_landfill_kg(start=start, end=end),
            "preloved": selectors.preloved_report(start=start, end=end),
            "net_cost": selectors.scheme_net_cost_by_month(start=start, end=end),
            "leather": selectors.leather_kept_and_recycled(start=start, end=end),
            "statuses": list(TakeBack.STAFF_LABELS.items()),
        },
    )
