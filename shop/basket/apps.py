import oscar.apps.basket.apps as apps


class BasketConfig(apps.BasketConfig):
    name = "shop.basket"

    def ready(self) -> None:
        super().ready()
        from shop.basket import receivers

        receivers.connect()
