"""The outbox: messages about a notification owed to its parties, by e-mail and webhook.
``emit`` writes a row in the caller's transaction and enqueues the sending task after
commit; ``dispatch`` sends one row at most once at a time. The tasks are declared here,
beside the work they do, under explicit names (the names are what the broker carries)."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from . import webhooks
from .models import OutboxMessage
from .topics import RECIPIENTS

LEASE = timedelta(minutes=5)
DISPATCH_CHUNK = 25

SUBJECTS = {
    "notification.transit": _("Pre-export notification %(ref)s: a shipment will pass through your country"),
    "notification.received": _("Pre-export notification %(ref)s awaits your reply"),
    "notification.withdrawn": _("Pre-export notification %(ref)s was withdrawn"),
    "notification.acknowledged": _("Pre-export notification %(ref)s: receipt acknowledged"),
    "notification.replied": _("Pre-export notification %(ref)s: the importing country replied"),
    "notification.information_requested": _("Pre-export notification %(ref)s: information requested"),
    "notification.amended": _("Pre-export notification %(ref)s was amended"),
    "notification.dispatched": _("Pre-export notification %(ref)s: the consignment was dispatched"),
    "notification.arrived": _("Pre-export notification %(ref)s: the importing country confirmed the arrival"),
    "notification.arrival_reminder": _("Reminder: confirm the arrival of the consignment of %(ref)s"),
    "notification.suspended": _("Pre-export notification %(ref)s: the consignment is suspended"),
    "notification.suspension_lifted": _("Pre-export notification %(ref)s: the suspension is lifted"),
}


def emit(notification, topic: str, *, now, payload: dict | None = None, dedup_key: str | None = None) -> OutboxMessage:
    message = OutboxMessage.objects.create(
        notification=notification, topic=topic, payload=payload or {}, created_at=now, dedup_key=dedup_key
    )
    transaction.on_commit(lambda: dispatch_outbox_message.delay(message.pk))
    return message


def emit_many(messages, *, now) -> list[int]:
    """Write many outbox rows at once: (notification, topic, payload, dedup_key) tuples,
    in the caller's transaction. A row whose dedup key exists already is not written again.
    Tasks send the new ones after commit, a chunk each."""
    if not messages:
        return []
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(notification=n, topic=topic, payload=payload, created_at=now, dedup_key=key)
            for n, topic, payload, key in messages
        ],
        ignore_conflicts=True,
    )
    ids = list(
        OutboxMessage.objects.filter(
            dedup_key__in=[key for *_rest, key in messages], dispatched_at__isnull=True
        ).values_list("pk", flat=True)
    )
    # Small chunks: few broker publishes, yet spread over every worker process (and a
    # worker that dies holds only a chunk until the redelivery or the relay).
    for start in range(0, len(ids), DISPATCH_CHUNK):
        chunk = ids[start : start + DISPATCH_CHUNK]
        transaction.on_commit(lambda chunk=chunk: dispatch_outbox_messages.delay(chunk))
    return ids


def recipients_for(message: OutboxMessage) -> list[str]:
    notification = message.notification
    if notification is None:  # another subject (an incident): its payload names who is told
        from authorities.models import Authority

        ids = message.payload.get("authorities") or []
        return list(Authority.objects.filter(pk__in=ids).order_by("pk").values_list("email", flat=True))
    side = message.payload.get("to") or RECIPIENTS.get(message.topic)
    if side == "importing":
        return [notification.importing_authority.email]
    if side == "exporting":
        return [notification.exporting_authority.email]
    if side == "all_parties":
        from authorities.models import Authority

        return list(
            Authority.objects.filter(pk__in=webhooks.parties_told(notification))
            .order_by("pk")
            .values_list("email", flat=True)
        )
    if side == "importing_and_transit":
        return [
            notification.importing_authority.email,
            *webhooks.transit_focal_points(notification).values_list("email", flat=True),
        ]
    if side == "transit":
        return list(webhooks.transit_focal_points(notification).values_list("email", flat=True))
    if side == "both":
        return [notification.importing_authority.email, notification.exporting_authority.email]
    return []


def dispatch(message_id: int, *, now) -> bool:
    """Send one outbox message if nobody else holds it. Returns True if sent now.

    Claimed with a conditional UPDATE (a lease), sent outside any transaction, then marked
    dispatched. A crash after sending and before marking may send it again: e-mail is
    at-least-once; the receiver de-duplicates by the message id in the body."""
    claimed = (
        OutboxMessage.objects.filter(pk=message_id, dispatched_at__isnull=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + LEASE, attempts=F("attempts") + 1)
    )
    if claimed != 1:
        return False
    message = OutboxMessage.objects.select_related(
        "notification__importing_authority", "notification__exporting_authority"
    ).get(pk=message_id)
    if message.notification is None:
        reference = message.payload["reference"]
        link = settings.SITE_URL + message.payload["path"]
        opening = _("%(body)s\n\nOpen it: %(link)s\n(message %(id)s)")
    else:
        reference = message.notification.reference
        link = settings.SITE_URL + message.notification.get_absolute_url()
        opening = _("%(body)s\n\nOpen the notification: %(link)s\n(message %(id)s)")
    subject = message.payload.get("subject") or SUBJECTS.get(message.topic, _("Pre-export notification %(ref)s"))
    body = message.payload.get("body", "")
    text = opening % {
        "body": body or subject % {"ref": reference},
        "link": link,
        "id": message.pk,
    }
    recipients = recipients_for(message)
    if recipients:
        send_mail(subject % {"ref": reference}, text, None, recipients)
    webhooks.deliver_for(message, now=now)
    OutboxMessage.objects.filter(pk=message_id).update(dispatched_at=now, lease_until=None)
    return True


def relay(*, now, older_than: timedelta | None = None, batch=500) -> int:
    """Re-enqueue messages whose enqueue was lost (still undispatched after a while)."""
    if older_than is None:
        older_than = timedelta(seconds=settings.OUTBOX_RELAY_AFTER_SECONDS)

    ids = list(
        OutboxMessage.objects.filter(dispatched_at__isnull=True, created_at__lt=now - older_than)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .order_by("created_at")
        .values_list("pk", flat=True)[:batch]
    )
    for pk in ids:
        dispatch_outbox_message.delay(pk)
    return len(ids)


# --- tasks: take ids, call the functions above, nothing else. Each is idempotent, because
# with acks_late a task may run twice.


@shared_task(name="messaging.dispatch_outbox_message", acks_late=True, reject_on_worker_lost=True)
def dispatch_outbox_message(message_id: int) -> bool:
    return dispatch(message_id, now=timezone.now())


@shared_task(name="messaging.dispatch_outbox_messages", acks_late=True, reject_on_worker_lost=True)
def dispatch_outbox_messages(message_ids: list[int]) -> int:
    """A batch of outbox messages (the chase sweep's); each is claimed on its own, so a
    redelivered batch sends nothing twice."""
    return sum(dispatch(pk, now=timezone.now()) for pk in message_ids)


@shared_task(name="messaging.relay_outbox", acks_late=True, reject_on_worker_lost=True)
def relay_outbox() -> int:
    return relay(now=timezone.now())
