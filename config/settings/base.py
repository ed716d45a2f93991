"""Settings shared by every environment. Values come from the environment (django-environ)."""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse_lazy
from oscar.defaults import *  # noqa: F403  (Oscar's OSCAR_* defaults, overridden below)

from shop.order.pipeline import PENDING_PAYMENT, PIPELINE  # plain data, no Django imports
from shop.storefront import embedded_db  # no Django imports either

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Local data of `make run` (embedded database, media, mail, private photos); ignored by git.
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))

SECRET_KEY = env("SECRET_KEY")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

# One engine, PostgreSQL, everywhere: tests, `make run` and production. Without DATABASE_URL
# the store uses `make run`'s embedded server in var/ (shop.storefront.embedded_db, started by
# run_store); production settings insist on DATABASE_URL.
EMBEDDED_DATABASE = not env("DATABASE_URL", default="")
if not EMBEDDED_DATABASE:
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    DATABASES = {"default": embedded_db.settings_database(VAR_DIR)}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("DATABASE_URL must name a PostgreSQL database (postgres://…)")
# Django's PostgreSQL backend, its health check without a round trip (shop.common.postgresql).
DATABASES["default"]["ENGINE"] = "shop.common.postgresql"
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if env.bool("DB_PREPARED_STATEMENTS", default=True):
    # Parameters bound by the server, and a query run five times on a connection prepared:
    # PostgreSQL plans it once per connection instead of on every run (planning a basket's
    # lines, a 7-table join, took 0.7 of its 1.0 ms). Set DB_PREPARED_STATEMENTS=false behind
    # a pooler in transaction mode (PgBouncer), which cannot keep a session's statements.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": 5}
    )
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.flatpages",
    "django.contrib.humanize",
    "oscar.config.Shop",
    "oscar.apps.analytics.apps.AnalyticsConfig",
    "shop.checkout.apps.CheckoutConfig",
    "oscar.apps.address.apps.AddressConfig",
    "shop.shipping.apps.ShippingConfig",
    "shop.catalogue.apps.CatalogueConfig",
    "oscar.apps.catalogue.reviews.apps.CatalogueReviewsConfig",
    "oscar.apps.communication.apps.CommunicationConfig",
    "shop.partner.apps.PartnerConfig",
    "shop.basket.apps.BasketConfig",
    "oscar.apps.payment.apps.PaymentConfig",
    "oscar.apps.offer.apps.OfferConfig",
    "shop.order.apps.OrderConfig",
    "oscar.apps.customer.apps.CustomerConfig",
    "shop.search.apps.SearchConfig",
    "oscar.apps.voucher.apps.VoucherConfig",
    "oscar.apps.wishlists.apps.WishlistsConfig",
    "shop.dashboard.apps.DashboardConfig",
    "oscar.apps.dashboard.reports.apps.ReportsDashboardConfig",
    "oscar.apps.dashboard.users.apps.UsersDashboardConfig",
    "oscar.apps.dashboard.orders.apps.OrdersDashboardConfig",
    "oscar.apps.dashboard.catalogue.apps.CatalogueDashboardConfig",
    "oscar.apps.dashboard.offers.apps.OffersDashboardConfig",
    "oscar.apps.dashboard.partners.apps.PartnersDashboardConfig",
    "oscar.apps.dashboard.pages.apps.PagesDashboardConfig",
    "oscar.apps.dashboard.ranges.apps.RangesDashboardConfig",
    "oscar.apps.dashboard.reviews.apps.ReviewsDashboardConfig",
    "oscar.apps.dashboard.vouchers.apps.VouchersDashboardConfig",
    "oscar.apps.dashboard.communications.apps.CommunicationsDashboardConfig",
    "oscar.apps.dashboard.shipping.apps.ShippingDashboardConfig",
    "widget_tweaks",
    "treebeard",
    "django_tables2",
    "sorl.thumbnail",
    "django_celery_beat",
    "csp",
    "axes",
    "shop.common",
    "shop.storefront",
    "shop.personalization",
    "shop.workshop",
    "shop.payments",
    "shop.reports",
    "shop.credit",
    "shop.takeback",
    "shop.referrals",
    "shop.lifecycle",
    "shop.growth",
    "shop.experiments",
]

