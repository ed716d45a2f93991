import oscar.apps.dashboard.apps as apps


class DashboardConfig(apps.DashboardConfig):
    name = "shop.dashboard"

    def ready(self):
        super().ready()
        from oscar.templatetags import sorting_tags

        from shop.dashboard.sorting import anchor

        # Oscar's `anchor` tag replaced in its own library (a bad ?dir= was a 500).
        sorting_tags.register.simple_tag(anchor, takes_context=True)
