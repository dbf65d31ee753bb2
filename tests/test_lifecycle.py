"""The notification lifecycle through its services: one write path for web and API."""

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404

from messaging.models import OutboxMessage
from notifications import services
from notifications.models import Event, EventKind, Response, Status
from notifications.services import Conflict, StaleVersion
from tests.factories import file, notification_data

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday

pytestmark = pytest.mark.django_db


def test_filing_sends_it_with_a_reference_and_the_declared_reply_period(cast):
    n = file(cast, now=NOW)
    assert n.status == Status.AWAITING_REPLY
    assert n.reference == "DE-2026-000001"
    assert n.reply_due == date(2026, 3, 17)  # 15 calendar days
    assert n.importing_authority == cast.importer
    assert [t.country_id for t in n.transits.all()] == ["NL"]
    assert list(n.events.values_list("kind", flat=True)) == [EventKind.CREATED, EventKind.SUBMITTED]
    assert OutboxMessage.objects.filter(notification=n, topic="notification.received").count() == 1
    second = file(cast, now=NOW)
    assert second.reference == "DE-2026-000002"


def test_working_day_periods_skip_weekends(cast):
    cast.importer.country.reply_period_kind = "working"
    cast.importer.country.reply_period_days = 10
    cast.importer.country.save()
    n = file(cast, now=NOW)
    # Ten working days after Monday 2 March 2026: Tue 3 .. Thu 5 = 1-3, Friday 6 March is
    # Ghana's Independence Day (issue 14: not a working day), Mon 9 .. Fri 13 = 4-8, Mon 16 = 9, Tue 17 = 10.
    assert n.reply_due == date(2026, 3, 17)


def test_a_reply_due_earlier_than_the_declared_period_is_refused(cast):
    with pytest.raises(ValidationError) as error:
        file(cast, now=NOW, reply_due=date(2026, 3, 10))
    assert "reply_due" in error.value.message_dict
    assert not cast.exporter.outgoing_notifications.exists()


def test_a_notification_to_ones_own_country_is_refused(cast):
    with pytest.raises(ValidationError) as error:
        file(cast, now=NOW, importing_country="DE")
    assert "your own" in error.value.message_dict["importing_country"][0]


def test_dispatch_in_the_past_and_empty_items_are_refused_with_field_messages(cast):
    with pytest.raises(ValidationError) as error:
        file(cast, now=NOW, expected_dispatch=date(2026, 3, 1), items=[])
    assert set(error.value.message_dict) >= {"expected_dispatch", "items"}


def test_draft_then_submit(cast):
    n = file(cast, now=NOW, draft=True)
    assert n.status == Status.DRAFT and n.submitted_at is None
    later = NOW + timedelta(days=1)
    n = services.submit(actor=cast.exporter_officer, notification=n, now=later)
    assert n.status == Status.AWAITING_REPLY
    assert n.reply_due == date(2026, 3, 18)
    with pytest.raises(Conflict):
        services.submit(actor=cast.exporter_officer, notification=n, now=later)


def test_acknowledge_is_idempotent_and_recorded_once(cast):
    n = file(cast, now=NOW)
    services.acknowledge(actor=cast.importer_officer, notification=n, now=NOW)
    services.acknowledge(actor=cast.importer_officer, notification=n, now=NOW + timedelta(hours=1))
    n.refresh_from_db()
    assert n.acknowledged_at == NOW
    assert n.events.filter(kind=EventKind.ACKNOWLEDGED).count() == 1


def test_request_for_information_stops_the_clock(cast):
    n = file(cast, now=NOW)
    services.respond(
        actor=cast.importer_officer, notification=n, decision="information_requested", comment="Which plant?", now=NOW
    )
    n.refresh_from_db()
    assert n.status == Status.INFORMATION_REQUESTED and n.next_chase_at is None
    answered = NOW + timedelta(days=4)
    services.provide_information(actor=cast.exporter_officer, notification=n, comment="Plant 3", now=answered)
    n.refresh_from_db()
    assert n.status == Status.AWAITING_REPLY
    assert n.reply_due == date(2026, 3, 21)  # moved by the four days the question was open
    assert list(n.responses.values_list("kind", flat=True)) == ["information_requested", "information_provided"]


def test_final_reply_then_no_second_reply_and_no_withdrawal(cast):
    n = file(cast, now=NOW)
    services.respond(actor=cast.importer_officer, notification=n, decision="no_objection", now=NOW)
    n.refresh_from_db()
    assert n.status == Status.NO_OBJECTION and n.replied_at == NOW and n.acknowledged_at == NOW
    with pytest.raises(Conflict):
        services.respond(actor=cast.importer_officer, notification=n, decision="objection", comment="x", now=NOW)
    with pytest.raises(Conflict):
        services.withdraw(actor=cast.exporter_officer, notification=n, reason="x", now=NOW)
    assert Response.objects.filter(notification=n).count() == 1