SITE_ID = 1

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Early, so its header is on every response, cached pages included.
    "shop.storefront.csp.StoreCSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the body: 413 when Content-Length is over the path's cap.
    "shop.common.body_limit.RequestBodyLimitMiddleware",
    "shop.common.request_guard.NulInUrlMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "shop.basket.middleware.BasketMiddleware",  # Oscar's, with SameSite on its cookie
    # Just outside the page cache, so pages it serves are counted too: the funnel's events
    # (buffered, off the request path) and the consent banner cut out once chosen.
    "shop.growth.middleware.GrowthMiddleware",
    # Anonymous home, listing, search and product pages from the cache (after basket and CSRF).
    "shop.storefront.page_cache.PageCacheMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
    # Last: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.template.context_processors.i18n",
                "django.contrib.messages.context_processors.messages",
                "oscar.apps.checkout.context_processors.checkout",
                "oscar.apps.communication.notifications.context_processors.notifications",
                "oscar.core.context_processors.metadata",
                "shop.storefront.context_processors.storefront",
            ],
            # {% url %} with each address worked out once per process.
            "builtins": ["shop.storefront.templatetags.urls_once"],
        },
    }
]

AUTHENTICATION_BACKENDS = (
    # First: refuses any login attempt while the account or the IP is locked out.
    "axes.backends.AxesStandaloneBackend",
    "oscar.apps.customer.auth_backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(VAR_DIR / "media"))
# Product images are served by Django (with a week's cache) unless a proxy or CDN does it.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)
STORAGES = {
    "default": {"BACKEND": "shop.common.storage.AtomicFileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "marlow-vale",
    },
}


EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Marlow & Vale <hello@marlowandvale.co.uk>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Client address: proxies in front of the web process that append to X-Forwarded-For
# (0 = none, the local default; production behind one TLS proxy = 1). One rule for the
# lockout and the rate limits: shop.common.clientip.client_ip. ---
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Login lockout (django-axes): an account is locked for AXES_COOLOFF_MINUTES after
# AXES_FAILURE_LIMIT failed logins in a row, from anywhere; and an (account, address) pair
# too. Never an address alone: customers behind one address (an office, a mobile carrier)
# would lock each other out, and anyone could lock staff out from a shared address. (Trying
# one password on many accounts from one address is not limited here: the proxy's request
# rate limit is the place for that, see README "In front of it".) ---
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", ["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "shop.common.clientip.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "shop/account_locked.html"
AXES_USERNAME_CALLABLE = "shop.storefront.security.login_username"
AXES_VERBOSE = False

# Oscar's catalogue views import its search module, which imports haystack, whose import wants
# this setting. Haystack is not an installed app: search runs in PostgreSQL (shop.catalogue).
HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}

