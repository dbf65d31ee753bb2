"""Celery tasks: take ids, call services, nothing else. Each is idempotent, because with
acks_late a task may run twice."""

from celery import shared_task
from django.utils import timezone

from . import outbox


@shared_task(acks_late=True, reject_on_worker_lost=True)
def dispatch_outbox_message(message_id: int) -> bool:
    return outbox.dispatch(message_id, now=timezone.now())


@shared_task(acks_late=True, reject_on_worker_lost=True)
def dispatch_outbox_messages(message_ids: list[int]) -> int:
    """A batch of outbox messages (the chase sweep's); each is claimed on its own, so a
    redelivered batch sends nothing twice."""
    return sum(outbox.dispatch(pk, now=timezone.now()) for pk in message_ids)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def relay_outbox() -> int:
    return outbox.relay(now=timezone.now())


@shared_task(acks_late=True, reject_on_worker_lost=True)
def chase_sweep(at: str | None = None) -> dict:
    """The periodic chase (``at``: an ISO instant to sweep as of, for replays and tests).
    Safe to run twice at once (two beats, a redelivery): each step is claimed by a
    conditional UPDATE and recorded under a unique constraint."""
    from datetime import datetime

    from . import chasing

    return chasing.sweep(now=datetime.fromisoformat(at) if at else timezone.now())


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_webhook(delivery_id: int) -> str | None:
    """One attempt at one webhook delivery (claimed with a lease: a duplicate is a no-op)."""
    from . import webhooks

    return webhooks.attempt(delivery_id, now=timezone.now())


@shared_task(acks_late=True, reject_on_worker_lost=True)
def retry_webhook_deliveries() -> int:
    """Periodic: enqueue the webhook deliveries whose next attempt has come. Retries are
    scheduled in the database (next_attempt_at), never by long broker countdowns."""
    from . import webhooks

    return webhooks.enqueue_due(now=timezone.now())


@shared_task(acks_late=True, reject_on_worker_lost=True)
def purge_idempotency_records() -> int:
    """Periodic: forget Idempotency-Keys older than the retention period (24 hours)."""
    from . import idempotency

    return idempotency.purge(now=timezone.now())
