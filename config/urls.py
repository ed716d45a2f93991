from django.apps import apps
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("shop.storefront.urls")),
    path("", include("shop.personalization.urls")),
    path("dashboard/workshop/", include("shop.workshop.urls")),
    path("dashboard/personalization/", include("shop.personalization.dashboard_urls")),
    path("", include(apps.get_app_config("oscar").urls[0])),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "shop.storefront.views.bad_request"
