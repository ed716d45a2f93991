from django.http import Http404
from django.shortcuts import render
from django.views.generic import TemplateView

from shop.catalogue import selectors


class HomeView(TemplateView):
    template_name = "shop/home.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["evergreen_products"] = selectors.evergreen_highlights(limit=8)
        ctx["categories"] = selectors.menu_categories()
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
