"""`{% load experiments %}`: templates read a visitor's variant through the one helper,
shop.experiments.selectors.variant.

    {% variant "takeback-promise" as v %}{% if v == "promise" %}...{% endif %}

    {% experiment "takeback-promise" "promise" %}for "promise"{% else %}others{% endexperiment %}

A name or variant that is not a plain slug (long, HTML, NUL...) reads as control: nothing of
it is ever written into the page.
"""

from django import template

from shop.experiments.models import CONTROL
from shop.experiments.selectors import variant as variant_of

register = template.Library()


@register.simple_tag(takes_context=True)
def variant(context, name) -> str:
    return variant_of(context.get("request"), name)


class ExperimentNode(template.Node):
    def __init__(self, name, key, shown, otherwise):
        self.name, self.key, self.shown, self.otherwise = name, key, shown, otherwise

    def render(self, context) -> str:
        try:
            name, key = self.name.resolve(context), self.key.resolve(context)
        except template.VariableDoesNotExist:
            name, key = None, CONTROL
        if variant_of(context.get("request"), name) == key:
            return self.shown.render(context)
        return self.otherwise.render(context) if self.otherwise is not None else ""


@register.tag("experiment")
def experiment(parser, token):
    bits = token.split_contents()
    if len(bits) != 3:
        raise template.TemplateSyntaxError(
            f'{bits[0]} takes an experiment name and a variant: {{% {bits[0]} "name" "variant" %}}'
        )
    name, key = parser.compile_filter(bits[1]), parser.compile_filter(bits[2])
    shown = parser.parse(("else", "endexperiment"))
    otherwise = None
    if parser.next_token().contents == "else":
        otherwise = parser.parse(("endexperiment",))
        parser.delete_first_token()
    return ExperimentNode(name, key, shown, otherwise)


@register.filter
def percent(fraction) -> str:
    """A rate (0.123) as the report shows it: "12.3 %"."""
    try:
        return f"{float(fraction) * 100:.1f} %"
    except (TypeError, ValueError):
        return "–"


@register.filter
def points(fraction) -> str:
    """A difference of rates (0.0123) in percentage points, signed: "+1.2 pts"."""
    try:
        return f"{float(fraction) * 100:+.1f} pts"
    except (TypeError, ValueError):
        return "–"
