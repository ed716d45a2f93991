"""Customer screens for the take-back scheme, in the account area. Thin: parse, authorize
(signed in; only the customer's own take-backs, others are 404), call a service or a
selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from shop.common.parsing import clean_text, parse_id
from shop.common.ratelimit import rate_limit_post
from shop.order.models import Line
from shop.takeback import selectors
from shop.takeback.forms import OfferAnswerForm, OtherItemForm, PhotosForm, TermsForm
from shop.takeback.label import label_pdf, label_qr_data_uri
from shop.takeback.models import Condition, TakeBack, TakeBackPhoto, TakeBackTransitionError
from shop.takeback.services import (
    CUSTOMER_PHOTO_STATUSES,
    RegistrationItem,
    TakeBackRefused,
    takeback_mark_shipped,
    takeback_offer_answer,
    takeback_photos_add,
    takeback_register,
)


def _own(request, pk: int) -> TakeBack:
    takeback = selectors.customer_takeback_get(customer=request.user, pk=pk)
    if takeback is None:
        raise Http404("No such take-back")
    return takeback


@login_required
@require_GET
def takeback_list(request):
    return render(
        request,
        "shop/takeback/list.html",
        {
            "takebacks": selectors.customer_takebacks(customer=request.user),
            "active_tab": "takeback",
            "page_title": "Take back",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
# 10 an hour per customer (signed in: counted per account, never per IP address).
@rate_limit_post(scope="takeback-register", limit=10, window=3600)
def takeback_register_view(request):
    lines = selectors.customer_returnable_lines(customer=request.user)
    for line in lines:
        line.estimates = selectors.estimates_by_condition(product=line.product)
    chosen: dict[int, dict] = {}
    other = OtherItemForm(request.POST or None, request.FILES or None, prefix="other")
    terms = TermsForm(request.POST or None)
    errors: list[str] = []
    if request.method == "GET":
        preselect = parse_id(request.GET.get("line", ""))
        if preselect is not None:
            chosen[preselect] = {"condition": ""}
    else:
        items = []
        for raw in request.POST.getlist("line"):
            line_pk = parse_id(raw)
            # Someone else's order line is as good as missing.
            line = (
                Line.objects.filter(pk=line_pk, order__user=request.user).first()
                if line_pk is not None
                else None
            )
            if line is None:
                raise Http404("No such order line")
            condition = request.POST.get(f"condition-{line.pk}", "")
            notes = clean_text(request.POST.get(f"notes-{line.pk}", ""))[:2000]
            chosen[line.pk] = {"condition": condition, "notes": notes}
            if condition not in Condition.values:
                errors.append(f"Please describe the condition of “{line.title}”.")
            items.append(RegistrationItem(condition=condition, line=line, notes=notes))
        other_valid = other.is_valid()
        if other_valid and other.cleaned_data.get("product"):
            data = other.cleaned_data
            items.append(
                RegistrationItem(
                    condition=data["condition"],
                    product=data["product"],
                    source=data["source"],
                    purchase_year=data.get("purchase_year"),
                    notes=data.get("notes") or "",
                    photos=data.get("photos") or [],
                )
            )
        if other_valid and not items and not errors:
            errors.append("Please choose at least one item to send back.")
        if other_valid and terms.is_valid() and not errors:
            try:
                created = takeback_register(customer=request.user, items=items, terms_accepted=True)
            except (TakeBackRefused, ValidationError) as exc:
                errors.extend(getattr(exc, "messages", None) or [str(exc)])
            else:
                messages.success(
                    request,
                    f"{len(created)} item(s) registered. Your prepaid label will be ready in a "
                    "moment, here and by email.",
                )
                if len(created) == 1:
                    return redirect("takeback:detail", pk=created[0].pk)
                return redirect("takeback:list")
    return render(
        request,
        "shop/takeback/register.html",
        {
            "lines": lines,
            "chosen": chosen,
            "other": other,
            "terms": terms,
            "errors": errors,
            "conditions": Condition.choices,
            "default_estimates": selectors.estimates_by_condition(product=None),
            "active_tab": "takeback",
            "page_title": "Send something back",
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def takeback_detail(request, pk: int):
    takeback = _own(request, pk)
    return render(
        request,
        "shop/takeback/detail.html",
        {
            "takeback": takeback,
            "timeline": selectors.takeback_timeline(takeback=takeback),
            "qr": (
                label_qr_data_uri(tracking_number=takeback.tracking_number)
                if takeback.tracking_number
                else ""
            ),
            "photos": takeback.photos.filter(kind=TakeBackPhoto.Kind.CUSTOMER),
            "offer_form": OfferAnswerForm(),
            "photos_form": PhotosForm(),
            "can_add_photos": takeback.status in CUSTOMER_PHOTO_STATUSES,
            "active_tab": "takeback",
            "page_title": f"Take-back {takeback.reference}",
        },
    )


@login_required
@require_GET
def takeback_label(request, pk: int):
    takeback = _own(request, pk)
    if not takeback.label_available:
        raise Http404("No label for this take-back")
    response = HttpResponse(label_pdf(takeback=takeback), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="label-{takeback.reference}.pdf"'
    return response


@login_required
@require_POST
def takeback_shipped(request, pk: int):
    takeback = _own(request, pk)
    try:
        takeback_mark_shipped(takeback=takeback, actor=request.user)
    except TakeBackTransitionError:
        messages.error(request, "This take-back is not waiting to be posted.")
    else:
        messages.success(request, "Thank you. We will let you know when it arrives.")
    return redirect("takeback:detail", pk=takeback.pk)


@login_required
@require_POST
def takeback_offer(request, pk: int):
    takeback = _own(request, pk)
    form = OfferAnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Please accept or decline the offer.")
        return redirect("takeback:detail", pk=takeback.pk)
    accept = form.cleaned_data["answer"] == "accept"
    try:
        takeback_offer_answer(
            takeback=takeback,
            customer=request.user,
            accept=accept,
            decline_choice=form.cleaned_data.get("decline_choice") or "",
        )
    except (TakeBackRefused, TakeBackTransitionError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            "Offer accepted: the credit will be in your account shortly."
            if accept
            else "Offer declined. We will do as you asked with the item.",
        )
    return redirect("takeback:detail", pk=takeback.pk)


@login_required
@require_POST
def takeback_photos(request, pk: int):
    takeback = _own(request, pk)
    form = PhotosForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("photos", ["Please choose a photo."])))
    else:
        try:
            added = takeback_photos_add(
                takeback=takeback, photos=form.cleaned_data["photos"], user=request.user
            )
        except (TakeBackRefused, ValidationError) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", None) or [str(exc)]))
        else:
            messages.success(request, f"{added} photo(s) added.")
    return redirect("takeback:detail", pk=takeback.pk)


def photo_response(photo: TakeBackPhoto) -> FileResponse:
    try:
        handle = photo.image.open("rb")
    except FileNotFoundError as exc:
        raise Http404("Photo missing") from exc
    response = FileResponse(handle, content_type=photo.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_GET
def takeback_photo(request, pk: int, photo_pk: int):
    takeback = _own(request, pk)
    photo = get_object_or_404(
        TakeBackPhoto, pk=photo_pk, takeback=takeback, kind=TakeBackPhoto.Kind.CUSTOMER
    )
    return photo_response(photo)
