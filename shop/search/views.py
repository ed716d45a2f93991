# Search runs in the database, like browsing (see shop.catalogue.selectors.product_list).
from shop.catalogue.views import ProductSearchView as FacetedSearchView  # noqa: F401