# --- Celery (namespace CELERY_) ---
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="marlowvale")
# Visibility timeout: a task not acked within it is redelivered; retries back off well below it.
# connect_retries_timeout: how long a publish waits for a broker that does not answer
# before giving up (the outbox keeps the task; a shopper's request must not hang on Redis).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "connect_retries_timeout": 1.5}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Set by `make run` when no Redis answers: tasks then run in-process.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat schedules live here, in code (django-celery-beat copies them into its tables).
CELERY_BEAT_SCHEDULE = {
    # Business reports: the customer fact tables (shop.reports), rebuilt every 10 minutes.
    "refresh-report-facts": {"task": "shop.reports.tasks.refresh_report_facts", "schedule": 600.0},
    "drain-outbox": {"task": "shop.common.tasks.drain_outbox", "schedule": 60.0},
    # Search documents marked dirty and not refreshed yet (a change's own task was lost).
    "refresh-search-documents": {
        "task": "shop.catalogue.tasks.refresh_search_documents",
        "schedule": 60.0,
    },
    "sweep-stripe-events": {"task": "shop.payments.tasks.stripe_events_sweep", "schedule": 300.0},
    "cancel-unpaid-orders": {
        "task": "shop.order.tasks.cancel_unpaid_orders",
        "schedule": crontab(hour=3, minute=10),
    },
    "flag-overdue-workshop-jobs": {
        "task": "shop.workshop.tasks.flag_overdue_workshop_jobs",
        "schedule": crontab(hour=7, minute=30),
    },
    "takeback-reminders-and-expiry": {
        "task": "shop.takeback.tasks.takeback_sweep",
        "schedule": env.float("TAKEBACK_SWEEP_SECONDS", default=3600.0),
    },
    # Lifecycle emails (shop.lifecycle): abandoned baskets often, the others once a day in
    # the morning. Each sweep queues an email once (a unique row per campaign and subject).
    "lifecycle-abandoned-baskets": {
        "task": "shop.lifecycle.tasks.lifecycle_sweep",
        "schedule": env.float("LIFECYCLE_ABANDONED_SWEEP_SECONDS", default=900.0),
        "kwargs": {"kind": "abandoned_basket"},
    },
    "lifecycle-win-back": {
        "task": "shop.lifecycle.tasks.lifecycle_sweep",
        "schedule": crontab(hour=10, minute=0),
        "kwargs": {"kind": "win_back"},
    },
    "lifecycle-takeback-reminders": {
        "task": "shop.lifecycle.tasks.lifecycle_sweep",
        "schedule": crontab(hour=10, minute=10),
        "kwargs": {"kind": "takeback_reminder"},
    },
    "lifecycle-review-requests": {
        "task": "shop.lifecycle.tasks.lifecycle_sweep",
        "schedule": crontab(hour=10, minute=20),
        "kwargs": {"kind": "review_request"},
    },
    # Growth: funnel events the web processes buffered in Redis, into PostgreSQL.
    "drain-funnel-events": {
        "task": "shop.growth.tasks.drain_events",
        "schedule": env.float("GROWTH_DRAIN_SECONDS", default=15.0),
    },
}
# Lifecycle emails: for a demo or a browser journey, a basket counts as abandoned after this
# many seconds instead of the campaign's hours (unset in production: staff set the hours).
LIFECYCLE_ABANDONED_AFTER_SECONDS = env.int("LIFECYCLE_ABANDONED_AFTER_SECONDS", default=None)
# Orders whose payment has not succeeded after this long are cancelled (daily job).
ORDER_UNPAID_CANCEL_HOURS = env.int("ORDER_UNPAID_CANCEL_HOURS", default=24)
# How long a payment page's offer (a checkout attempt and its PaymentIntent) can be paid:
# after that, confirming an unpaid attempt cancels its PaymentIntent and asks to start again.
CHECKOUT_ATTEMPT_MINUTES = env.int("CHECKOUT_ATTEMPT_MINUTES", default=60)

# --- Oscar ---
OSCAR_SHOP_NAME = "Marlow & Vale"
OSCAR_SHOP_TAGLINE = "Leather goods made by hand in Walsall since 1962"
# The home page's view; templates' {{ homepage_url }} (shop.storefront.context_processors).
STOREFRONT_HOME_VIEW = "storefront:home"
OSCAR_HOMEPAGE = reverse_lazy(STOREFRONT_HOME_VIEW)
OSCAR_DEFAULT_CURRENCY = "GBP"
# Oscar's thumbnail tag raises its errors when this is on (it defaults to DEBUG). sorl's
# key-value store can fail when two requests make the first thumbnails of one picture at once
# ("... is not in kvstore"): `make run` (DEBUG) answered 500 then. Logged, and the picture left
# out of that one response, as in production.
OSCAR_THUMBNAIL_DEBUG = False
OSCAR_FROM_EMAIL = DEFAULT_FROM_EMAIL
OSCAR_ALLOW_ANON_CHECKOUT = True
OSCAR_INITIAL_ORDER_STATUS = PENDING_PAYMENT
OSCAR_ORDER_STATUS_PIPELINE = {status: list(moves) for status, moves in PIPELINE.items()}
OSCAR_PRODUCTS_PER_PAGE = 12
# Back-in-stock alerts go out when a stock record's available stock rises (shop.partner.
# receivers); Oscar's own receiver would look for them on every save, each order included.
OSCAR_EAGER_ALERTS = False
OSCAR_MISSING_IMAGE_URL = "image_not_found.jpg"
OSCAR_REQUIRED_ADDRESS_FIELDS = ("first_name", "last_name", "line1", "line4", "postcode", "country")
OSCAR_SEARCH_FACETS = {"fields": {}, "queries": {}}


def _dashboard_staff_only(user, url_name=None, url_args=None, url_kwargs=None) -> bool:
    """Menu access for our own dashboard screens (not Oscar apps): active staff, as the
    views themselves require (oscar.views.decorators.permissions_required(["is_staff"]))."""
    return user.is_active and user.is_staff


def _staff_with(*perms: str):
    """Menu access for one of our screens that requires permissions besides is_staff: the same
    ones its view asks for (shown to staff without them, the link answered 403)."""

    def access(user, url_name=None, url_args=None, url_kwargs=None) -> bool:
        return user.is_active and user.is_staff and user.has_perms(perms)

    return access


