"""``{% country_estimates country %}``: the estimates in force this year for one country
and what is notified against them, on the country page (authorities sits below this app
and cannot ask for them itself)."""

from django import template
from django.utils import timezone

from monitoring import estimates

register = template.Library()


@register.inclusion_tag("monitoring/_country.html")
def country_estimates(country):
    year = timezone.now().year
    return {"rows": estimates.rows([country.code], year, with_missing=True), "year": year, "country": country}


@register.filter
def kg(value) -> str:
    """``{{ quantity|kg }}``: estimates.format_kg, or a dash for no quantity."""
    if value is None or value == "":
        return "—"
    return estimates.format_kg(value)
