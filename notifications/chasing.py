"""The chase ladder: when the sweep must next look at a notification.

A notification's reply deadline is the end of its ``reply_due`` day (UTC). The ladder's
steps are offsets from that instant, configurable in settings.CHASE_LADDER."""

import logging
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError

logger = logging.getLogger(__name__)

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
    due = notification.reply_due.isoformat()
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


def chase_one(notification_id: int, *, now) -> list[int]:
    """Record every chase step now due for one notification, exactly once. Returns the
    steps recorded by this call (empty if another sweep got there first)."""
    from django.db import transaction

    from .models import ChaseRecord, Event, EventKind, Notification, RiskKind, RiskSignal, Status
    from .outbox import emit

    with transaction.atomic():
        notification = (
            Notification.objects.select_related("importing_country", "importing_authority", "exporting_authority")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.next_chase_at is None or notification.next_chase_at > now:
            return []
        if notification.status != Status.AWAITING_REPLY or notification.reply_due is None:
            # Nothing left to chase (the services clear the column; this is a safety net).
            Notification.objects.filter(pk=notification.pk, next_chase_at=notification.next_chase_at).update(
                next_chase_at=None
            )
            return []
        steps = [
            (number, step_due_at(notification.reply_due, number))
            for number, _name, _offset in ladder()
            if number > notification.chase_step
        ]
        due = [(number, at) for number, at in steps if at <= now]
        later = [at for _number, at in steps if at > now]
        following = later[0] if later else None
        latest = due[-1][0] if due else notification.chase_step
        # The claim: only the sweep that moves the row from the step it read may act.
        claimed = Notification.objects.filter(
            pk=notification.pk,
            status=Status.AWAITING_REPLY,
            chase_step=notification.chase_step,
            next_chase_at=notification.next_chase_at,
        ).update(chase_step=latest, next_chase_at=following)
        if claimed != 1 or not due:
            return []
        for number, at in due:
            ChaseRecord.objects.create(
                notification=notification, step=number, due_at=at, recorded_at=now, messages_sent=number == latest
            )
            Event.objects.create(notification=notification, kind=getattr(EventKind, STEP_EVENTS[number].upper()), at=at)
            if number == 2:
                RiskSignal.objects.get_or_create(
                    notification=notification,
                    kind=RiskKind.SILENCE,
                    defaults={
                        "raised_at": at,
                        "detail": f"No reply by {notification.reply_due.isoformat()}",
                    },
                )
        caught_up_overdue = any(number == 2 for number, _at in due)
        for topic, side, subject, body in _messages_for(notification, latest, caught_up_overdue):
            emit(
                notification,
                topic,
                now=now,
                payload={"to": side, "subject": subject.replace("%", "%%"), "body": body, "step": latest},
                dedup_key=f"chase:{notification.pk}:{latest}:{side}",
            )
        return [number for number, _at in due]


def candidates(*, now, after=None, batch: int = 500):
    """Ids of notifications whose next chase instant has come, in (next_chase_at, id)
    order from ``after``. Uses the partial index notif_chase_due."""
    from django.db.models import Q

    from .models import Notification

    query = Notification.objects.filter(next_chase_at__lte=now)
    if after is not None:
        at, pk = after
        query = query.filter(Q(next_chase_at__gt=at) | Q(next_chase_at=at, pk__gt=pk))
    return list(query.order_by("next_chase_at", "pk").values_list("next_chase_at", "pk")[:batch])


def sweep(*, now, batch: int = 500) -> dict:
    """Chase every notification due at ``now``, in bounded batches (memory flat in the
    number of notifications), each in its own short transaction; messages leave through
    the outbox after commit, never inside a transaction."""
    processed = steps = 0
    after = None
    while True:
        rows = candidates(now=now, after=after, batch=batch)
        for _at, pk in rows:
            try:
                steps += len(chase_one(pk, now=now))
            except IntegrityError:
                # A step already recorded for this row (its state disagrees with its chase
                # records): leave it, say so, and go on, so one row never stalls the sweep.
                logger.exception("chase sweep: notification %s skipped", pk)
            processed += 1
        if len(rows) < batch:
            break
        after = rows[-1]
    return {"candidates": processed, "steps": steps}