def _reports_access(user, url_name=None, url_args=None, url_kwargs=None) -> bool:
    """Menu access for the business reports: staff with the reports permission."""
    return user.is_active and user.is_staff and user.has_perm("reports.view_business_reports")


def _dashboard_navigation(oscar: list[dict]) -> list[dict]:
    """Oscar's dashboard menu with our screens folded in, so the bar fits a 1280px window:
    ONE Fulfilment menu (Oscar's orders, statistics and partners, then our dispatch, workshop,
    parcel costs and background tasks), ONE Reports menu (the business reports, then Oscar's
    own), and Take-back and Personalization beside them. Oscar's items are found by their
    URL names (their labels are lazy translations)."""

    def find(url_name: str) -> dict:
        for item in oscar:
            names = [item.get("url_name")] + [c.get("url_name") for c in item.get("children", [])]
            if url_name in names:
                return item
        raise LookupError(url_name)

    fulfilment = find("dashboard:order-list")
    oscar_reports = find("dashboard:reports-index")
    business = [
        {"label": label, "url_name": f"business-reports:{name}", "access_fn": _reports_access}
        for label, name in (
            ("Online share", "online-share"),
            ("Customer profitability", "customers"),
            ("Segments and cohorts", "segments"),
            ("Production cost", "production-cost"),
            ("Lead time", "lead-time"),
            ("Personalization economics", "personalization"),
            ("Offline sales import", "imports"),
        )
    ]
    ours_in_fulfilment = [
        {
            "label": "Orders to dispatch",
            "url_name": "order-dashboard:fulfilment",
            "access_fn": _staff_with("order.view_order", "order.change_order"),
        },
        {
            "label": "Workshop jobs",
            "url_name": "workshop:job-list",
            "access_fn": _dashboard_staff_only,
        },
        {
            "label": "Parcel costs",
            "url_name": "shipping-dashboard:parcel-costs",
            "access_fn": _staff_with("shipping.view_parcelcost"),
        },
        {
            "label": "Background tasks",
            "url_name": "common-dashboard:tasks",
            "access_fn": _dashboard_staff_only,
        },
    ]
    # Growth (one entry per app): the funnel (shop.growth), A/B tests (shop.experiments),
    # referrals (shop.referrals), lifecycle emails (shop.lifecycle).
    growth = [
        {
            "label": "Funnel",
            "url_name": "growth-dashboard:funnel",
            "access_fn": _staff_with("growth.view_funnel"),
        },
        {
            "label": "Experiments",
            "url_name": "experiments-dashboard:list",
            "access_fn": _staff_with("experiments.view_experiment"),
        },
        {
            "label": "Referrals",
            "url_name": "referrals-dashboard:index",
            "access_fn": _dashboard_staff_only,
        },
        {
            "label": "Lifecycle emails",
            "url_name": "lifecycle-dashboard:index",
            "access_fn": _staff_with("lifecycle.view_campaign"),
        },
    ]
    menu = []
    for item in oscar:
        if item is fulfilment:
            item = {**item, "children": [*item.get("children", []), *ours_in_fulfilment]}
        elif item is oscar_reports:
            oscar_statistics = {
                "label": "Oscar statistics",
                "url_name": oscar_reports["url_name"],
            }
            item = {
                "label": "Reports",
                "icon": oscar_reports.get("icon", "fas fa-chart-line"),
                "children": [*business, oscar_statistics],
            }
        menu.append(item)
    menu.append({"label": "Growth", "icon": "fas fa-seedling", "children": growth})
    return [
        *menu,
        {
            "label": "Take-back",
            "icon": "fas fa-recycle",
            "children": [
                {
                    "label": "Queue",
                    "url_name": "takeback-dashboard:queue",
                    "access_fn": _dashboard_staff_only,
                },
                {
                    "label": "Receive parcels",
                    "url_name": "takeback-dashboard:receive",
                    "access_fn": _staff_with("takeback.grade_takeback"),
                },
                {
                    "label": "Credit rules and limits",
                    "url_name": "takeback-dashboard:rules",
                    "access_fn": _staff_with("takeback.edit_takeback_rules"),
                },
                {
                    "label": "Take-back report",
                    "url_name": "takeback-dashboard:report",
                    "access_fn": _dashboard_staff_only,
                },
            ],
        },
        {
            "label": "Personalization",
            "icon": "fas fa-pen-nib",
            "children": [
                {
                    "label": "Offers",
                    "url_name": "personalization-dashboard:offer-list",
                    "access_fn": _dashboard_staff_only,
                },
            ],
        },
    ]


