"""The staff page of lifecycle emails under /dashboard/lifecycle/: per campaign its sends
(sent, skipped by reason; last 30 days and all time), the orders and revenue attributed
within 7 days, a list of recent sends, Pause / Resume and its parameters. Opens are not
tracked. Looking needs `lifecycle.view_campaign`; pausing and editing also
`lifecycle.manage_campaigns` (others get 403)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from oscar.views.decorators import permissions_required

from shop.lifecycle import selectors
from shop.lifecycle.forms import CampaignForm
from shop.lifecycle.models import Campaign
from shop.lifecycle.services import (
    CampaignRefused,
    campaign_pause,
    campaign_update,
    campaigns_ensure,
)

LOGIN = reverse_lazy("dashboard:login")
VIEW_PERMS = ["is_staff", "lifecycle.view_campaign"]
MANAGE_PERMS = [*VIEW_PERMS, "lifecycle.manage_campaigns"]
view_required = permissions_required(VIEW_PERMS, login_url=LOGIN)
manage_required = permissions_required(MANAGE_PERMS, login_url=LOGIN)


def _campaign(kind: str) -> Campaign:
    if kind not in Campaign.Kind.values:
        raise Http404("No such campaign")
    campaign = Campaign.objects.filter(kind=kind).first()
    if campaign is None:  # a known kind whose row is gone (a flushed database): made again
        campaigns_ensure()
        campaign = Campaign.objects.get(kind=kind)
    return campaign


def _page(request: HttpRequest, *, bound: CampaignForm | None = None) -> HttpResponse:
    campaigns_ensure()
    rows = selectors.campaign_overview(now=timezone.now())
    for row in rows:
        same = bound is not None and bound.campaign.pk == row.campaign.pk
        row.form = bound if same else CampaignForm(campaign=row.campaign)
    return render(
        request,
        "shop/lifecycle/dashboard/index.html",
        {
            "rows": rows,
            "can_manage": request.user.has_perm("lifecycle.manage_campaigns"),
            "window_days": selectors.ATTRIBUTION_WINDOW.days,
            "recent_days": selectors.RECENT_DAYS,
        },
    )


@view_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    return _page(request)


@manage_required
@require_POST
def pause(request: HttpRequest, kind: str) -> HttpResponse:
    campaign = _campaign(kind)
    action = request.POST.get("action")
    if action not in ("pause", "resume"):
        messages.error(request, "Choose Pause or Resume.")
        return redirect("lifecycle-dashboard:index")
    campaign = campaign_pause(campaign=campaign, paused=action == "pause", staff=request.user)
    messages.success(
        request,
        f"{campaign}: paused. Nothing new is queued and queued emails are skipped."
        if campaign.paused
        else f"{campaign}: running again.",
    )
    return redirect("lifecycle-dashboard:index")


@manage_required
@require_POST
def edit(request: HttpRequest, kind: str) -> HttpResponse:
    campaign = _campaign(kind)
    form = CampaignForm(request.POST, campaign=campaign)
    if form.is_valid():
        try:
            campaign_update(
                campaign=campaign,
                wait=form.cleaned_data["wait"],
                segments=form.cleaned_data.get("segments"),
                staff=request.user,
            )
        except CampaignRefused as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, f"{campaign}: settings saved.")
            return redirect("lifecycle-dashboard:index")
    messages.error(request, f"{campaign}: settings not saved, see the form below.")
    return _page(request, bound=form)
