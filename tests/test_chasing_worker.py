"""The chase through a real Celery worker on Redis (not eager mode): the sweep task, the
outbox tasks it enqueues after commit, and the e-mails they send."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from chasing.models import ChaseRecord
from chasing.tasks import chase_sweep
from messaging.models import OutboxMessage
from notifications import services
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
        ("gh-fda@example.org", f"Overdue: pre-export notification {silent.reference} was due 17 March 2026"),
    ]
    assert "do not ship on silence" in next(m.body for m in mail.outbox if m.to == ["de-bopst@example.org"])

    # A second sweep, as of the same instant, does nothing.
    chase_sweep.delay(at=(DEADLINE + timedelta(hours=2)).isoformat())
    time.sleep(2)
    assert ChaseRecord.objects.count() == 2
    assert len(mail.outbox) == 2


def test_a_real_worker_fires_each_step_at_its_time_pauses_on_a_question_and_words_tacit_consent(cast, worker):
    cast.importer.country.reply_regime = "tacit_consent"
    cast.importer.country.save()
    chased = file(cast, now=NOW)
    asked = file(cast, now=NOW)
    services.respond(
        actor=cast.importer_officer, notification=asked, decision="information_requested", comment="?", now=NOW
    )
    assert wait_for(lambda: not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists())
    mail.outbox.clear()

    def steps(n):
        return list(ChaseRecord.objects.filter(notification=n).values_list("step", flat=True))

    # Just before the reminder is due: nothing. At its time: the reminder, once.
    chase_sweep.delay(at=(DEADLINE - timedelta(days=3, seconds=1)).isoformat())
    chase_sweep.delay(at=(DEADLINE - timedelta(days=3)).isoformat())
    assert wait_for(lambda: steps(chased) == [1])
    chase_sweep.delay(at=(DEADLINE - timedelta(days=2)).isoformat())
    assert wait_for(lambda: len(mail.outbox) == 1)
    assert mail.outbox[0].subject == f"Reminder: pre-export notification {chased.reference} is due 17 March 2026"

    # At the deadline: overdue, with the tacit-consent wording to the exporter.
    chase_sweep.delay(at=DEADLINE.isoformat())
    assert wait_for(lambda: len(mail.outbox) == 3)
    assert steps(chased) == [1, 2]
    to_exporter = next(m for m in mail.outbox if m.to == ["de-bopst@example.org"])
    assert "treats silence as consent; the silence is still recorded" in to_exporter.body
    # The notification with an open question was paused all along, and nothing was sent
    # twice (the sweep between the reminder and the deadline did nothing).
    time.sleep(1)
    assert steps(asked) == []
    assert len(mail.outbox) == 3
    assert ChaseRecord.objects.count() == 2