OSCAR_DASHBOARD_NAVIGATION = _dashboard_navigation(OSCAR_DASHBOARD_NAVIGATION)  # noqa: F405

# --- Take-back scheme (shop.takeback) ---
# Defaults for the time limits staff can change on the rules screen (TakeBackPolicy).
TAKEBACK_REMINDER_DAYS = env.int("TAKEBACK_REMINDER_DAYS", default=14)
TAKEBACK_EXPIRY_DAYS = env.int("TAKEBACK_EXPIRY_DAYS", default=30)
TAKEBACK_OFFER_DAYS = env.int("TAKEBACK_OFFER_DAYS", default=14)
# What may be taken back: delivered items, or shipped ones this many days after shipping
# (a parcel whose delivery was never confirmed).
TAKEBACK_SHIPPED_DAYS = env.int("TAKEBACK_SHIPPED_DAYS", default=14)
# Customer and grading photos: outside MEDIA_ROOT, served only to their owner and staff.
TAKEBACK_PRIVATE_ROOT = env.path("TAKEBACK_PRIVATE_ROOT", default=str(VAR_DIR / "private"))
TAKEBACK_PHOTO_MAX_BYTES = env.int("TAKEBACK_PHOTO_MAX_BYTES", default=8 * 1024 * 1024)
TAKEBACK_PHOTOS_MAX = 6
# Leather in a product without its own weight (kg), for the landfill report.
TAKEBACK_DEFAULT_LEATHER_KG = env.str("TAKEBACK_DEFAULT_LEATHER_KG", default="0.250")

# --- Referrals (shop.referrals) ---
# Store credit (GBP, 2 decimal places) for a friend who joins through a customer's share link
# and places a first paid order, and for the customer who invited them: the defaults of the
# programme settings staff change at Dashboard > Growth > Referrals (read when first needed).
REFERRAL_FRIEND_CREDIT = env.str("REFERRAL_FRIEND_CREDIT", default="10.00")
REFERRAL_REFERRER_CREDIT = env.str("REFERRAL_REFERRER_CREDIT", default="10.00")
# How long a share link's cookie (mv_ref) remembers the invitation before registration.
REFERRAL_COOKIE_DAYS = env.int("REFERRAL_COOKIE_DAYS", default=30)
# --- First-party analytics (shop.growth) ---
# Funnel events of visitors who accepted analytics: counted by shop.growth.middleware, buffered
# per process and pushed to a Redis list (this key, on GROWTH_EVENTS_REDIS_URL or REDIS_URL),
# drained into PostgreSQL by beat every GROWTH_DRAIN_SECONDS. GROWTH_EVENTS=false stops the
# counting (the consent banner stays).
GROWTH_EVENTS = env.bool("GROWTH_EVENTS", default=True)
GROWTH_EVENTS_KEY = env("GROWTH_EVENTS_KEY", default="mv:growth:events")
GROWTH_EVENTS_REDIS_URL = env("GROWTH_EVENTS_REDIS_URL", default="")

# --- Request body size (shop.common.body_limit.RequestBodyLimitMiddleware) ---
# A body whose Content-Length is over its path's cap gets 413 before anything reads it. The
# first matching pattern (of request.path_info) wins; other paths get REQUEST_BODY_MAX_BYTES.
# Django's own DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB, form fields other than files, 400 when
# over) stays as is; FILE_UPLOAD_MAX_MEMORY_SIZE is only where an upload goes to a temporary
# file instead of memory, not a cap. The proxy in front caps the largest of these (README).
# The largest offline-sales CSV staff may import (shop.reports.services).
OFFLINE_SALES_IMPORT_MAX_BYTES = 20 * 1024 * 1024
REQUEST_BODY_FORM_OVERHEAD = 1024 * 1024  # multipart boundaries, headers and other fields
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_BYTES", default=1024 * 1024)
REQUEST_BODY_PHOTOS_MAX_BYTES = (
    TAKEBACK_PHOTOS_MAX * TAKEBACK_PHOTO_MAX_BYTES + REQUEST_BODY_FORM_OVERHEAD
)
REQUEST_BODY_LIMITS = [
    # Customers' take-back photos: on registering an item, and added later.
    (r"^/accounts/take-back/(new|\d+/photos)/$", REQUEST_BODY_PHOTOS_MAX_BYTES),
    # Staff grading photos, and Oscar's product images on the catalogue dashboard.
    (r"^/dashboard/take-back/\d+/[\w-]+/$", REQUEST_BODY_PHOTOS_MAX_BYTES),
    (r"^/dashboard/catalogue/", REQUEST_BODY_PHOTOS_MAX_BYTES),
    # The offline-sales CSV import.
    (
        r"^/dashboard/business-reports/imports/$",
        OFFLINE_SALES_IMPORT_MAX_BYTES + REQUEST_BODY_FORM_OVERHEAD,
    ),
]

