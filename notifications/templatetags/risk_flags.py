"""``{{ signal|risk_detail }}``: a flag's detail in the reader's language (notifications.risk)."""

from django import template

from notifications import risk

register = template.Library()


@register.filter
def risk_detail(signal) -> str:
    return risk.detail_of(signal)


@register.filter
def finding_detail(finding) -> str:
    """A previewed flag's detail (not stored yet), in the reader's language."""
    return risk.describe_finding(finding)


@register.filter
def risk_check(kind) -> str:
    """What a person should check for an open flag of ``kind``."""
    return risk.what_to_check(str(kind))


@register.filter
def risk_kind_label(kind) -> str:
    from notifications.models import RiskKind

    try:
        return RiskKind(str(kind)).label
    except ValueError:
        return str(kind)
