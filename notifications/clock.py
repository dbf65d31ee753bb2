"""The notification's clock: when a reply becomes late, and when the chase ladder's
steps fall due.

A notification's reply deadline is the end of its ``reply_due`` day (UTC). The ladder's
steps are offsets from that instant, configurable in settings.CHASE_LADDER. The services
set ``next_chase_at`` from here when a notification is sent or answered; the sweep
(chasing.sweep) walks the steps."""

from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings

DEFAULT_LADDER = (
    # (step number, name, offset from the reply deadline)
    (1, "reminder", timedelta(days=-3)),
    (2, "overdue", timedelta(0)),
    (3, "escalation", timedelta(days=7)),
    (4, "persistent_silence", timedelta(days=30)),
)


def ladder():
    return getattr(settings, "CHASE_LADDER", DEFAULT_LADDER)


def reply_deadline(reply_due: date) -> datetime:
    """The instant a reply becomes late: midnight UTC after the due date."""
    return datetime.combine(reply_due + timedelta(days=1), time.min, tzinfo=UTC)


def step_due_at(reply_due: date, step: int) -> datetime | None:
    for number, _name, offset in ladder():
        if number == step:
            return reply_deadline(reply_due) + offset
    return None


def next_chase_at(reply_due: date, after_step: int) -> datetime | None:
    """When the first step after ``after_step`` falls due (None: the ladder is done)."""
    for number, _name, offset in ladder():
        if number > after_step:
            return reply_deadline(reply_due) + offset
    return None


def first_chase_at(reply_due: date) -> datetime:
    return next_chase_at(reply_due, 0)


# The arrival ladder (chasing.arrival): one reminder to the importing authority, and the
# flag arrival_unconfirmed, when no arrival is confirmed this long after the dispatch.
ARRIVAL_REMINDER_AFTER = timedelta(days=30)


def arrival_reminder_at(dispatched_on: date) -> datetime:
    """The instant an unconfirmed arrival is reminded of: the start (UTC) of the day 30
    days after the dispatch."""
    return datetime.combine(dispatched_on + ARRIVAL_REMINDER_AFTER, time.min, tzinfo=UTC)
