"""System check: take-back photos must never sit where the public media or static files are
served from."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register


@register()
def private_root_is_private(app_configs=None, **kwargs):
    private = Path(settings.TAKEBACK_PRIVATE_ROOT).resolve()
    errors = []
    for name in ("MEDIA_ROOT", "STATIC_ROOT"):
        public = getattr(settings, name, None)
        if not public:
            continue
        public = Path(public).resolve()
        if private == public or public in private.parents or private in public.parents:
            errors.append(
                Error(
                    f"TAKEBACK_PRIVATE_ROOT ({private}) overlaps {name} ({public}): customers' "
                    "photos would be public.",
                    hint="Point TAKEBACK_PRIVATE_ROOT at a folder outside media and static.",
                    id="takeback.E001",
                )
            )
    return errors
