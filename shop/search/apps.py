import oscar.apps.search.apps as apps


class SearchConfig(apps.SearchConfig):
    """Oscar's search app (its URL and name, ``search:search``) serving our search view,
    which runs in PostgreSQL (shop.catalogue.selectors). Oscar's own search views, forms and
    indexes are haystack's and are never imported."""

    name = "shop.search"

    def ready(self):
        from shop.catalogue.views import ProductSearchView

        self.search_view = ProductSearchView
