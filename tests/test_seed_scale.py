"""seed_scale (issue 7): fast bulk data that reads as if the services and the chase sweep
had written it, so that benchmarks measure the real thing."""

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Max, Min, Q

from accounts.models import User
from authorities.models import Authority
from chasing import sweep
from chasing.models import ChaseRecord
from demo import scale
from messaging.models import OutboxMessage
from notifications import clock, services
from notifications.models import (
    Event,
    EventKind,
    Item,
    Notification,
    ReferenceCounter,
    Response,
    ResponseKind,
    RiskSignal,
    Status,
)
from tests.api_helpers import broker_fixture  # noqa: F401 - a fixture
from tests.factories import notification_data

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SMALL = dict(notifications=2000, countries=30, years=2, batch=500, now=NOW.isoformat(), no_progress=True)

# COPY needs the connection outside a test transaction; the broker fixture keeps the
# sweep's thousands of outbox messages off the development broker.
on_postgres = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("broker")]


def postgres_test(function):
    for mark in reversed(on_postgres):
        function = mark(function)
    return function


def seed(**options):
    out = StringIO()
    call_command("seed_scale", **{**SMALL, **options}, stdout=out, stderr=StringIO())
    return out.getvalue()


def digest():
    return list(
        Notification.objects.order_by("pk").values_list(
            "reference", "status", "version", "reply_due", "next_chase_at", "exporter_name"
        )
    ) + [(Item.objects.count(), Event.objects.count(), OutboxMessage.objects.count())]


@postgres_test
def test_seeded_data_is_what_the_services_and_the_sweep_would_have_written():
    seed()
    notifications = Notification.objects.all()
    assert notifications.count() == 2000
    assert Authority.objects.filter(kind="national", is_focal_point=True).count() == 30
    assert User.objects.filter(username__endswith=".officer", role="officer").count() == 30

    # Every notification has items; references are unique, well-formed, and the counters
    # continue after them (1..last without gaps per exporting country and year).
    assert not notifications.annotate(n=Count("items")).filter(n=0).exists()
    assert Item.objects.count() > 2000
    references = list(notifications.values_list("reference", flat=True))
    assert len(set(references)) == len(references)
    assert all(re.fullmatch(r"[A-Z]{2}-\d{4}-\d{6}", ref) for ref in references)
    per_key = Counter((ref[:2], int(ref[3:7])) for ref in references)
    counters = {(c.country_id, c.year): c.last for c in ReferenceCounter.objects.all()}
    assert counters == dict(per_key)
    highest = {(ref[:2], int(ref[3:7])): int(ref[8:]) for ref in sorted(references)}
    assert highest == counters

    # A plausible mix: mostly no objection, some open, objections, withdrawals, drafts,
    # requests for information; a few heavy exporters carry most of the volume.
    statuses = Counter(notifications.values_list("status", flat=True))
    assert statuses[Status.NO_OBJECTION] > 0.6 * 2000
    assert 0.03 * 2000 < statuses[Status.AWAITING_REPLY] < 0.25 * 2000
    assert statuses[Status.OBJECTION] > 0 and statuses[Status.WITHDRAWN] > 0
    assert Response.objects.filter(kind=ResponseKind.INFORMATION_REQUESTED).exists()
    by_exporter = Counter(notifications.values_list("exporting_country_id", flat=True))
    assert sum(n for _c, n in by_exporter.most_common(5)) > 0.5 * 2000
    assert notifications.filter(transits__isnull=False).distinct().count() > 0.2 * 2000

    # The version counts the transitions; each sent notification has its created and
    # submitted events; a final decision has exactly one final response.
    transitions = Q(events__kind__in=["submitted", "acknowledged", "replied", "information_requested",
                                      "information_provided", "withdrawn"])  # fmt: skip
    counted = notifications.annotate(t=Count("events", filter=transitions)).values_list("reference", "version", "t")
    assert [(ref, version) for ref, version, t in counted if version != 1 + t] == []
    assert not notifications.exclude(status=Status.DRAFT).exclude(events__kind=EventKind.SUBMITTED).exists()
    finals = notifications.filter(status__in=[Status.NO_OBJECTION, Status.OBJECTION])
    assert (
        not finals.annotate(n=Count("responses", filter=Q(responses__kind__in=["no_objection", "objection"])))
        .exclude(n=1)
        .exists()
    )
    assert not notifications.filter(first_response_at__isnull=False, answered_on_time__isnull=True).exists()
    assert not notifications.filter(first_response_at__isnull=True, answered_on_time__isnull=False).exists()

    # Overdue ones have been chased step by step: records, events, the silence signal and
    # one outbox message per recipient per step; next_chase_at is the next step's instant.
    today = NOW.date()
    overdue = notifications.filter(status=Status.AWAITING_REPLY, reply_due__lt=today)
    assert overdue.count() > 0.03 * 2000
    for n in overdue.prefetch_related("chase_records", "risk_signals", "events"):
        steps = [r.step for r in n.chase_records.all()]
        assert steps == list(range(1, n.chase_step + 1)) and n.chase_step >= 2, n.reference
        assert [s.resolved_at for s in n.risk_signals.all()] == [None]
        kinds = {e.kind for e in n.events.all()}
        assert {"reminder", "overdue"} <= kinds
        expected = clock.step_due_at(n.reply_due, n.chase_step + 1)
        assert n.next_chase_at == expected, n.reference
    dedup = list(OutboxMessage.objects.filter(dedup_key__isnull=False).values_list("dedup_key", flat=True))
    assert len(dedup) == len(set(dedup)) > 0
    assert (
        ChaseRecord.objects.count()
        == Event.objects.filter(kind__in=["reminder", "overdue", "escalated", "persistent_silence"]).count()
    )
    assert not notifications.exclude(status=Status.AWAITING_REPLY).filter(next_chase_at__isnull=False).exists()
    assert (
        not RiskSignal.objects.filter(resolved_at__isnull=True)
        .exclude(notification__status__in=[Status.AWAITING_REPLY, Status.WITHDRAWN])
        .exists()
    )
    # Nothing happened after "now".
    assert notifications.aggregate(m=Max("updated_at"))["m"] <= NOW
    assert Event.objects.aggregate(m=Max("at"))["m"] <= NOW
    assert notifications.aggregate(m=Min("created_at"))["m"] >= NOW - timedelta(days=2 * 366)


