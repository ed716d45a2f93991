from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.views.generic import TemplateView

from shop.catalogue import selectors
from shop.takeback.selectors import preloved_category, preloved_on_sale


class HomeView(TemplateView):
    template_name = "shop/home.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["evergreen_products"] = selectors.evergreen_highlights(limit=8)
        ctx["categories"] = selectors.menu_categories()
        ctx["preloved_category"] = preloved_category()
        ctx["preloved_products"] = preloved_on_sale(limit=4)
        return ctx


# Customer-service pages: plain templates under templates/shop/pages/.
CONTENT_PAGES = {
    "take-back": "The take-back promise",
    "care": "Caring for your leather",
    "delivery": "Delivery",
    "returns": "Returns and repairs",
    "contact": "Contact us",
    "our-workshop": "Our workshop",
}


def content_page(request, slug: str):
    if slug not in CONTENT_PAGES:
        raise Http404("No such page.")
    return render(
        request, f"shop/pages/{slug}.html", {"page_title": CONTENT_PAGES[slug], "slug": slug}
    )


def bad_request(request, exception=None):
    """400 in the shop's full layout (Django's default renders without the request)."""
    return render(request, "400.html", {"reason": str(exception or "")[:200]}, status=400)


# Public media only: product pictures and their thumbnails. Private uploads (take-back photos,
# labels) are stored elsewhere and served by their own access-checked views.
PUBLIC_MEDIA_PREFIXES = ("products/", "images/products/", "cache/")


def public_media(request, path: str):
    """Serve product images from MEDIA_ROOT when no proxy or CDN does (SERVE_MEDIA)."""
    from django.conf import settings
    from django.views.static import serve

    if not path.startswith(PUBLIC_MEDIA_PREFIXES) or ".." in path.split("/"):
        raise Http404("No such file.")
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Cache-Control"] = "public, max-age=604800"
    return response


def favicon(request):
    """/favicon.ico, which browsers ask for wherever a page names no icon (an image or a PDF
    opened on its own): our icon, instead of a 404 on every such visit. Resolved per request,
    since the static file's hashed name is only known once static files are collected."""
    return HttpResponseRedirect(static("shop/img/favicon.svg"))
