"""What apps above catalogue add to its pages, registered in their AppConfig.ready()
(catalogue imports none of them): name -> function of the product giving a context value."""

from collections.abc import Callable
from typing import Any

PRODUCT_PAGE_CONTEXT: dict[str, Callable[[Any], Any]] = {}
