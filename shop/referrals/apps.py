from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "shop.referrals"
    label = "referrals"
    verbose_name = "Referrals"

    def ready(self) -> None:
        """Referrals follow registrations and orders (neither names it): a registration
        through a share link records the referral, a paid order queues the reward, and a
        cancelled or refunded one withdraws it."""
        from oscar.apps.customer.signals import user_registered
        from oscar.apps.order.signals import order_status_changed

        from shop.order.services import paid_followup_register
        from shop.referrals import receivers

        user_registered.connect(receivers.user_registered, dispatch_uid="referrals-registered")
        order_status_changed.connect(
            receivers.order_status_changed, dispatch_uid="referrals-order-status"
        )
        paid_followup_register(self.label, receivers.reward_followup)
