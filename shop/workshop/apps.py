from django.apps import AppConfig


class WorkshopConfig(AppConfig):
    name = "shop.workshop"
    label = "workshop"
    verbose_name = "Workshop"

    def ready(self) -> None:
        """The workshop follows orders (order never names it): a paid order queues its jobs,
        and open jobs hold an order back from "Ready to ship"."""
        from django.db.models import Count, Q

        from shop.order.holds import Hold, hold_register
        from shop.order.services import paid_followup_register
        from shop.workshop.models import WorkshopJob

        def jobs_for_paid_order(order) -> list[dict]:
            return [
                {
                    "task": "shop.workshop.tasks.create_workshop_jobs",
                    "args": [order.pk],
                    "subject": f"order:{order.pk}",
                }
            ]

        paid_followup_register(self.label, jobs_for_paid_order)
        hold_register(
            self.label,
            Hold(
                count=lambda order: WorkshopJob.objects.filter(
                    order=order, status__in=WorkshopJob.ACTIVE
                ).count(),
                annotation=lambda: Count(
                    "workshop_jobs",
                    filter=Q(workshop_jobs__status__in=WorkshopJob.ACTIVE),
                    distinct=True,
                ),
            ),
        )
