"""The chase through a real Celery worker on Redis (not eager mode): the sweep task, the
outbox tasks it enqueues after commit, and the e-mails they send."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from notifications import services
from notifications.models import ChaseRecord, OutboxMessage
from notifications.tasks import chase_sweep
from pen_portal.celery import app
from tests.factories import file

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEADLINE = datetime(2026, 3, 18, tzinfo=UTC)

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def worker():
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as running:
        yield running


def test_a_real_worker_chases_the_silent_notification_only_and_once(cast, worker):
    silent = file(cast, now=NOW)
    replied = file(cast, now=NOW)
    withdrawn = file(cast, now=NOW)
    services.respond(actor=cast.importer_officer, notification=replied, decision="no_objection", now=NOW)
    services.withdraw(actor=cast.exporter_officer, notification=withdrawn, reason="cancelled", now=NOW)
    assert wait_for(lambda: not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists())
    mail.outbox.clear()

    chase_sweep.delay(at=(DEADLINE + timedelta(hours=1)).isoformat())
    assert wait_for(
        lambda: OutboxMessage.objects.filter(dedup_key__isnull=False, dispatched_at__isnull=False).count() == 2
    )
    assert list(ChaseRecord.objects.filter(notification=silent).values_list("step", flat=True)) == [1, 2]
    assert not ChaseRecord.objects.filter(notification__in=[replied, withdrawn]).exists()
    subjects = sorted((m.to[0], m.subject) for m in mail.outbox)
    assert subjects == [
        ("de-bopst@example.org", f"No reply from Ghana: {silent.reference} is overdue"),
        ("gh-fda@example.org", f"Overdue: pre-export notification {silent.reference} was due 2026-03-17"),
    ]
    assert "do not ship on silence" in next(m.body for m in mail.outbox if m.to == ["de-bopst@example.org"])

    # A second sweep, as of the same instant, does nothing.
    chase_sweep.delay(at=(DEADLINE + timedelta(hours=2)).isoformat())
    time.sleep(2)
    assert ChaseRecord.objects.count() == 2
    assert len(mail.outbox) == 2
