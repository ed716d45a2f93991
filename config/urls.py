from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path

from shop.catalogue import dashboard as catalogue_dashboard
from shop.order import dashboard as order_dashboard
from shop.storefront import order_lines, private_views, wishlists
from shop.storefront.views import public_media


def oscar_guarded(app_label: str, name: str, view):
    """One of Oscar's dashboard views replaced by ours, under the same permissions as the
    Oscar pattern of that name (see OSCAR_DASHBOARD_NAVIGATION and the app's permissions)."""
    decorator = apps.get_app_config(app_label).get_url_decorator(path("", view, name=name))
    return decorator(view) if decorator else view


# Oscar's dashboard views that answered 500 on hostile input, repaired by thin subclasses
# (issue "No request gets a 500"); before Oscar's own patterns of the same paths. Each keeps
# its Oscar URL name (un-namespaced): the dashboard menu resolves a URL to its name to find
# the permissions.
product_view = catalogue_dashboard.ProductCreateUpdateView.as_view()
OSCAR_REPAIRS = [
    path(
        "dashboard/orders/",
        oscar_guarded("orders_dashboard", "order-list", order_dashboard.OrderListView.as_view()),
        name="order-list",
    ),
    re_path(
        r"^dashboard/orders/(?P<number>(?!statistics/)[^/]+)/$",
        oscar_guarded(
            "orders_dashboard", "order-detail", order_dashboard.OrderDetailView.as_view()
        ),
        name="order-detail",
    ),
    path(
        "dashboard/catalogue/categories/",
        oscar_guarded(
            "catalogue_dashboard",
            "catalogue-category-list",
            catalogue_dashboard.CategoryListView.as_view(),
        ),
        name="catalogue-category-list",
    ),
    path(
        "dashboard/catalogue/categories/<int:pk>/",
        oscar_guarded(
            "catalogue_dashboard",
            "catalogue-category-detail-list",
            catalogue_dashboard.CategoryDetailListView.as_view(),
        ),
        name="catalogue-category-detail-list",
    ),
    path(
        "dashboard/catalogue/products/<int:pk>/",
        oscar_guarded("catalogue_dashboard", "catalogue-product", product_view),
        name="catalogue-product",
    ),
    re_path(
        r"^dashboard/catalogue/products/create/(?P<product_class_slug>[\w-]+)/$",
        oscar_guarded("catalogue_dashboard", "catalogue-product-create", product_view),
        name="catalogue-product-create",
    ),
    path(
        "dashboard/catalogue/products/<int:parent_pk>/create-variant/",
        oscar_guarded("catalogue_dashboard", "catalogue-product-create-child", product_view),
        name="catalogue-product-create-child",
    ),
    path(
        "dashboard/catalogue/stock-alerts/",
        oscar_guarded(
            "catalogue_dashboard",
            "stock-alert-list",
            catalogue_dashboard.StockAlertListView.as_view(),
        ),
        name="stock-alert-list",
    ),
    path(
        "dashboard/reviews/",
        oscar_guarded(
            "reviews_dashboard", "reviews-list", catalogue_dashboard.ReviewListView.as_view()
        ),
        name="reviews-list",
    ),
    path(
        "accounts/wishlists/create/",
        login_required(wishlists.WishListCreateView.as_view()),
        name="wishlists-create-checked",
    ),
    path(
        "accounts/wishlists/create/with-product/<int:product_pk>/",
        login_required(wishlists.WishListCreateView.as_view()),
        name="wishlists-create-with-product-checked",
    ),
    path(
        "accounts/wishlists/<str:key>/update/",
        login_required(wishlists.WishListUpdateView.as_view()),
        name="wishlists-update-checked",
    ),
    path(
        "accounts/orders/<str:order_number>/<int:line_id>/",
        login_required(order_lines.OrderLineView.as_view()),
        name="order-line-checked",
    ),
]

urlpatterns = [
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
    path("dashboard/payments/", include("shop.payments.dashboard_urls")),
    path("dashboard/business-reports/", include("shop.reports.dashboard_urls")),
    path("dashboard/take-back/", include("shop.takeback.dashboard_urls")),
    path("accounts/take-back/", include("shop.takeback.urls")),
    path("accounts/credit/", include("shop.credit.urls")),
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
    path("", include(apps.get_app_config("oscar").urls[0])),
]

if settings.SERVE_MEDIA:
    urlpatterns.insert(0, re_path(r"^media/(?P<path>.+)$", public_media, name="public-media"))

handler400 = "shop.storefront.views.bad_request"
