"""The timeline is tamper-evident (issue 16, finding 8): PostgreSQL refuses UPDATE and
DELETE on events (a trigger), each event carries a SHA-256 chained to the previous event of
its notification, ``manage.py verify_timeline`` recomputes every chain, and INCB can export
one notification's timeline with its hashes for a third party to check.

The chain is re-implemented here from the documented canonical form (notifications.timeline),
never imported from it: the test proves that the form is enough to verify a timeline."""

import contextlib
import hashlib
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.http import Http404
from django.test import RequestFactory

from chasing import sweep
from chasing.services import record_follow_up
from notifications import clock, services
from notifications.models import Event, EventKind, Notification
from tests.api_helpers import broker_fixture  # noqa: F401 - a fixture
from tests.factories import file, notification_data

NOW = datetime.now(UTC).replace(microsecond=123456) - timedelta(days=1)
GENESIS = "0" * 64
NO_UPDATE = "notifications.Event:event_no_update"
NO_DELETE = "notifications.Event:event_no_delete"

pytestmark = pytest.mark.django_db


# --- an independent verifier, written from the documented canonical form -----------------


def instant(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def link_hash(previous: str, content: dict) -> str:
    # Keys in code-point order, no whitespace, strings as JSON (non-ASCII as is), UTF-8.
    keys = ("actor", "actor_authority", "at", "data", "detail", "kind", "notification", "previous")
    fields = {**content, "previous": previous}
    text = "{" + ",".join(f'"{key}":{dump(fields[key])}' for key in keys) + "}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def dump(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_of(event: Event) -> dict:
    return {
        "notification": event.notification.reference,
        "kind": event.kind,
        "at": instant(event.at),
        "actor": event.actor_id,
        "actor_authority": event.actor_authority_id,
        "detail": event.detail,
        "data": event.data,
    }


def assert_chain_valid(notification) -> list[Event]:
    events = list(Event.objects.filter(notification=notification).select_related("notification").order_by("pk"))
    previous = GENESIS
    for event in events:
        assert event.hash == link_hash(previous, content_of(event)), f"event {event.pk} ({event.kind})"
        previous = event.hash
    return events


def verify(**options) -> str:
    out = StringIO()
    call_command("verify_timeline", stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def verify_broken(**options) -> tuple[str, CommandError]:
    out = StringIO()
    with pytest.raises(CommandError) as error:
        call_command("verify_timeline", stdout=out, stderr=StringIO(), **options)
    assert error.value.returncode != 0
    return out.getvalue() + str(error.value), error.value


def tampering(uri):
    """What an attacker with SQL access must do on PostgreSQL (switch the trigger off); on
    SQLite nothing protects the rows."""
    if connection.vendor == "postgresql":
        import pgtrigger

        return pgtrigger.ignore(uri)
    return contextlib.nullcontext()


def a_life(cast, *, now=NOW):
    """Filed and sent, acknowledged, reminded by the sweep, shared, followed up by INCB,
    asked for information, answered, replied to."""
    n = file(cast, now=now)
    n = services.acknowledge(actor=cast.importer_officer, notification=n, now=now + timedelta(hours=1))
    deadline = clock.reply_deadline(n.reply_due)
    assert sweep.sweep(now=deadline - timedelta(days=3))["steps"] >= 1  # the reminder, one bulk write
    later = deadline - timedelta(days=2)
    services.share(actor=cast.exporter_officer, notification=n, authority=cast.shared, now=later)
    record_follow_up(actor=cast.incb_reviewer, notification=n, channel="note", note="Rang GH — «bientôt»", now=later)
    n.refresh_from_db()
    n = services.respond(
        actor=cast.importer_officer, notification=n, decision="information_requested", comment="Why?", now=later
    )
    n = services.provide_information(actor=cast.exporter_officer, notification=n, comment="Because.", now=later)
    n = services.respond(actor=cast.importer_officer, notification=n, decision="no_objection", now=later)
    return n


# --- the database refuses changes (PostgreSQL) ---------------------------------------------


@pytest.mark.postgres
def test_the_database_refuses_to_update_or_delete_an_event_through_the_orm(cast):
    n = file(cast, now=NOW)
    event = n.events.order_by("pk").first()
    with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(detail="forged")
    with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
        event.detail = "forged"
        event.save()
    with pytest.raises(DatabaseError, match="Cannot delete"), transaction.atomic():
        event.delete()
    with pytest.raises(DatabaseError, match="Cannot delete"), transaction.atomic():
        Notification.objects.filter(pk=n.pk).delete()  # the cascade is refused too
    assert n.events.count() == 2
    assert Event.objects.get(pk=event.pk).detail == ""


@pytest.mark.postgres
def test_the_database_refuses_to_update_or_delete_an_event_through_raw_sql(cast):
    n = file(cast, now=NOW)
    event = n.events.order_by("pk").first()
    with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE notifications_event SET detail = 'forged' WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError, match="Cannot delete"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM notifications_event WHERE notification_id = %s", [n.pk])
    assert n.events.count() == 2


@pytest.mark.postgres
def test_the_author_still_deletes_a_draft_and_the_protection_stands_afterwards(cast):
    draft = file(cast, now=NOW, draft=True)
    draft = services.update_draft(
        actor=cast.exporter_officer, notification=draft, data=notification_data(now=NOW, carrier="Maersk"), now=NOW
    )
    assert draft.events.count() == 2
    sent = file(cast, now=NOW)

    services.delete_draft(actor=cast.exporter_officer, notification=draft, now=NOW)

    assert not Notification.objects.filter(pk=draft.pk).exists()
    assert not Event.objects.filter(notification_id=draft.pk).exists()
    # The exception was for that statement only: the next deletion is refused again.
    with pytest.raises(DatabaseError, match="Cannot delete"), transaction.atomic():
        Event.objects.filter(notification=sent).delete()
    assert sent.events.count() == 2


def test_an_event_without_its_hash_is_refused(cast):
    n = file(cast, now=NOW)
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.create(notification=n, kind=EventKind.EDITED, at=NOW)


# --- the chain -----------------------------------------------------------------------------


def test_a_notification_s_chain_through_its_life_verifies(cast):
    n = a_life(cast)
    # A second notification caught up by one sweep: three steps in one bulk write.
    other = file(cast, now=NOW, national_reference="OTHER")
    sweep.sweep(now=clock.reply_deadline(other.reply_due) + timedelta(days=7))

    events = assert_chain_valid(n)
    kinds = [e.kind for e in events]
    assert kinds[:3] == [EventKind.CREATED, EventKind.SUBMITTED, EventKind.ACKNOWLEDGED]
    assert EventKind.REMINDER in kinds and EventKind.FOLLOWED_UP in kinds and kinds[-1] == EventKind.REPLIED
    other_kinds = [e.kind for e in assert_chain_valid(other)]
    assert other_kinds[-3:] == [EventKind.REMINDER, EventKind.OVERDUE, EventKind.ESCALATED]
    assert all(len(e.hash) == 64 for e in Event.objects.all())
    assert len(set(Event.objects.values_list("hash", flat=True))) == Event.objects.count()

    total = Event.objects.count()
    out = verify()
    assert f"checked {total} events of 2 notifications" in out and "0 broken" in out
    assert f"checked {len(events)} events of 1 notification" in verify(reference=n.reference)


def test_a_changed_event_is_detected_and_named(cast):
    n = a_life(cast)
    untouched = file(cast, now=NOW, national_reference="UNTOUCHED")
    victim = n.events.get(kind=EventKind.REPLIED)
    stored = victim.hash
    with tampering(NO_UPDATE):
        Event.objects.filter(pk=victim.pk).update(data={"decision": "objection"})

    out, _error = verify_broken()

    previous = n.events.filter(pk__lt=victim.pk).order_by("-pk").first().hash
    expected = link_hash(previous, content_of(Event.objects.select_related("notification").get(pk=victim.pk)))
    assert f"{n.reference} event {victim.pk}" in out
    assert expected in out and stored in out
    assert "1 broken" in out
    assert untouched.reference not in out
    assert "0 broken" in verify(reference=untouched.reference)
    out, _error = verify_broken(reference=n.reference)
    assert f"{n.reference} event {victim.pk}" in out


def test_a_rewritten_hash_breaks_the_next_link(cast):
    n = a_life(cast)
    events = list(n.events.order_by("pk"))
    victim, following = events[2], events[3]
    forged = hashlib.sha256(b"forged").hexdigest()
    with tampering(NO_UPDATE):
        Event.objects.filter(pk=victim.pk).update(detail="Never acknowledged", hash=forged)

    out, _error = verify_broken()

    assert f"{n.reference} event {victim.pk}" in out
    assert f"{n.reference} event {following.pk}" in out


def test_a_deleted_event_is_detected(cast):
    n = a_life(cast)
    events = list(n.events.order_by("pk"))
    with tampering(NO_DELETE):
        Event.objects.filter(pk=events[1].pk).delete()

    out, _error = verify_broken()

    assert f"{n.reference} event {events[2].pk}" in out
    with tampering(NO_DELETE):
        Event.objects.filter(notification=n).delete()
    out, _error = verify_broken()
    assert f"{n.reference}: no events" in out


def test_verify_timeline_refuses_an_unknown_reference(cast):
    with pytest.raises(CommandError, match="No notification"):
        verify(reference="XX-2026-999999")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("broker")
def test_two_events_written_at_once_do_not_fork_the_chain(cast):
    n = file(cast, now=NOW)
    written, errors = threading.Event(), []

    def slow():
        try:
            with transaction.atomic():
                services.record_event(Notification.objects.get(pk=n.pk), EventKind.FOLLOWED_UP, now=NOW, detail="A")
                written.set()
                time.sleep(0.5)  # still holding the transaction when the other one writes
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    def fast():
        try:
            assert written.wait(5)
            with transaction.atomic():
                services.record_event(Notification.objects.get(pk=n.pk), EventKind.FOLLOWED_UP, now=NOW, detail="B")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=slow), threading.Thread(target=fast)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert not errors
    events = assert_chain_valid(n)
    assert [e.detail for e in events][-2:] == ["A", "B"]


# --- the export ----------------------------------------------------------------------------


def export(user, reference):
    from notifications.views import timeline_export

    request = RequestFactory().get(f"/notifications/{reference}/timeline.json")
    request.user = user
    return timeline_export(request, reference)


def test_incb_exports_a_timeline_that_a_third_party_can_verify(cast):
    n = a_life(cast)

    response = export(cast.incb_reviewer, n.reference)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert f'filename="{n.reference}-timeline.json"' in response["Content-Disposition"]
    body = json.loads(response.content)
    assert body["reference"] == n.reference
    assert body["genesis"] == GENESIS and "canonical" in body["canonical_form"].lower()
    stored = list(n.events.select_related("notification").order_by("pk"))
    assert [e["id"] for e in body["events"]] == [e.pk for e in stored]
    previous = GENESIS
    for exported, event in zip(body["events"], stored, strict=True):
        assert exported["hash"] == event.hash
        assert exported["previous"] == previous
        content = {key: exported[key] for key in content_of(event)}
        assert content == content_of(event)
        assert link_hash(previous, content) == exported["hash"]
        previous = exported["hash"]
    assert body["head"] == previous == stored[-1].hash


def test_the_parties_export_too_and_outsiders_get_404(cast):
    n = file(cast, now=NOW)
    for user in (cast.exporter_officer, cast.importer_viewer, cast.transit_officer):
        assert json.loads(export(user, n.reference).content)["head"] == n.events.order_by("pk").last().hash
    with pytest.raises(Http404):
        export(cast.outsider_officer, n.reference)
    draft = file(cast, now=NOW, draft=True)
    with pytest.raises(Http404):
        export(cast.incb_reviewer, draft.reference)


# --- the million-row simulator --------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("broker")
def test_the_simulator_writes_valid_chains_and_removes_only_what_it_added():
    from demo import scale

    options = dict(notifications=300, countries=12, years=1, batch=100, now="2026-03-02T12:00:00+00:00")
    call_command("seed_scale", no_progress=True, stdout=StringIO(), stderr=StringIO(), **options)
    total = Event.objects.count()
    assert f"checked {total} events of 300 notifications" in verify()

    with connection.cursor() as cursor:
        state = scale.read_state(cursor)
    added = scale.add_due(state.params, scale.build_world(state.params), count=20)
    sweep.sweep(now=datetime.fromisoformat(added["at"]) + timedelta(minutes=1))
    assert "0 broken" in verify()

    scale.remove_due(added)  # deletes the events it wrote (and the sweep's), nothing else
    assert Event.objects.count() == total
    assert f"checked {total} events of 300 notifications" in verify()
