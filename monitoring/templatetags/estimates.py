"""``{% country_estimates country %}``: the estimates in force this year for one country
and what is notified against them, on the country page (authorities sits below this app
and cannot ask for them itself)."""

from decimal import Decimal

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
    """A quantity of kg for people: thousands separated, no trailing zeros (1,000,000 and
    12.5); the API and the CSV keep the decimal string."""
    if value is None or value == "":
        return "—"
    amount = Decimal(value).normalize()
    return format(amount.quantize(Decimal(1)) if amount == amount.to_integral() else amount, ",f")
