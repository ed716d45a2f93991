import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

application = get_wsgi_application()

# The pages shoppers ask for most, compiled before the freeze below (each template's nodes are
# kept by the cached loader for the life of the process).
PAGE_TEMPLATES = (
    "shop/home.html",
    "oscar/catalogue/browse.html",
    "oscar/catalogue/category.html",
    "oscar/search/results.html",
    "oscar/catalogue/detail.html",
    "oscar/basket/basket.html",
)


def _load_what_lives_as_long_as_the_process() -> None:
    """The URL patterns (every view module imported, every resolver indexed) and the page
    templates, which Django would load on the first requests: ~35,000 objects the collector's
    full collections walked on every pass (~10 ms each) once the process served them."""
    from django.template.loader import get_template
    from django.urls import get_resolver

    def index(resolver) -> None:
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                index(pattern)
        resolver.reverse_dict  # noqa: B018 (indexes the resolver)

    index(get_resolver())
    for name in PAGE_TEMPLATES:
        get_template(name)


_load_what_lives_as_long_as_the_process()

# What loading Django, the apps, the URLs and the page templates made lives as long as the
# process: moved out of the collector's sight, so the oldest generation's collections (a page's
# worth of work every hundred or so requests) no longer walk it.
gc.collect()
gc.freeze()
