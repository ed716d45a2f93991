import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

application = get_wsgi_application()

# What loading Django, the apps and the URLs made lives as long as the process: moved out of
# the collector's sight, so the oldest generation's collections (a page's worth of work every
# hundred or so requests) no longer walk it.
gc.collect()
gc.freeze()
