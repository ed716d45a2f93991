"""Staff pages for the workshop: open jobs, an order's jobs, and the ticket (HTML and PDF).

Thin: parse, authorize (active staff, as Oscar's dashboard does), call a selector or a
service, render.
"""

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import ListView
from oscar.views.decorators import permissions_required

from shop.common.parsing import parse_next_url
from shop.order.models import Order
from shop.workshop import selectors
from shop.workshop.forms import JobAdvanceForm
from shop.workshop.models import WorkshopJob, WorkshopJobTransitionError
from shop.workshop.pdf import html_to_pdf
from shop.workshop.services import workshop_job_advance

# Oscar's dashboard rule: active staff. Anonymous visitors are sent to the dashboard login;
# signed-in customers get 403. Never any data.
staff_required = permissions_required(["is_staff"], login_url=reverse_lazy("dashboard:login"))


@method_decorator(staff_required, name="dispatch")
class JobListView(ListView):
    template_name = "shop/workshop/job_list.html"
    context_object_name = "jobs"
    paginate_by = 50

    def get_queryset(self):
        return selectors.open_jobs()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["today"] = timezone.localdate()
        context["statuses"] = WorkshopJob.Status
        return context


@staff_required
@require_GET
def order_jobs(request, order_number: str):
    order = get_object_or_404(Order, number=order_number)
    return render(
        request,
        "shop/workshop/order_jobs.html",
        {
            "order": order,
            "jobs": selectors.order_jobs(order_number=order.number),
            "today": timezone.localdate(),
            "statuses": WorkshopJob.Status,
        },
    )


@staff_required
@require_POST
def job_advance(request, pk: int):
    job = get_object_or_404(WorkshopJob, pk=pk)
    form = JobAdvanceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Please choose a valid status.")
    else:
        try:
            job = workshop_job_advance(
                job=job,
                status=form.cleaned_data["status"],
                staff=request.user,
                note=form.cleaned_data["note"],
            )
        except WorkshopJobTransitionError as exc:
            messages.error(request, f"Order {job.order.number}: {exc}")
        else:
            messages.success(
                request, f"Order {job.order.number}, job {job.pk}: {job.get_status_display()}."
            )
    target = parse_next_url(
        request.POST.get("next", ""), host=request.get_host(), secure=request.is_secure()
    )
    # A path, never a view name: redirect() would try to reverse "job-list" (a 500).
    return HttpResponseRedirect(target or reverse("workshop:job-list"))


def _ticket_context(request, pk: int, *, for_pdf: bool) -> dict:
    job = selectors.job_get(job_id=pk)
    return {"ticket": selectors.job_ticket(job=job), "job": job, "for_pdf": for_pdf}


@staff_required
@require_GET
def job_ticket(request, pk: int):
    return render(request, "shop/workshop/ticket.html", _ticket_context(request, pk, for_pdf=False))


@staff_required
@require_GET
def job_ticket_pdf(request, pk: int):
    context = _ticket_context(request, pk, for_pdf=True)
    pdf = html_to_pdf(render_to_string("shop/workshop/ticket.html", context, request=request))
    job = context["job"]
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"ticket-{job.order.number}-{job.pk}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
