"""``{% error_title_prefix %}``: "Error: " at the start of the page's <title> when the page
shows a form with errors (WCAG 3.3.1; the title is the first thing a screen reader reads
after a submission, and the browser tab's only text).

Decided once, here, from what the page's context holds, so that no page can forget it:
a bound form or formset with errors, a page-level form that can list its errors (its
``error_anchors()``, as the filing form's item rows and main form do), or an error
summary handed to the template as ``errors``."""

from django import forms, template
from django.utils.functional import LazyObject
from django.utils.translation import gettext as _

register = template.Library()


def _has_errors(value) -> bool:
    if isinstance(value, LazyObject):
        # The lazy request.user and the like: never evaluated (nor queried) for this.
        return False
    if isinstance(value, forms.BaseForm):
        return value.is_bound and bool(value.errors)
    if isinstance(value, forms.BaseFormSet):
        return value.is_bound and value.total_error_count() > 0
    # Looked up on the type, not the value: some context values answer any attribute.
    anchors = getattr(type(value), "error_anchors", None)
    if callable(anchors):
        return bool(value.error_anchors())
    return False


def page_has_errors(context) -> bool:
    flat = context.flatten()
    if flat.get("errors"):
        return True
    return any(_has_errors(value) for value in flat.values())


@register.simple_tag(takes_context=True)
def error_title_prefix(context) -> str:
    # Translators: the start of a page's title when its form was refused, e.g. "Error: Invite a user".
    return _("Error: ") if page_has_errors(context) else ""