# --- Dispatch promises (shop.common.workdays) ---
DISPATCH_CUTOFF = env("DISPATCH_CUTOFF", default="14:00")  # orders in by then start today
STOCK_DISPATCH_DAYS = env.int("STOCK_DISPATCH_DAYS", default=1)  # working days for stock items
# Days the workshop is closed besides weekends (ISO dates): bank holidays, the Christmas week.
WORKSHOP_CLOSED_DAYS = env.list(
    "WORKSHOP_CLOSED_DAYS",
    default=[
        "2026-12-25",
        "2026-12-28",
        "2027-01-01",
        "2027-03-26",
        "2027-03-29",
        "2027-05-03",
        "2027-05-31",
        "2027-08-30",
        "2027-12-27",
        "2027-12-28",
    ],
)

# --- Content-Security-Policy (django-csp 4; shop.storefront.csp applies it) ---
# Storefront: scripts only from us and Stripe, plus inline scripts carrying this response's
# nonce (`nonce="{{ request.csp_nonce }}"`: the one in oscar/base.html that runs Oscar's
# start-up code). No 'unsafe-inline' for scripts, so an injected <script> or onclick= does not
# run. Styles keep 'unsafe-inline' (style="" attributes in Oscar's and our templates).
# The header always carries a fresh nonce; whole-page cached pages get theirs on the way out
# (shop.storefront.page_cache). A local Stripe's origin (localstripe) is added at run time.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE, "https://js.stripe.com"],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "https://*.stripe.com"],
        "font-src": [SELF],
        "connect-src": [SELF, "https://api.stripe.com"],
        "frame-src": ["https://js.stripe.com", "https://hooks.stripe.com"],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
# Oscar's dashboard (and our staff screens under it) keep 'unsafe-inline' for scripts, and no
# nonce (a nonce would make browsers ignore 'unsafe-inline'): its templates put start-up code
# in inline <script> blocks and onclick=/onload= attributes all over (Oscar 4.2's
# dashboard/layout.html, image widgets, order and offer pages), which we do not fork. Only
# signed-in staff reach it, and its pages show no shopper-written HTML unescaped.
CSP_DASHBOARD_PATH_PREFIXES = ("/dashboard/",)
CSP_DASHBOARD_DIRECTIVES = {"script-src": [SELF, UNSAFE_INLINE]}
# Powerful browser features nobody here uses are off; the Payment Request API stays for this
# origin and Stripe.js (Apple Pay / Google Pay buttons in Stripe's frames).
PERMISSIONS_POLICY = (
    'camera=(), microphone=(), geolocation=(), payment=(self "https://js.stripe.com")'
)
# Oscar sets its basket cookie without SameSite (shop.basket.middleware adds it).
OSCAR_BASKET_COOKIE_SAMESITE = "Lax"

# --- Stripe (shop.payments.stripe_api is the only module that talks to it) ---
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
# Empty = real Stripe; e.g. http://127.0.0.1:8420 for localstripe (tests and the local demo).
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")
# Stripe.js for the payment page; with STRIPE_API_BASE set, localstripe's fake is used instead.
STRIPE_JS_URL = env("STRIPE_JS_URL", default="https://js.stripe.com/v3/")
STRIPE_TIMEOUT = env.float("STRIPE_TIMEOUT", default=20.0)  # seconds per request
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
# Fee rate used when Stripe's balance transaction gives none: percent of the amount + fixed.
STRIPE_FEE_PERCENT = env.str("STRIPE_FEE_PERCENT", default="1.5")
STRIPE_FEE_FIXED = env.str("STRIPE_FEE_FIXED", default="0.20")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"shop": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
