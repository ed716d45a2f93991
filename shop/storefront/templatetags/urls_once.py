"""`{% url %}` reversing through shop.common.urls.reverse_once (a template builtin, so every
template's `{% url %}` is this one: settings.TEMPLATES' "builtins"). Django's tag reverses
the name on every render."""

from __future__ import annotations

from django import template
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch
from django.utils.html import conditional_escape

from shop.common.urls import reverse_once

register = template.Library()


class OnceURLNode(URLNode):
    """Django's URLNode, reversing through reverse_once."""

    def render(self, context):
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        url = ""
        try:
            url = reverse_once(view_name, tuple(args), kwargs, current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token):
    """Django's `{% url %}` (same syntax, same errors), rendered by OnceURLNode."""
    node = django_url(parser, token)
    return OnceURLNode(node.view_name, node.args, node.kwargs, node.asvar)
