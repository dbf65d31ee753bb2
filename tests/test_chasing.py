"""The chase ladder, step by step, with ``now`` passed in (no clock freezing)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command

from authorities.models import ReplyRegime
from chasing import sweep
from chasing.models import ChaseRecord
from messaging.models import OutboxMessage
from notifications import clock, services
from notifications.models import Event, EventKind, RiskSignal
from tests.factories import file

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# Filed on 2 March with the default 15 days: due 17 March, late from 18 March 00:00 UTC.
DEADLINE = datetime(2026, 3, 18, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def steps_of(n):
    return list(ChaseRecord.objects.filter(notification=n).values_list("step", flat=True))


def test_each_step_fires_once_at_its_time(cast):
    n = file(cast, now=NOW)
    assert n.reply_due == date(2026, 3, 17)
    assert sweep.sweep(now=DEADLINE - timedelta(days=3, seconds=1))["steps"] == 0
    assert sweep.sweep(now=DEADLINE - timedelta(days=3))["steps"] == 1
    assert steps_of(n) == [1]
    assert sweep.sweep(now=DEADLINE - timedelta(days=1))["steps"] == 0  # a second sweep does nothing
    sweep.sweep(now=DEADLINE)
    sweep.sweep(now=DEADLINE + timedelta(days=7))
    sweep.sweep(now=DEADLINE + timedelta(days=30))
    sweep.sweep(now=DEADLINE + timedelta(days=31))
    assert steps_of(n) == [1, 2, 3, 4]
    events = dict(Event.objects.filter(notification=n).values_list("kind", "at"))
    assert events[EventKind.REMINDER] == DEADLINE - timedelta(days=3)
    assert events[EventKind.OVERDUE] == DEADLINE
    assert events[EventKind.ESCALATED] == DEADLINE + timedelta(days=7)
    assert events[EventKind.PERSISTENT_SILENCE] == DEADLINE + timedelta(days=30)
    signal = RiskSignal.objects.get(notification=n)
    assert (signal.kind, signal.raised_at, signal.resolved_at) == ("silence", DEADLINE, None)
    n.refresh_from_db()
    assert n.next_chase_at is None and n.chase_step == 4
    topics = list(
        OutboxMessage.objects.filter(notification=n, dedup_key__isnull=False).values_list("topic", "payload__to")
    )
    assert topics == [
        ("notification.reminder", "importing"),
        ("notification.overdue", "importing"),
        ("notification.overdue", "exporting"),
        ("notification.escalated", "importing"),
    ]


def test_a_reply_before_the_step_stops_the_chase(cast):
    n = file(cast, now=NOW)
    services.respond(actor=cast.importer_officer, notification=n, decision="no_objection", now=NOW)
    sweep.sweep(now=DEADLINE + timedelta(days=40))
    assert steps_of(n) == []
    assert not RiskSignal.objects.exists()


def test_a_request_for_information_pauses_and_the_answer_resumes(cast):
    n = file(cast, now=NOW)
    services.respond(
        actor=cast.importer_officer, notification=n, decision="information_requested", comment="?", now=NOW
    )
    sweep.sweep(now=DEADLINE + timedelta(days=1))
    assert steps_of(n) == []
    services.provide_information(actor=cast.exporter_officer, notification=n, comment="!", now=NOW + timedelta(days=5))
    n.refresh_from_db()
    assert n.reply_due == date(2026, 3, 22)
    sweep.sweep(now=DEADLINE + timedelta(days=5))
    assert steps_of(n) == [1, 2]


def test_withdrawal_ends_the_chase(cast):
    n = file(cast, now=NOW)
    sweep.sweep(now=DEADLINE - timedelta(days=3))
    services.withdraw(actor=cast.exporter_officer, notification=n, reason="cancelled", now=NOW + timedelta(days=1))
    sweep.sweep(now=DEADLINE + timedelta(days=40))
    assert steps_of(n) == [1]


def test_a_late_reply_resolves_the_silence_signal_with_the_time(cast):
    n = file(cast, now=NOW)
    sweep.sweep(now=DEADLINE + timedelta(hours=1))
    late = DEADLINE + timedelta(days=2)
    services.respond(actor=cast.importer_officer, notification=n, decision="no_objection", now=late)
    signal = RiskSignal.objects.get(notification=n)
    assert signal.resolved_at == late
    assert Event.objects.filter(notification=n, kind=EventKind.SILENCE_RESOLVED).count() == 1


@pytest.mark.parametrize(
    ("regime", "wording"),
    [
        (ReplyRegime.EXPLICIT_CONSENT, "No reply: do not ship on silence"),
        (ReplyRegime.TACIT_CONSENT, "treats silence as consent; the silence is still recorded"),
    ],
)
def test_the_exporter_is_told_what_the_importing_regime_means(cast, regime, wording):
    cast.importer.country.reply_regime = regime
    cast.importer.country.save()
    n = file(cast, now=NOW)
    sweep.sweep(now=DEADLINE)
    to_exporter = OutboxMessage.objects.get(notification=n, topic="notification.overdue", payload__to="exporting")
    assert wording in to_exporter.payload["body"]


def test_catching_up_after_an_outage_records_every_step_and_sends_only_the_latest(cast, capsys):
    n = file(cast, now=NOW)
    # The portal was down from before the reminder until 10 days after the deadline.
    call_command("chase_overdue", "--at", (DEADLINE + timedelta(days=10)).isoformat())
    assert "1 notifications, 3 steps recorded" in capsys.readouterr().out
    records = {r.step: r for r in ChaseRecord.objects.filter(notification=n)}
    assert sorted(records) == [1, 2, 3]
    assert [records[s].messages_sent for s in (1, 2, 3)] == [False, False, True]
    assert records[1].due_at == DEADLINE - timedelta(days=3)
    sent = sorted(OutboxMessage.objects.filter(notification=n, dedup_key__isnull=False).values_list("topic", flat=True))
    # The escalation to the importer, and the exporter told once it is overdue.
    assert sent == ["notification.escalated", "notification.overdue"]
    call_command("chase_overdue", "--at", (DEADLINE + timedelta(days=10)).isoformat())
    assert ChaseRecord.objects.filter(notification=n).count() == 3


def test_chase_overdue_refuses_a_bad_instant(cast):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("chase_overdue", "--at", "yesterday")


def test_the_sweep_works_in_batches_and_misses_none(cast):
    notifications = [file(cast, now=NOW) for _ in range(7)]
    result = sweep.sweep(now=DEADLINE, batch=3)
    assert result == {"candidates": 7, "steps": 14}
    assert all(steps_of(n) == [1, 2] for n in notifications)


def test_after_a_reminder_a_question_and_its_answer_the_ladder_resumes_without_repeating(cast):
    n = file(cast, now=NOW)
    sweep.sweep(now=DEADLINE - timedelta(days=3))  # the reminder
    asked = DEADLINE - timedelta(days=2)
    services.respond(
        actor=cast.importer_officer, notification=n, decision="information_requested", comment="?", now=asked
    )
    services.provide_information(
        actor=cast.exporter_officer, notification=n, comment="!", now=asked + timedelta(days=2)
    )
    n.refresh_from_db()
    new_deadline = clock.reply_deadline(n.reply_due)
    assert new_deadline == DEADLINE + timedelta(days=2)
    assert n.next_chase_at == new_deadline  # the overdue step; the reminder is not repeated
    assert sweep.sweep(now=new_deadline - timedelta(days=3))["steps"] == 0
    assert sweep.sweep(now=new_deadline)["steps"] == 1
    assert steps_of(n) == [1, 2]
