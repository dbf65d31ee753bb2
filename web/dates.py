"""The range of dates and instants a person or a client may type.

Python's dates stop at year 9999, and the portal adds days to what it is given (a reply
deadline is the day after the due date; a period's end is exclusive), so a date near the
edges overflows into a 500. No date in this domain lies before 2000 or after 2099: every
date field of a form, a serializer or a query string is held to that range, with one
message saying so.

And how a date is written for people (``for_people``): the one format of the active
language (web/formats/), as the pages' ``|date`` filter writes it."""

from datetime import UTC, date, datetime, time

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)


def for_people(value: date | datetime) -> str:
    """A date ("16 December 2026") or an instant ("16 December 2026, 14:05 UTC") in words,
    for e-mails, messages and timeline texts: the same as {{ value|date }} (or
    |date:"DATETIME_FORMAT") on a page. Never for machines: they get ISO 8601."""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return date_format(value, "DATETIME_FORMAT")
    return date_format(value, "DATE_FORMAT")


def out_of_range_message() -> str:
    return _("Enter a date between %(earliest)s and %(latest)s.") % {
        "earliest": for_people(EARLIEST),
        "latest": for_people(LATEST),
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
