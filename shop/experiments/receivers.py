"""Signal receivers of experiments (thin): an account signing in keeps one variant."""

import logging

from shop.experiments.services import assignments_on_sign_in

logger = logging.getLogger(__name__)


def on_sign_in(sender, request=None, user=None, **kwargs) -> None:
    if user is None:
        return
    try:
        assignments_on_sign_in(request=request, user=user)
    except Exception:  # signing in never fails because of an experiment
        logger.exception("experiments: could not record the assignment of user %s", user.pk)
