"""The shipment after the reply (issue 14; the contract's "Shipment and arrival"): the
dispatch after clearance, the arrival after the dispatch, the quantity discrepancy and its
explanation, the arrival ladder. Through the API and the pages; who may call what is
tests/test_permission_matrix.py, the ladder through a real worker tests/test_arrival_worker.py."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from chasing import arrival
from messaging import outbox
from messaging.models import OutboxMessage
from notifications import services
from notifications.clock import arrival_reminder_at
from notifications.models import EventKind, RiskKind, RiskSignal
from tests.api_helpers import bearer, token_for
from tests.factories import file

pytestmark = pytest.mark.django_db


@pytest.fixture(name="de")
def de_headers(cast, client):
    return bearer(token_for(client, cast.exporter))


@pytest.fixture(name="gh")
def gh_headers(cast, client):
    return bearer(token_for(client, cast.importer, name="GH system"))


def post(client, notification, action, body, headers):
    return client.post(
        f"/api/v1/notifications/{notification.reference}/{action}/",
        body,
        content_type="application/json",
        headers=headers,
    )


def cleared(cast, now, **overrides):
    n = file(cast, now=now - timedelta(days=5), **overrides)
    services.respond(actor=cast.importer_officer, notification=n, decision="no_objection", now=now - timedelta(days=1))
    return n


def shipped(cast, n, now, quantity="250"):
    return services.dispatch(
        actor=cast.exporter_officer,
        notification=n,
        dispatched_on=now.date(),
        quantities=[services.ShippedQuantity(1, Decimal(quantity))],
        now=now,
    )


def stored(n):
    n.refresh_from_db()
    item = n.items.get()
    return (
        n.version,
        n.dispatched_on,
        n.arrived_on,
        n.arrival_check_at,
        item.shipped_quantity,
        item.received_quantity,
        n.events.count(),
        list(n.risk_signals.values_list("kind", "resolved_at")),
        OutboxMessage.objects.filter(notification=n).count(),
    )


def body(on, quantity="250", **extra):
    return {"items": [{"position": 1, "quantity": quantity}], **on, **extra}


# --- dispatch ------------------------------------------------------------------------------


def test_the_dispatch_is_recorded_after_no_objection_and_told_to_the_importer(cast, client, de):
    now = timezone.now()
    n = cleared(cast, now)
    OutboxMessage.objects.update(dispatched_at=now)
    response = post(client, n, "dispatch", body({"dispatched_on": now.date().isoformat()}, "240"), de)
    assert response.status_code == 200, response.content
    assert response.json()["dispatch"]["on"] == now.date().isoformat()
    assert response.json()["dispatch"]["items"] == [{"position": 1, "quantity": "240.000"}]
    assert response.json()["arrival"] is None
    n.refresh_from_db()
    assert n.arrival_check_at == arrival_reminder_at(now.date())
    [message] = OutboxMessage.objects.filter(topic="notification.dispatched")
    mail.outbox.clear()
    outbox.dispatch(message.pk, now=now)
    assert [m.to for m in mail.outbox] == [[cast.importer.email]]
    assert n.events.filter(kind=EventKind.DISPATCHED).count() == 1


@pytest.mark.parametrize("state", ["awaiting_reply", "information_requested", "objection", "withdrawn"])
def test_no_dispatch_before_clearance(cast, client, de, state):
    now = timezone.now()
    n = file(cast, now=now - timedelta(days=2))
    if state == "withdrawn":
        services.withdraw(actor=cast.exporter_officer, notification=n, reason="x", now=now)
    elif state != "awaiting_reply":
        services.respond(actor=cast.importer_officer, notification=n, decision=state, comment="c", now=now)
    before = stored(n)
    assert post(client, n, "dispatch", body({"dispatched_on": now.date().isoformat()}), de).status_code == 409
    assert stored(n) == before


def test_under_tacit_consent_the_dispatch_may_follow_the_reply_period(cast, client, de):
    cast.importer.country.reply_regime = "tacit_consent"
    cast.importer.country.save()
    now = timezone.now()
    early = file(cast, now=now - timedelta(days=3))
    assert post(client, early, "dispatch", body({"dispatched_on": now.date().isoformat()}), de).status_code == 409
    late = file(cast, now=now - timedelta(days=40))  # its reply period is over, with no reply
    response = post(client, late, "dispatch", body({"dispatched_on": now.date().isoformat()}), de)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "awaiting_reply"  # silence is still silence


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (body({"dispatched_on": "TODAY"}, "250.001"), "items.0.quantity"),  # above the notified 250
        (body({"dispatched_on": "TODAY"}, "-1"), "items.0.quantity"),
        (body({"dispatched_on": "TOMORROW"}), "dispatched_on"),
        (body({"dispatched_on": "LONG_AGO"}), "dispatched_on"),  # before it was sent
        ({"dispatched_on": "TODAY", "items": [{"position": 2, "quantity": "1"}]}, "items.0.position"),
        ({"dispatched_on": "TODAY", "items": []}, "items"),
    ],
)
def test_bad_dispatches_are_400s_naming_the_field_and_store_nothing(cast, client, de, payload, field):
    now = timezone.now()
    n = cleared(cast, now)
    dates = {
        "TODAY": now.date(),
        "TOMORROW": now.date() + timedelta(days=1),
        "LONG_AGO": now.date() - timedelta(days=30),
    }
    payload = {**payload, "dispatched_on": dates[payload["dispatched_on"]].isoformat()}
    before = stored(n)
    response = post(client, n, "dispatch", payload, de)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    if field == "items.0.quantity" and "250.001" in str(payload):
        assert "Item 1 (Ephedrine)" in response.json()[field][0] and "250.000 kg notified" in response.json()[field][0]
    assert stored(n) == before


def test_a_second_dispatch_is_409(cast, client, de):
    now = timezone.now()
    n = shipped(cast, cleared(cast, now), now)
    before = stored(n)
    assert post(client, n, "dispatch", body({"dispatched_on": now.date().isoformat()}), de).status_code == 409
    assert stored(n) == before


# --- arrival -------------------------------------------------------------------------------


def test_an_arrival_within_one_percent_raises_nothing(cast, client, gh):
    now = timezone.now()
    n = shipped(cast, cleared(cast, now), now)
    response = post(client, n, "confirm_arrival", body({"arrived_on": now.date().isoformat()}, "247.6"), gh)
    assert response.status_code == 200, response.content
    assert response.json()["arrival"]["items"] == [{"position": 1, "quantity": "247.600"}]
    assert response.json()["risk_flags"] == []
    n.refresh_from_db()
    assert n.arrival_check_at is None  # nothing left to remind


def test_a_difference_over_one_percent_is_flagged_until_explained(cast, client, gh, de):
    now = timezone.now()
    n = shipped(cast, cleared(cast, now), now)
    response = post(
        client, n, "confirm_arrival", body({"arrived_on": now.date().isoformat()}, "220", comment="Short"), gh
    )
    [flag] = response.json()["risk_flags"]
    assert flag["kind"] == "quantity_discrepancy" and flag["resolved_at"] is None
    assert flag["detail"] == "Item 1 (Ephedrine): 250.000 kg dispatched, 220.000 kg received (-12.0 %)."
    assert response.json()["arrival"]["comment"] == "Short"
    # Explained (by either side): resolved, and the explanation stays in the timeline.
    assert (
        post(client, n, "explain_discrepancy", {"comment": "30 kg sampled by customs at Tema."}, de).status_code == 200
    )
    flag = RiskSignal.objects.get(notification=n, kind=RiskKind.QUANTITY_DISCREPANCY)
    assert flag.resolved_at is not None
    assert n.events.get(kind=EventKind.DISCREPANCY_EXPLAINED).detail == "30 kg sampled by customs at Tema."
    assert post(client, n, "explain_discrepancy", {"comment": "Again"}, gh).status_code == 409
    transit = bearer(token_for(client, cast.transit, name="NL system"))
    assert post(client, n, "explain_discrepancy", {"comment": "x"}, transit).status_code == 403


@pytest.mark.parametrize(
    ("arrived", "field"),
    [("BEFORE_DISPATCH", "arrived_on"), ("TOMORROW", "arrived_on")],
)
def test_an_arrival_dated_before_the_dispatch_or_in_the_future_is_400(cast, client, gh, arrived, field):
    now = timezone.now()
    n = cleared(cast, now)
    services.dispatch(
        actor=cast.exporter_officer,
        notification=n,
        dispatched_on=now.date() - timedelta(days=1),
        quantities=[services.ShippedQuantity(1, Decimal("250"))],
        now=now,
    )
    on = {"BEFORE_DISPATCH": now.date() - timedelta(days=2), "TOMORROW": now.date() + timedelta(days=1)}[arrived]
    before = stored(n)
    response = post(client, n, "confirm_arrival", body({"arrived_on": on.isoformat()}), gh)
    assert response.status_code == 400 and field in response.json()
    assert stored(n) == before


def test_an_arrival_before_any_dispatch_is_400_and_a_second_one_409(cast, client, gh):
    now = timezone.now()
    n = cleared(cast, now)
    before = stored(n)
    response = post(client, n, "confirm_arrival", body({"arrived_on": now.date().isoformat()}), gh)
    assert response.status_code == 400 and "arrived_on" in response.json()
    assert stored(n) == before
    shipped(cast, n, now)
    assert post(client, n, "confirm_arrival", body({"arrived_on": now.date().isoformat()}), gh).status_code == 200
    assert post(client, n, "confirm_arrival", body({"arrived_on": now.date().isoformat()}), gh).status_code == 409


# --- the arrival ladder ----------------------------------------------------------------------


def test_thirty_days_without_arrival_remind_once_and_flag_until_confirmed(cast, client, gh):
    now = timezone.now()
    n = shipped(cast, cleared(cast, now), now)
    due = arrival_reminder_at(now.date())
    assert arrival.sweep(now=due - timedelta(seconds=1)) == 0
    assert arrival.sweep(now=due) == 1
    assert arrival.sweep(now=due + timedelta(days=1)) == 0  # once
    [message] = OutboxMessage.objects.filter(topic="notification.arrival_reminder")
    mail.outbox.clear()
    outbox.dispatch(message.pk, now=due)
    [email] = mail.outbox
    assert email.to == [cast.importer.email] and n.reference in email.subject
    flag = RiskSignal.objects.get(notification=n, kind=RiskKind.ARRIVAL_UNCONFIRMED)
    assert flag.resolved_at is None and "no arrival confirmed 30 days later" in flag.detail
    later = due + timedelta(days=2)
    services.confirm_arrival(
        actor=cast.importer_officer,
        notification=n,
        arrived_on=now.date() + timedelta(days=3),
        quantities=[services.ShippedQuantity(1, Decimal("250"))],
        now=later,
    )
    flag.refresh_from_db()
    assert flag.resolved_at == later


def test_a_confirmed_arrival_is_never_reminded(cast):
    now = timezone.now()
    n = shipped(cast, cleared(cast, now), now)
    services.confirm_arrival(
        actor=cast.importer_officer,
        notification=n,
        arrived_on=now.date(),
        quantities=[services.ShippedQuantity(1, Decimal("250"))],
        now=now,
    )
    assert arrival.sweep(now=arrival_reminder_at(now.date()) + timedelta(days=5)) == 0
    assert not RiskSignal.objects.filter(notification=n).exists()


# --- the pages ------------------------------------------------------------------------------


def test_the_dispatch_page_checks_then_records(cast, client):
    now = timezone.now()
    n = cleared(cast, now)
    client.force_login(cast.exporter_officer)
    page = f"/notifications/{n.reference}/dispatch/"
    assert "Record the dispatch" in client.get(page).content.decode()
    values = {"version": n.version, "on": now.date().isoformat(), "items_0_quantity": "300"}
    refused = client.post(page, values).content.decode()
    assert "There is a problem" in refused and "250.000 kg notified" in refused
    before = stored(n)
    review = client.post(page, {**values, "items_0_quantity": "240"}).content.decode()
    assert "Check before it is recorded" in review and "cannot be changed" in review
    assert stored(n) == before  # checked, not stored, nothing sent
    done = client.post(page, {**values, "items_0_quantity": "240", "confirm": "1"})
    assert done.status_code == 302
    detail = client.get(n.get_absolute_url()).content.decode()
    assert "Dispatch and arrival" in detail and "240.000 kg" in detail


def test_the_arrival_page_records_a_difference_and_the_page_offers_the_explanation(cast, client):
    now = timezone.now()
    n = shipped(cast, cleared(cast, now), now)
    client.force_login(cast.importer_officer)
    page = f"/notifications/{n.reference}/arrival/"
    values = {"version": n.version, "on": now.date().isoformat(), "items_0_quantity": "220", "comment": ""}
    review = client.post(page, values).content.decode()
    assert "Check before it is recorded" in review
    assert "more than 1 % away from the 250.000 kg dispatched" in review  # warned before it is recorded
    assert client.post(page, {**values, "confirm": "1"}).status_code == 302
    detail = client.get(n.get_absolute_url()).content.decode()
    assert "Explain the quantity difference" in detail
    assert re.search(r"250\.000 kg dispatched, 220\.000 kg received", detail)
    client.post(f"/notifications/{n.reference}/explain-discrepancy/", {"comment": "Customs sample."})
    assert RiskSignal.objects.get(notification=n, kind=RiskKind.QUANTITY_DISCREPANCY).resolved_at is not None


def test_the_list_filters_by_an_open_risk_flag(cast, client, gh, de):
    """The contract's GET /api/v1/notifications/?risk=KIND: open flags only, each once."""
    now = timezone.now()
    short = shipped(cast, cleared(cast, now), now)
    post(client, short, "confirm_arrival", body({"arrived_on": now.date().isoformat()}, "220"), gh)
    whole = shipped(cast, cleared(cast, now), now)
    post(client, whole, "confirm_arrival", body({"arrived_on": now.date().isoformat()}), gh)

    def listed(kind):
        response = client.get("/api/v1/notifications/", {"risk": kind}, headers=de)
        assert response.status_code == 200, response.content
        return [row["reference"] for row in response.json()["results"]]

    assert listed("quantity_discrepancy") == [short.reference]
    assert listed("silence") == []
    post(client, short, "explain_discrepancy", {"comment": "A customs sample."}, de)
    assert listed("quantity_discrepancy") == []  # resolved: no longer listed
    assert client.get("/api/v1/notifications/", {"risk": "nonsense"}, headers=de).status_code == 400
