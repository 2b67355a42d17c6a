from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    return (mapping or {}).get(key) or {}


@register.filter
def indicator(value, unit):
    """An indicator value as shown: shares in %, money with 2 places, others with 1."""
    if value in (None, ""):
        return "—"
    value = Decimal(value)
    if unit == "%":
        return f"{value * 100:.1f}%"
    if unit == "CNY":
        return f"{value:,.2f}"
    return f"{value:,.1f}"
