from collections.abc import Sequence

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path

from shop.catalogue import dashboard as catalogue_dashboard
from shop.order import dashboard as order_dashboard
from shop.storefront import order_lines, private_views, wishlists
from shop.storefront.views import public_media


def oscar_repair(route: str, app_label: str, name: str, view, *, regex: bool = False):
    """A pattern for one of Oscar's dashboard views replaced by ours: before Oscar's pattern
    of the same path, under the same permissions as Oscar's pattern of that name, and with
    that name (un-namespaced: the dashboard menu resolves a URL to its name to find the
    permissions)."""
    decorator = apps.get_app_config(app_label).get_url_decorator(path("", view, name=name))
    guarded = decorator(view) if decorator else view
    return (re_path if regex else path)(route, guarded, name=name)


def customer_page(route: str, view, name: str):
    """One of Oscar's customer views replaced by ours (signed-in customers only)."""
    return path(route, login_required(view), name=name)


# Oscar's views that answered 500 on hostile input, repaired by thin subclasses (issue "No
# request gets a 500").
product_view = catalogue_dashboard.ProductCreateUpdateView.as_view()
wishlist_create = wishlists.WishListCreateView.as_view()
OSCAR_REPAIRS = [
    oscar_repair(
        "dashboard/orders/",
        "orders_dashboard",
        "order-list",
        order_dashboard.OrderListView.as_view(),
    ),
    oscar_repair(
        r"^dashboard/orders/(?P<number>(?!statistics/)[^/]+)/$",
        "orders_dashboard",
        "order-detail",
        order_dashboard.OrderDetailView.as_view(),
        regex=True,
    ),
    oscar_repair(
        "dashboard/catalogue/categories/",
        "catalogue_dashboard",
        "catalogue-category-list",
        catalogue_dashboard.CategoryListView.as_view(),
    ),
    oscar_repair(
        "dashboard/catalogue/categories/<int:pk>/",
        "catalogue_dashboard",
        "catalogue-category-detail-list",
        catalogue_dashboard.CategoryDetailListView.as_view(),
    ),
    oscar_repair(
        "dashboard/catalogue/products/<int:pk>/",
        "catalogue_dashboard",
        "catalogue-product",
        product_view,
    ),
    oscar_repair(
        r"^dashboard/catalogue/products/create/(?P<product_class_slug>[\w-]+)/$",
        "catalogue_dashboard",
        "catalogue-product-create",
        product_view,
        regex=True,
    ),
    oscar_repair(
        "dashboard/catalogue/products/<int:parent_pk>/create-variant/",
        "catalogue_dashboard",
        "catalogue-product-create-child",
        product_view,
    ),
    oscar_repair(
        "dashboard/catalogue/stock-alerts/",
        "catalogue_dashboard",
        "stock-alert-list",
        catalogue_dashboard.StockAlertListView.as_view(),
    ),
    oscar_repair(
        "dashboard/reviews/",
        "reviews_dashboard",
        "reviews-list",
        catalogue_dashboard.ReviewListView.as_view(),
    ),
    customer_page("accounts/wishlists/create/", wishlist_create, "wishlists-create-checked"),
    customer_page(
        "accounts/wishlists/create/with-product/<int:product_pk>/",
        wishlist_create,
        "wishlists-create-with-product-checked",
    ),
    customer_page(
        "accounts/wishlists/<str:key>/update/",
        wishlists.WishListUpdateView.as_view(),
        "wishlists-update-checked",
    ),
    customer_page(
        "accounts/orders/<str:order_number>/<int:line_id>/",
        order_lines.OrderLineView.as_view(),
        "order-line-checked",
    ),
]

OSCAR_URLS = apps.get_app_config("oscar").urls[0]
# Resolving an address walks these patterns in order. The shop's busiest pages (Oscar's
# catalogue, search and basket) come first: behind the ~60 patterns declared before Oscar's
# they cost ~140 us per request to resolve, ~10 us first. None declared before them matches
# their addresses (tests/config/test_urls.py resolves every address both ways).
BUSIEST = [p for p in OSCAR_URLS if str(p.pattern) in ("catalogue/", "search/", "basket/")]


def oscar_urls(*, without: Sequence = ()):
    """Oscar's own addresses (those in `without` left out: they are resolved earlier)."""
    return path("", include([p for p in OSCAR_URLS if p not in without]))


# The shop's addresses in precedence order (the first that matches wins), Oscar's last.
DECLARED = [
    *OSCAR_REPAIRS,
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("shop.storefront.urls")),
    path("", include("shop.personalization.urls")),
    path("payments/", include("shop.payments.urls")),
    path("dashboard/fulfilment/", include("shop.order.dashboard_urls")),
    path("dashboard/tasks/", include("shop.common.dashboard_urls")),
    path("dashboard/workshop/", include("shop.workshop.urls")),
    path("dashboard/personalization/", include("shop.personalization.dashboard_urls")),
    path("dashboard/payments/", include("shop.order.refund_urls")),
    path("dashboard/business-reports/", include("shop.reports.dashboard_urls")),
    path("dashboard/parcel-costs/", include("shop.shipping.dashboard_urls")),
    path("dashboard/take-back/", include("shop.takeback.dashboard_urls")),
    path("accounts/take-back/", include("shop.takeback.urls")),
    path("accounts/credit/", include("shop.credit.urls")),
    path("", include("shop.referrals.urls")),
    path("", include("shop.lifecycle.urls")),
    path("", include("shop.growth.urls")),
    path("dashboard/referrals/", include("shop.referrals.dashboard_urls")),
    path("dashboard/lifecycle/", include("shop.lifecycle.dashboard_urls")),
    path("dashboard/growth/", include("shop.growth.dashboard_urls")),
    path("dashboard/experiments/", include("shop.experiments.dashboard_urls")),
    # Before Oscar's own patterns of the same paths: 404 rather than a form or a 403.
    re_path(
        r"^accounts/order-status/(?P<order_number>[\w-]*)/(?P<hash>[A-z0-9-_=:]+)/$",
        private_views.SignedAnonymousOrderDetailView.as_view(),
        name="anon-order-signed",
    ),
    re_path(
        r"^accounts/order-status-form/(?P<order_number>[\w-]*)/(?P<hash>[A-z0-9-_=:]+)/$",
        private_views.SignedAnonymousOrderFormView.as_view(),
        name="anon-order-form-signed",
    ),
    path("wishlists/<str:key>/", private_views.OwnWishListView.as_view(), name="wishlist-own"),
    # Oscar's password reset, limited: 5 requests an hour per IP address and per email
    # (signed-in: per account, see shop.common.ratelimit).
    path("password-reset/", private_views.password_reset, name="password-reset-limited"),
    # Oscar's profile form, asking for the current password to change the email address.
    path("accounts/profile/edit/", private_views.profile_update, name="profile-update-checked"),
    # Oscar's login/register and register pages, registering through our service.
    path("accounts/login/", private_views.login_register, name="login-register"),
    path("accounts/register/", private_views.register, name="register-checked"),
    # Oscar's logout, POST only (a GET shows a page with the button).
    path("accounts/logout/", private_views.logout, name="logout-post"),
]

urlpatterns = [*BUSIEST, *DECLARED, oscar_urls(without=BUSIEST)]

if settings.SERVE_MEDIA:
    urlpatterns.insert(0, re_path(r"^media/(?P<path>.+)$", public_media, name="public-media"))

handler400 = "shop.storefront.views.bad_request"
