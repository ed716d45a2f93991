"""The customer's pages: email preferences in the account, and the one-click unsubscribe
link of every marketing email (works signed out; GET and RFC 8058's POST both unsubscribe)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from shop.lifecycle import selectors
from shop.lifecycle.forms import PreferencesForm
from shop.lifecycle.models import ConsentSource
from shop.lifecycle.services import CONSENT_WORDING, consent_set, unsubscribe_by_token


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    consent = selectors.consent_for(user=request.user)
    opted_in = bool(consent and consent.opted_in)
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            wanted = form.cleaned_data["marketing_opt_in"]
            consent_set(
                user=request.user,
                opted_in=wanted,
                source=ConsentSource.ACCOUNT,
                wording=CONSENT_WORDING,
            )
            messages.success(
                request,
                "Saved: we will email you about new pieces, care tips and offers."
                if wanted
                else "Saved: we will not send you marketing emails. Order emails still come.",
            )
            return redirect("lifecycle:email-preferences")
    else:
        form = PreferencesForm(initial={"marketing_opt_in": opted_in})
    return render(
        request,
        "shop/lifecycle/preferences.html",
        {
            "form": form,
            "consent": consent,
            "history": selectors.consent_history(user=request.user)[:20],
            "active_tab": "email-preferences",
            "page_title": "Email preferences",
        },
    )


@csrf_exempt  # RFC 8058: mail providers POST here without a page, a cookie or a token.
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """One click, signed out: the signed token says whose consent to withdraw. A bad or
    tampered signature changes nothing and says so (400)."""
    user = unsubscribe_by_token(token=token)
    if user is None:
        return render(request, "shop/lifecycle/unsubscribe_invalid.html", status=400)
    return render(
        request,
        "shop/lifecycle/unsubscribed.html",
        {"signed_in_as_them": request.user.is_authenticated and request.user.pk == user.pk},
    )
