"""The readable diff of an amendment in a notification's timeline: each changed field with
its value before and after, named and shown as the amendment page names them."""

from django import template

from notifications import services

register = template.Library()


@register.filter
def amendment_rows(event) -> list[tuple[str, str, str]]:
    changes = (event.data or {}).get("changes", {})
    return [
        (services.amendment_label(key), services.amendment_value(old), services.amendment_value(new))
        for key, (old, new) in changes.items()
    ]
