"""What every page's form does with errors: a service's field-keyed ValidationError shown
beside the fields it names, and the error summary's links to those fields."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def add_service_error(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError beside the fields it names (or above the form)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, messages in error.message_dict.items():
        form.add_error(key if key in form.fields else None, messages)


def error_anchors(form: forms.Form, fallback_anchor: str) -> list[tuple[str, str]]:
    """(anchor id, message) for an error summary; each links to its field. A form may name
    its fields differently there (``summary_labels``)."""
    anchors = [(fallback_anchor, message) for message in form.errors.get(NON_FIELD_ERRORS, [])]
    labels = getattr(form, "summary_labels", {})
    for name, field in form.fields.items():
        for message in form.errors.get(name, []):
            anchor = form[name].auto_id + ("_0" if isinstance(field.widget, forms.RadioSelect) else "")
            anchors.append((anchor, f"{labels.get(name, field.label)}: {message}"))
    return anchors
