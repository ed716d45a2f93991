"""Staff page of referrals under /dashboard/referrals/: the programme's settings (staff with
`referrals.edit_referral_programme`), the figures of a date range, and every referral with
its status, reason, order and credits. Active staff may look; others are sent to log in."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from oscar.views.decorators import permissions_required

from shop.common.parsing import parse_date
from shop.referrals.forms import ProgrammeForm
from shop.referrals.models import Referral
from shop.referrals.selectors import referral_list, referral_programme, referral_summary
from shop.referrals.services import ReferralError, referral_programme_update

LOGIN = reverse_lazy("dashboard:login")
staff_required = permissions_required(["is_staff"], login_url=LOGIN)
EDIT_PERMISSION = "referrals.edit_referral_programme"
MAX_RANGE = timedelta(days=3 * 366)


def _range(request):
    today = timezone.localdate()
    end = parse_date(request.GET.get("end")) or today
    start = parse_date(request.GET.get("start")) or end - timedelta(days=29)
    if start > end:
        start, end = end, start
    start = max(start, end - MAX_RANGE)
    return start, end


@staff_required
@require_http_methods(["GET", "POST"])
def index(request):
    programme = referral_programme()
    can_edit = request.user.has_perm(EDIT_PERMISSION)
    form = ProgrammeForm(
        initial={
            "enabled": programme.enabled,
            "friend_credit": programme.friend_credit,
            "referrer_credit": programme.referrer_credit,
        }
    )
    status = 200
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied("Editing the referral programme needs its permission.")
        form = ProgrammeForm(request.POST)
        if form.is_valid():
            try:
                referral_programme_update(staff=request.user, **form.cleaned_data)
            except ReferralError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, "Referral programme saved.")
                return redirect("referrals-dashboard:index")
        status = 400
    start, end = _range(request)
    chosen = request.GET.get("status", "")
    chosen = chosen if chosen in Referral.Status.values else ""
    page = Paginator(referral_list(status=chosen), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "shop/referrals/dashboard/index.html",
        {
            "programme": programme,
            "form": form,
            "can_edit": can_edit,
            "start": start,
            "end": end,
            "summary": referral_summary(start=start, end=end),
            "page": page,
            "statuses": Referral.Status.choices,
            "chosen_status": chosen,
        },
        status=status,
    )