def test_objection_needs_reasons(cast):
    n = file(cast, now=NOW)
    with pytest.raises(ValidationError):
        services.respond(actor=cast.importer_officer, notification=n, decision="objection", comment=" ", now=NOW)
    n.refresh_from_db()
    assert n.status == Status.AWAITING_REPLY


def test_withdraw_records_the_reason(cast):
    n = file(cast, now=NOW)
    services.withdraw(actor=cast.exporter_officer, notification=n, reason="Order cancelled", now=NOW)
    n.refresh_from_db()
    assert n.status == Status.WITHDRAWN
    assert n.events.get(kind=EventKind.WITHDRAWN).detail == "Order cancelled"


def test_who_may_do_what(cast):
    n = file(cast, now=NOW)
    with pytest.raises(PermissionDenied):  # transit: a party, read only
        services.respond(actor=cast.transit_officer, notification=n, decision="no_objection", now=NOW)
    with pytest.raises(PermissionDenied):  # a viewer of the importing authority
        services.respond(actor=cast.importer_viewer, notification=n, decision="no_objection", now=NOW)
    with pytest.raises(PermissionDenied):  # the exporter cannot reply to itself
        services.respond(actor=cast.exporter_officer, notification=n, decision="no_objection", now=NOW)
    with pytest.raises(Http404):  # an outsider is not told it exists
        services.respond(actor=cast.outsider_officer, notification=n, decision="no_objection", now=NOW)
    with pytest.raises(PermissionDenied):  # INCB reads, never acts
        services.withdraw(actor=cast.incb_reviewer, notification=n, reason="x", now=NOW)
    with pytest.raises(PermissionDenied):
        services.file_notification(actor=cast.incb_admin, data=notification_data(now=NOW), draft=False, now=NOW)
    n.refresh_from_db()
    assert n.status == Status.AWAITING_REPLY
    assert not Response.objects.exists()


def test_a_stale_version_is_refused(cast):
    n = file(cast, now=NOW)
    old = n.version
    services.acknowledge(actor=cast.importer_officer, notification=n, now=NOW)
    with pytest.raises(StaleVersion):
        services.respond(
            actor=cast.importer_officer, notification=n, decision="no_objection", now=NOW, expected_version=old
        )


def test_every_action_is_on_the_record_with_who_and_which_authority(cast):
    n = file(cast, now=NOW)
    services.respond(actor=cast.importer_officer, notification=n, decision="no_objection", now=NOW)
    replied = Event.objects.get(notification=n, kind=EventKind.REPLIED)
    assert (replied.actor, replied.actor_authority, replied.at) == (cast.importer_officer, cast.importer, NOW)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_final_replies_leave_exactly_one(cast):
    n = file(cast, now=NOW)
    barrier = threading.Barrier(2)
    outcomes = []

    def reply(decision):
        try:
            barrier.wait()
            services.respond(actor=cast.importer_officer, notification=n, decision=decision, comment="reasons", now=NOW)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=reply, args=(d,)) for d in ("no_objection", "objection")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert Response.objects.filter(notification=n).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_officers_filing_at_the_same_instant_get_different_references(cast):
    barrier = threading.Barrier(20)
    references = []

    def go():
        try:
            barrier.wait()
            references.append(file(cast, now=NOW).reference)
        finally:
            connection.close()

    threads = [threading.Thread(target=go) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(references) == [f"DE-2026-{i:06d}" for i in range(1, 21)]


def test_mails_name_the_reference_and_link_but_carry_no_content(cast, mailoutbox):
    from messaging.models import OutboxMessage
    from messaging.outbox import dispatch

    n = file(cast, now=NOW)
    services.respond(
        actor=cast.importer_officer, notification=n, decision="information_requested", comment="Plant?", now=NOW
    )
    services.provide_information(actor=cast.exporter_officer, notification=n, comment="Tema", now=NOW)
    for message in OutboxMessage.objects.order_by("pk"):
        assert dispatch(message.pk, now=NOW)
    sent = [(m.to, m.subject) for m in mailoutbox]
    assert sent == [
        (["gh-fda@example.org"], f"Pre-export notification {n.reference} awaits your reply"),
        (["nl-cibg@example.org"], f"Pre-export notification {n.reference}: a shipment will pass through your country"),
        (["de-bopst@example.org"], f"Pre-export notification {n.reference}: information requested"),
        (
            ["gh-fda@example.org"],
            f"Pre-export notification {n.reference}: the exporting authority answered your question",
        ),
    ]
    for mail in mailoutbox:
        assert f"/notifications/{n.reference}/" in mail.body
        assert "Accra Pharma" not in mail.body and "250" not in mail.body and "Tema" not in mail.body
    # Each message is sent once, whatever the number of dispatches.
    assert not any(dispatch(m.pk, now=NOW) for m in OutboxMessage.objects.all())