@postgres_test
def test_the_services_and_the_sweep_work_on_seeded_data():
    seed()
    later = NOW + timedelta(hours=1)
    waiting = (
        Notification.objects.filter(status=Status.AWAITING_REPLY, reply_due__gte=NOW.date())
        .select_related("importing_authority")
        .first()
    )
    officer = User.objects.get(authority=waiting.importing_authority, role="officer")
    services.respond(actor=officer, notification=waiting, decision="no_objection", now=later)
    waiting.refresh_from_db()
    assert (waiting.status, waiting.replied_at, waiting.next_chase_at) == (Status.NO_OBJECTION, later, None)
    assert Event.objects.filter(notification=waiting, kind=EventKind.REPLIED, at=later).exists()

    # A new filing gets the next reference of its country and year, and a fresh primary key.
    exporter = User.objects.get(authority__country_id="DE", role="officer")
    counter = ReferenceCounter.objects.get(country_id="DE", year=later.year)
    filed = services.file_notification(
        actor=exporter,
        data=notification_data(now=later, importing_country="MX", transit_countries=[]),
        draft=False,
        now=later,
    )
    assert filed.reference == f"DE-{later.year}-{counter.last + 1:06d}"
    assert filed.pk == Notification.objects.aggregate(m=Max("pk"))["m"]

    # The sweep finds nothing left over at "now", and chases the next steps later on.
    assert sweep.sweep(now=NOW)["steps"] <= 2  # at most a step falling due in the last minute
    result = sweep.sweep(now=NOW + timedelta(days=40))
    assert result["candidates"] > 0 and result["steps"] > 0
    assert not Notification.objects.filter(next_chase_at__lte=NOW + timedelta(days=40)).exists()


@postgres_test
def test_an_interrupted_run_continues_where_the_data_stops(monkeypatch):
    seed(notifications=1000, batch=250)
    whole = digest()
    call_command("seed_scale", reset=True, **{**SMALL, "notifications": 1000, "batch": 250}, stdout=StringIO())
    assert digest() == whole  # the same parameters give the same data

    written = []
    original = scale._write_batch

    def crash_after_two(cursor, batch, counters, state):
        if len(written) == 2:
            raise KeyboardInterrupt
        original(cursor, batch, counters, state)
        written.append(batch)

    monkeypatch.setattr(scale, "_write_batch", crash_after_two)
    with pytest.raises(KeyboardInterrupt):
        seed(notifications=1000, batch=250, reset=True)
    assert Notification.objects.count() == 500
    monkeypatch.setattr(scale, "_write_batch", original)
    out = seed(notifications=1000, batch=250)  # continues: --now comes from the run's record
    assert "done: 1,000 notifications" in out
    assert digest() == whole

    with pytest.raises(CommandError, match="other parameters: notifications=1000"):
        seed(notifications=2000, batch=250)
    assert "done: 1,000" in seed(notifications=1000, batch=250)  # nothing left to do


@postgres_test
def test_it_refuses_to_mix_with_notifications_it_did_not_write(cast):
    services.file_notification(actor=cast.exporter_officer, data=notification_data(now=NOW), draft=False, now=NOW)
    with pytest.raises(CommandError, match="--reset"):
        seed()
    seed(reset=True)
    assert Notification.objects.count() == 2000


def test_it_refuses_production_and_sqlite(settings, monkeypatch):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        seed()
    settings.PRODUCTION = False
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="needs PostgreSQL"):
        seed()
