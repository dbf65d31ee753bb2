"""The chase sweep: every notification whose next chase instant has come is walked down
the ladder (notifications.clock), in bounded batches, each step recorded once."""

import logging
from datetime import datetime

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from messaging import outbox
from notifications import timeline
from notifications.clock import ladder, step_due_at
from notifications.models import Event, EventKind, Notification, RiskKind, RiskSignal, Status
from web.dates import for_people

from .models import ChaseRecord

logger = logging.getLogger(__name__)


# --- the sweep --------------------------------------------------------------------------
#
# Catch-up rule (after downtime, or `chase_overdue --at` replaying a period): every step
# whose time has come is recorded, each dated at its own due time, but only the latest
# step's messages are sent, so a sweep after an outage never floods a focal point with a
# reminder, an overdue notice and an escalation at once. One exception: when the overdue
# step is among those caught up, the exporting authority is still told once that the
# notification is overdue, because it decides whether to ship.

STEP_EVENTS = {
    1: "reminder",
    2: "overdue",
    3: "escalated",
    4: "persistent_silence",
}


def no_reply_by(reply_due) -> str:
    """The silence signal's text, shown on the notification's page."""
    from django.utils.translation import gettext as _

    return _("No reply by %(date)s") % {"date": for_people(reply_due)}


def _regime_advice(notification) -> str:
    from django.utils.translation import gettext as _

    from authorities.models import ReplyRegime

    if notification.importing_country.reply_regime == ReplyRegime.TACIT_CONSENT:
        return _("The importing country's declared policy treats silence as consent; the silence is still recorded.")
    return _("No reply: do not ship on silence. The importing country requires explicit consent.")


def _messages_for(notification, step: int, caught_up_overdue: bool) -> list[tuple[str, str, str, str]]:
    """(topic, recipient side, subject, body) for the messages a step sends."""
    from django.utils.translation import gettext as _

    ref = notification.reference
    due = for_people(notification.reply_due)  # the e-mails are read by people
    importing = notification.importing_country.name
    to_importer_overdue = (
        "notification.overdue",
        "importing",
        _("Overdue: pre-export notification %(ref)s was due %(due)s") % {"ref": ref, "due": due},
        _("Your reply to pre-export notification %(ref)s was due on %(due)s and has not been received. Please reply.")
        % {"ref": ref, "due": due},
    )
    to_exporter_overdue = (
        "notification.overdue",
        "exporting",
        _("No reply from %(country)s: %(ref)s is overdue") % {"country": importing, "ref": ref},
        _("%(country)s has not replied to %(ref)s, due %(due)s. %(advice)s")
        % {"country": importing, "ref": ref, "due": due, "advice": _regime_advice(notification)},
    )
    messages = []
    if step == 1:
        messages.append(
            (
                "notification.reminder",
                "importing",
                _("Reminder: pre-export notification %(ref)s is due %(due)s") % {"ref": ref, "due": due},
                _("A reply to pre-export notification %(ref)s is due on %(due)s.") % {"ref": ref, "due": due},
            )
        )
    elif step == 2:
        messages += [to_importer_overdue, to_exporter_overdue]
    elif step == 3:
        messages.append(
            (
                "notification.escalated",
                "importing",
                _("Second reminder: pre-export notification %(ref)s is 7 days overdue") % {"ref": ref},
                _(
                    "Your reply to pre-export notification %(ref)s was due on %(due)s. INCB has been told of the "
                    "silence. Please reply now."
                )
                % {"ref": ref, "due": due},
            )
        )
    if caught_up_overdue and step > 2:
        messages.append(to_exporter_overdue)
    return messages


def _plan(notification, now):
    """The steps now due for one notification: (due steps with their instants, the latest
    step reached, the next instant to look again)."""
    steps = [
        (number, step_due_at(notification.reply_due, number))
        for number, _name, _offset in ladder()
        if number > notification.chase_step
    ]
    due = [(number, at) for number, at in steps if at <= now]
    later = [at for _number, at in steps if at > now]
    latest = due[-1][0] if due else notification.chase_step
    return due, latest, (later[0] if later else None)


