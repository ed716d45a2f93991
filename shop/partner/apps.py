import oscar.apps.partner.apps as apps


class PartnerConfig(apps.PartnerConfig):
    name = "shop.partner"

    def ready(self):
        super().ready()
        from shop.partner import receivers

        receivers.connect()
