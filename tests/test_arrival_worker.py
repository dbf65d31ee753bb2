"""The arrival ladder through a real Celery worker on Redis (not eager mode), restarted
between sweeps, and a sweep that dies half-way: one reminder, one flag, whatever the
workers do (issue 14's acceptance line). The database decides: the conditional UPDATE
that claims the reminder commits with the flag, the event and the outbox row, or not at all."""

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from chasing import arrival
from chasing.tasks import arrival_sweep
from messaging.models import OutboxMessage
from notifications import services
from notifications.clock import arrival_reminder_at
from notifications.models import EventKind, RiskKind, RiskSignal
from pen_portal.celery import app
from tests.factories import file

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def dispatched(cast):
    n = file(cast, now=NOW)
    services.respond(actor=cast.importer_officer, notification=n, decision="no_objection", now=NOW)
    return services.dispatch(
        actor=cast.exporter_officer,
        notification=n,
        dispatched_on=NOW.date(),
        quantities=[services.ShippedQuantity(1, Decimal("250"))],
        now=NOW,
    )


def reminders(n):
    return (
        OutboxMessage.objects.filter(notification=n, topic="notification.arrival_reminder").count(),
        RiskSignal.objects.filter(notification=n, kind=RiskKind.ARRIVAL_UNCONFIRMED).count(),
        n.events.filter(kind=EventKind.ARRIVAL_REMINDED).count(),
    )


def test_a_restarted_worker_reminds_once(cast):
    app.control.purge()
    n = dispatched(cast)
    due = arrival_reminder_at(NOW.date())
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        assert wait_for(lambda: not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists())
        mail.outbox.clear()
        arrival_sweep.delay(at=(due - timedelta(seconds=1)).isoformat())  # not yet
        arrival_sweep.delay(at=due.isoformat())
        arrival_sweep.delay(at=due.isoformat())  # a second beat, or a redelivery
        assert wait_for(
            lambda: OutboxMessage.objects.filter(
                topic="notification.arrival_reminder", dispatched_at__isnull=False
            ).exists()
        )
    # Another worker, later sweeps: nothing more.
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        arrival_sweep.delay(at=(due + timedelta(days=1)).isoformat())
        arrival_sweep.delay(at=(due + timedelta(days=2)).isoformat())
        time.sleep(3)
    assert reminders(n) == (1, 1, 1)
    assert [m.to for m in mail.outbox] == [[cast.importer.email]]


def test_a_sweep_that_dies_half_way_leaves_the_reminder_to_the_next(cast, monkeypatch):
    n = dispatched(cast)
    due = arrival_reminder_at(NOW.date())

    def crash(*args, **kwargs):
        raise RuntimeError("the worker died while writing the reminder")

    monkeypatch.setattr(arrival.outbox, "emit", crash)
    with pytest.raises(RuntimeError):
        arrival.sweep(now=due)
    assert reminders(n) == (0, 0, 0)  # the claim rolled back with the rest
    monkeypatch.undo()
    assert arrival.sweep(now=due + timedelta(minutes=1)) == 1
    assert arrival.sweep(now=due + timedelta(minutes=2)) == 0
    assert reminders(n) == (1, 1, 1)
