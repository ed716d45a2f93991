"""Staff screen for background work: /dashboard/tasks/ — tasks that failed for good, with
their error and a retry button, and the outbox backlog (tasks waiting for Redis)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.http import require_POST
from oscar.views.decorators import permissions_required

from shop.common.models import TaskFailure
from shop.common.selectors import outbox_state, task_failures
from shop.common.services import TaskRetryRefused, task_failure_retry

staff_required = permissions_required(["is_staff"], login_url=reverse_lazy("dashboard:login"))


@staff_required
def task_list(request):
    show_all = request.GET.get("all") == "1"
    return render(
        request,
        "shop/dashboard/tasks.html",
        {
            "failures": task_failures(include_retried=show_all)[:200],
            "show_all": show_all,
            "outbox": outbox_state(),
        },
    )


@staff_required
@require_POST
def task_retry(request, pk: int):
    failure = get_object_or_404(TaskFailure, pk=pk)
    target = request.POST.get("next") or ""
    back = target if target.startswith("/dashboard/") else reverse("common-dashboard:tasks")
    try:
        task_failure_retry(failure=failure, staff=request.user)
    except TaskRetryRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{failure.task.rsplit('.', 1)[-1]} sent again.")
    return redirect(back)
