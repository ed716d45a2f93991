"""Oscar's order dashboard (/dashboard/orders/) with a CSV export no spreadsheet runs as
formulas: its order list writes `?response_format=csv` with shop.common.safe_csv instead of
Oscar's plain writer (a shipping name such as `=HYPERLINK(...)` came out live).

Not a fork: Oscar looks its dashboard views up through the `dashboard` app, so forking
dashboard.orders would mean forking the whole dashboard. The app config below is Oscar's,
with only its order list view swapped (shop.order.dashboard.OrderListView); INSTALLED_APPS
names it."""

from __future__ import annotations

from oscar.apps.dashboard.orders import apps as oscar_apps


class OrdersDashboardConfig(oscar_apps.OrdersDashboardConfig):
    def ready(self):
        super().ready()
        from shop.order.dashboard import OrderListView  # views import models: after loading

        self.order_list_view = OrderListView