def chase_batch(ids: list[int], *, now) -> int:
    """Record every chase step now due for these notifications, in one transaction.
    Returns the number of steps recorded.

    The rows are locked FOR UPDATE SKIP LOCKED: a second sweep running at the same time
    (two beats, a redelivered task) skips them instead of waiting, and a reply or a
    withdrawal waits for the batch to commit, then sees the new state. The writes are a
    few multi-row statements; the unique constraints (one record per step, one outbox
    message per recipient per step, one silence signal) still stand behind them. Messages
    are enqueued after commit, one task per batch."""

    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("importing_country")
            .only(
                "reference",
                "status",
                "reply_due",
                "chase_step",
                "next_chase_at",
                "importing_country__name",
                "importing_country__reply_regime",
                "importing_country__reply_period_days",
                "importing_country__reply_period_kind",
            )
            .filter(pk__in=ids, next_chase_at__lte=now)
            .order_by("pk")
        )
        changed, records, events, signals, messages = [], [], [], [], []
        for notification in rows:
            if notification.status != Status.AWAITING_REPLY or notification.reply_due is None:
                # Nothing left to chase (the services clear the column; a safety net).
                notification.next_chase_at = None
                changed.append(notification)
                continue
            due, latest, following = _plan(notification, now)
            notification.chase_step, notification.next_chase_at = latest, following
            changed.append(notification)
            for number, at in due:
                records.append(
                    ChaseRecord(
                        notification=notification,
                        step=number,
                        due_at=at,
                        recorded_at=now,
                        messages_sent=number == latest,
                    )
                )
                events.append(
                    Event(notification=notification, kind=getattr(EventKind, STEP_EVENTS[number].upper()), at=at)
                )
                if number == 2:
                    signals.append(
                        RiskSignal(
                            notification=notification,
                            kind=RiskKind.SILENCE,
                            raised_at=at,
                            detail=no_reply_by(notification.reply_due),
                        )
                    )
            caught_up_overdue = any(number == 2 for number, _at in due)
            for topic, side, subject, body in _messages_for(notification, latest, caught_up_overdue) if due else []:
                messages.append(
                    (
                        notification,
                        topic,
                        {"to": side, "subject": subject.replace("%", "%%"), "body": body, "step": latest},
                        f"chase:{notification.pk}:{latest}:{side}",
                    )
                )
        Notification.objects.bulk_update(changed, ["chase_step", "next_chase_at"])
        ChaseRecord.objects.bulk_create(records)
        # Chained to each notification's head (read once for the batch, under the FOR UPDATE
        # above, so no other writer can add an event in between), in insertion order.
        Event.objects.bulk_create(timeline.chain(events))
        RiskSignal.objects.bulk_create(signals, ignore_conflicts=True)
        outbox.emit_many(messages, now=now)
    return len(records)


def candidates(*, now, after=None, batch: int = 500):
    """Ids of notifications whose next chase instant has come, in (next_chase_at, id)
    order from ``after``. Uses the partial index notif_chase_due."""

    query = Notification.objects.filter(next_chase_at__lte=now)
    if after is not None:
        at, pk = after
        query = query.filter(Q(next_chase_at__gt=at) | Q(next_chase_at=at, pk__gt=pk))
    return list(query.order_by("next_chase_at", "pk").values_list("next_chase_at", "pk")[:batch])


def sweep(*, now, batch: int | None = None) -> dict:
    """Chase every notification due at ``now``, in bounded batches (memory flat in the
    number of notifications), each batch in its own short transaction; messages leave
    through the outbox after commit, never inside a transaction. ``candidates`` counts the
    rows looked at (a row another sweep holds is skipped and left to it)."""
    batch = batch or settings.CHASE_BATCH
    processed = steps = 0
    after = None
    while True:
        rows = candidates(now=now, after=after, batch=batch)
        ids = [pk for _at, pk in rows]
        try:
            steps += chase_batch(ids, now=now)
        except IntegrityError:
            # A step already recorded for a row whose state disagrees with its records:
            # chase this batch one by one, so that only the bad row is left (and logged)
            # and it never stalls the sweep.
            for pk in ids:
                try:
                    steps += chase_batch([pk], now=now)
                except IntegrityError:
                    logger.exception("chase sweep: notification %s skipped", pk)
        processed += len(rows)
        if len(rows) < batch:
            break
        after = rows[-1]
    return {"candidates": processed, "steps": steps}


@shared_task(name="chasing.chase_sweep", acks_late=True, reject_on_worker_lost=True)
def chase_sweep(at: str | None = None) -> dict:
    """The periodic chase (``at``: an ISO instant to sweep as of, for replays and tests).
    Safe to run twice at once (two beats, a redelivery): each step is claimed by a
    conditional UPDATE and recorded under a unique constraint."""
    return sweep(now=datetime.fromisoformat(at) if at else timezone.now())
