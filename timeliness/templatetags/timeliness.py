"""Template tags through which other apps' pages show a timeliness figure without
importing this app: the notification's pages load ``{% load timeliness %}`` and write
``{% silence_record country today %}``; the figure is computed here, once."""

from django import template

from .. import stats

register = template.Library()


@register.inclusion_tag("timeliness/_country_signal.html")
def silence_record(country, today):
    """The importing country's silence record, regime advice and focal point (nothing
    when there is no country yet). ``today`` comes from the view: nothing here reads the
    clock."""
    return {"signal": stats.country_signal(country, today=today) if country else None}
