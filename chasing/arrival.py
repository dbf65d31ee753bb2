"""The arrival ladder: a consignment dispatched 30 days ago whose arrival nobody has
confirmed gets one reminder to the importing authority and the risk flag
``arrival_unconfirmed`` (resolved when the arrival is confirmed).

The database is the truth, as for the chase ladder: ``arrival_check_at`` says when a
notification is due, and the conditional UPDATE that clears it claims the reminder, in
the same transaction as the flag, the timeline's event and the outbox message (with its
dedup key). Two sweeps at once, a redelivered task or a restarted worker find nothing
left to claim: one reminder, one flag, whatever the workers do."""

import logging
from datetime import datetime

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from messaging import outbox
from notifications.models import EventKind, Notification, RiskKind, RiskSignal
from notifications.services import record_event
from web.dates import for_people

logger = logging.getLogger(__name__)


def remind(notification_id: int, *, now: datetime) -> bool:
    """Claim and send one notification's arrival reminder; False if there is none to send."""
    with transaction.atomic():
        claimed = Notification.objects.filter(
            pk=notification_id, arrival_check_at__lte=now, arrival_recorded_at__isnull=True
        ).update(arrival_check_at=None)
        if claimed != 1:
            return False
        notification = Notification.objects.select_related("importing_country").get(pk=notification_id)
        detail = _("Dispatched on %(date)s; no arrival confirmed 30 days later.") % {
            "date": for_people(notification.dispatched_on)
        }
        RiskSignal.objects.get_or_create(
            notification=notification,
            kind=RiskKind.ARRIVAL_UNCONFIRMED,
            defaults={"raised_at": now, "detail": detail},
        )
        record_event(notification, EventKind.ARRIVAL_REMINDED, now=now, detail=detail)
        outbox.emit(
            notification,
            "notification.arrival_reminder",
            now=now,
            payload={
                "body": _(
                    "The consignment of pre-export notification %(ref)s was dispatched on %(date)s. Confirm its "
                    "arrival and the quantities received, or say that it has not arrived."
                )
                % {"ref": notification.reference, "date": for_people(notification.dispatched_on)}
            },
            dedup_key=f"arrival-reminder:{notification.pk}",
        )
    return True


def sweep(*, now: datetime, batch: int = 500) -> int:
    """Remind every dispatched notification whose arrival reminder has come; how many."""
    due = list(
        Notification.objects.filter(arrival_check_at__lte=now, arrival_recorded_at__isnull=True)
        .order_by("arrival_check_at", "pk")
        .values_list("pk", flat=True)[:batch]
    )
    reminded = sum(remind(pk, now=now) for pk in due)
    if reminded:
        logger.info("arrival sweep: %d reminder(s)", reminded)
    return reminded


@shared_task(name="chasing.arrival_sweep", acks_late=True, reject_on_worker_lost=True)
def arrival_sweep(at: str | None = None) -> int:
    """Periodic (``at``: an ISO instant to sweep as of, for replays and tests)."""
    return sweep(now=datetime.fromisoformat(at) if at else timezone.now())
