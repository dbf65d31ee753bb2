"""The range of dates and instants a person or a client may type.

Python's dates stop at year 9999, and the portal adds days to what it is given (a reply
deadline is the day after the due date; a period's end is exclusive), so a date near the
edges overflows into a 500. No date in this domain lies before 2000 or after 2099: every
date field of a form, a serializer or a query string is held to that range, with one
message saying so."""

from datetime import UTC, date, datetime, time

from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext as _

EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)


def out_of_range_message() -> str:
    return _("Enter a date between %(earliest)s and %(latest)s.") % {
        "earliest": date_format(EARLIEST, "j F Y"),
        "latest": date_format(LATEST, "j F Y"),
    }


def in_range(value: date | datetime) -> bool:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return datetime.combine(EARLIEST, time.min, UTC) <= value <= datetime.combine(LATEST, time.max, UTC)
    return EARLIEST <= value <= LATEST


def validate_typed_date(value: date | datetime | None) -> None:
    """A validator for form and serializer fields (DRF runs Django validators too)."""
    if value is not None and not in_range(value):
        raise ValidationError(out_of_range_message(), code="date_out_of_range")
