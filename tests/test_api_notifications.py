"""REST API v1 notifications (docs/api.md), in process: the contract's fields,
filters and pagination, actions with ETags, scopes, and the error codes."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.middleware.csrf import _get_new_csrf_string, _mask_cipher_secret
from django.test import Client
from django.utils import timezone

from notifications import services
from notifications.models import Event, EventKind, Item, Notification, Response, Status
from tests.api_helpers import bearer, notification_body, token_for
from tests.factories import file

pytestmark = pytest.mark.django_db

LIST = "/api/v1/notifications/"


def url(reference, action=""):
    return f"{LIST}{reference}/{action + '/' if action else ''}"


@pytest.fixture
def tokens(client, cast):
    """One licensing system per authority of the cast, with every scope it may hold."""
    return {
        "exporter": bearer(token_for(client, cast.exporter)),
        "importer": bearer(token_for(client, cast.importer)),
        "transit": bearer(token_for(client, cast.transit)),
        "outsider": bearer(token_for(client, cast.outsider)),
        "incb": bearer(token_for(client, cast.incb)),
    }


def post(client, path, body=None, headers=None):
    return client.post(path, body if body is not None else {}, content_type="application/json", headers=headers)


def test_filing_returns_201_with_every_contract_field_an_etag_and_a_location(client, cast, tokens):
    response = post(client, LIST, notification_body(), tokens["exporter"])

    assert response.status_code == 201, response.content
    body = response.json()
    notification = Notification.objects.get()
    assert body["reference"] == notification.reference
    assert body["reference"].startswith(f"DE-{timezone.now().year}-")
    assert response["ETag"] == notification.etag
    assert response["Location"].endswith(url(notification.reference))
    assert body["status"] == "awaiting_reply"
    assert (body["exporting_authority"], body["exporting_country"]) == ("de-bopst", "DE")
    assert (body["importing_authority"], body["importing_country"]) == ("gh-fda", "GH")
    assert body["transit_countries"] == ["NL"]
    assert body["exporter"] == {
        "name": "Chemie Export GmbH",
        "address": "Industriestr. 1, Hamburg",
        "licence_number": "DE-1",
    }
    assert body["consignee"] == {"name": "", "address": "", "licence_number": ""}
    item = body["items"][0]
    assert (item["substance"], item["quantity"], item["unit"], item["form"]) == (
        "ephedrine",
        "250.000",
        "kg",
        "substance",
    )
    assert item["concentration_percent"] is None and item["packages"] == "10 drums"
    assert body["shipment"]["mode_of_transport"] == "sea"
    assert body["shipment"]["expected_dispatch"] == notification_body()["shipment"]["expected_dispatch"]
    assert body["end_use"] == "Manufacture of cough syrup"
    assert body["national_reference"] == "EXP-2026-0042"
    assert body["reply_due"] == notification.reply_due.isoformat()
    assert body["submitted_at"] and body["acknowledged_at"] is None and body["replied_at"] is None
    assert body["overdue"] is False and body["draft"] is False
    assert body["risk_flags"] == [] and body["responses"] == []
    assert [event["kind"] for event in body["events"]] == ["created", "submitted"]
    assert "withdraw" in body["allowed_actions"]
    assert notification.created_by.is_machine and notification.created_by.authority == cast.exporter
    assert Item.objects.get(notification=notification).quantity == Decimal("250.000")


def test_a_draft_is_saved_unsent_then_sent_by_submit(client, cast, tokens):
    created = post(client, LIST, notification_body(draft=True), tokens["exporter"]).json()
    assert (created["status"], created["draft"], created["submitted_at"]) == ("draft", True, None)
    # The importing authority cannot see a draft: the same 404 as a missing reference.
    assert client.get(url(created["reference"]), headers=tokens["importer"]).status_code == 404

    response = post(client, url(created["reference"], "submit"), {}, tokens["exporter"])

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "awaiting_reply"
    assert Notification.objects.get().status == Status.AWAITING_REPLY
    assert client.get(url(created["reference"]), headers=tokens["importer"]).status_code == 200


def test_the_list_holds_only_notifications_the_authority_is_party_to(client, cast, tokens):
    now = timezone.now()
    mine = file(cast, now=now)
    draft = file(cast, now=now, draft=True)
    french = file(cast, now=now, actor=cast.outsider_officer, transit_countries=[])

    def references(who, **params):
        response = client.get(LIST, params, headers=tokens[who])
        assert response.status_code == 200, response.content
        return {row["reference"] for row in response.json()["results"]}

    assert references("exporter") == {mine.reference, draft.reference}
    assert references("importer") == {mine.reference, french.reference}
    assert references("transit") == {mine.reference}
    assert references("outsider") == {french.reference}
    assert references("incb") == {mine.reference, french.reference}
    assert references("importer", role="importing") == {mine.reference, french.reference}
    assert references("importer", role="exporting") == set()
    assert references("transit", role="transit") == {mine.reference}
    assert references("importer", exporting_country="fr") == {french.reference}
    assert references("importer", importing_country="GH") == {mine.reference, french.reference}
    assert references("exporter", status="draft") == {draft.reference}
    assert client.get(LIST, {"role": "everything"}, headers=tokens["exporter"]).status_code == 400


def test_overdue_and_updated_since_filters(client, cast, tokens):
    now = timezone.now()
    late = file(cast, now=now - timedelta(days=40))
    on_time = file(cast, now=now)
    services.acknowledge(actor=cast.importer_officer, notification=on_time, now=now + timedelta(seconds=1))

    def references(**params):
        response = client.get(LIST, params, headers=tokens["importer"])
        assert response.status_code == 200, response.content
        rows = response.json()["results"]
        return [row["reference"] for row in rows], rows

    overdue, rows = references(overdue="true")
    assert overdue == [late.reference] and rows[0]["overdue"] is True
    assert references(overdue="false")[0] == [on_time.reference]
    since = (now - timedelta(days=1)).isoformat()
    assert references(updated_since=since)[0] == [on_time.reference]
    assert set(references()[0]) == {late.reference, on_time.reference}
    assert client.get(LIST, {"updated_since": "yesterday"}, headers=tokens["importer"]).status_code == 400


def test_the_list_is_cursor_paginated_most_recently_changed_first(client, cast, tokens):
    now = timezone.now()
    filed = [file(cast, now=now + timedelta(seconds=i)).reference for i in range(3)]
    seen = []
    response = client.get(LIST, {"page_size": 2}, headers=tokens["exporter"])
    while True:
        body = response.json()
        seen += [row["reference"] for row in body["results"]]
        if not body["next"]:
            break
        assert "cursor=" in body["next"]
        response = client.get(body["next"], headers=tokens["exporter"])
    assert seen == list(reversed(filed))


def test_a_notification_not_visible_is_the_same_404_as_a_missing_one(client, cast, tokens):
    notification = file(cast, now=timezone.now())

    hidden = client.get(url(notification.reference), headers=tokens["outsider"])
    missing = client.get(url("DE-2099-999999"), headers=tokens["outsider"])
    malformed = client.get(url("nothing-like-a-reference"), headers=tokens["outsider"])

    assert hidden.status_code == missing.status_code == malformed.status_code == 404
    assert hidden.content == missing.content == malformed.content
    acting = post(client, url(notification.reference, "acknowledge"), {}, tokens["outsider"])
    assert (acting.status_code, acting.content) == (404, missing.content)
    notification.refresh_from_db()
    assert notification.acknowledged_at is None


def test_detail_carries_responses_events_and_risk_flags(client, cast, tokens):
    now = timezone.now()
    notification = file(cast, now=now - timedelta(days=40))
    from chasing import sweep

    sweep.sweep(now=now)
    services.respond(
        actor=cast.importer_officer, notification=notification, decision="objection", comment="No licence", now=now
    )

    body = client.get(url(notification.reference), headers=tokens["transit"]).json()

    assert body["status"] == "objection" and body["overdue"] is False
    assert body["responses"] == [
        {"kind": "objection", "comment": "No licence", "authority": "gh-fda", "created_at": body["replied_at"]}
    ]
    assert body["risk_flags"][0]["kind"] == "silence"
    assert set(body["risk_flags"][0]) >= {"kind", "raised_at", "detail"}
    times = [event["at"] for event in body["events"]]
    assert times == sorted(times)
    assert body["events"][0]["kind"] == "created" and body["events"][-1]["kind"] in ("replied", "silence_resolved")
    assert body["allowed_actions"] == []  # transit reads only


def test_the_importing_authority_acknowledges_requests_information_and_replies(client, cast, tokens):
    notification = file(cast, now=timezone.now())
    ref = notification.reference
    etag = client.get(url(ref), headers=tokens["importer"])["ETag"]

    acknowledged = post(client, url(ref, "acknowledge"), {}, {**tokens["importer"], "If-Match": etag})
    assert acknowledged.status_code == 200, acknowledged.content
    assert acknowledged["ETag"] != etag and acknowledged.json()["acknowledged_at"]
    again = post(client, url(ref, "acknowledge"), {}, tokens["importer"])
    assert again.status_code == 200
    assert Event.objects.filter(notification=notification, kind=EventKind.ACKNOWLEDGED).count() == 1

    asked = post(
        client,
        url(ref, "respond"),
        {"decision": "information_requested", "comment": "Which products?"},
        {**tokens["importer"], "If-Match": acknowledged["ETag"]},
    )
    assert asked.status_code == 200 and asked.json()["status"] == "information_requested"

    answered = post(client, url(ref, "provide_information"), {"comment": "Cough syrup"}, tokens["exporter"])
    assert answered.status_code == 200 and answered.json()["status"] == "awaiting_reply"

    replied = post(client, url(ref, "respond"), {"decision": "no_objection"}, tokens["importer"])
    assert replied.status_code == 200 and replied.json()["status"] == "no_objection"
    notification.refresh_from_db()
    assert notification.status == Status.NO_OBJECTION and notification.replied_at
    assert [r["kind"] for r in replied.json()["responses"]] == [
        "information_requested",
        "information_provided",
        "no_objection",
    ]

    second = post(client, url(ref, "respond"), {"decision": "objection", "comment": "Late"}, tokens["importer"])
    assert second.status_code == 409
    withdraw = post(client, url(ref, "withdraw"), {"reason": "Cancelled"}, tokens["exporter"])
    assert withdraw.status_code == 409
    assert Response.objects.filter(notification=notification, kind__in=["no_objection", "objection"]).count() == 1


def test_a_stale_if_match_is_412_and_changes_nothing(client, cast, tokens):
    notification = file(cast, now=timezone.now())
    stale = client.get(url(notification.reference), headers=tokens["importer"])["ETag"]
    services.acknowledge(actor=cast.importer_officer, notification=notification, now=timezone.now())

    response = post(
        client,
        url(notification.reference, "respond"),
        {"decision": "no_objection"},
        {**tokens["importer"], "If-Match": stale},
    )

    assert response.status_code == 412
    notification.refresh_from_db()
    assert notification.status == Status.AWAITING_REPLY
    assert not Response.objects.filter(notification=notification).exists()
    garbage = post(
        client,
        url(notification.reference, "respond"),
        {"decision": "no_objection"},
        {**tokens["importer"], "If-Match": '"x"'},
    )
    assert garbage.status_code == 412
    star = post(
        client,
        url(notification.reference, "respond"),
        {"decision": "no_objection"},
        {**tokens["importer"], "If-Match": "*"},
    )
    assert star.status_code == 200


def test_a_party_that_may_not_act_gets_403(client, cast, tokens):
    notification = file(cast, now=timezone.now())
    ref = notification.reference

    assert post(client, url(ref, "respond"), {"decision": "no_objection"}, tokens["transit"]).status_code == 403
    assert post(client, url(ref, "respond"), {"decision": "no_objection"}, tokens["exporter"]).status_code == 403
    assert post(client, url(ref, "withdraw"), {"reason": "mine?"}, tokens["importer"]).status_code == 403
    assert post(client, url(ref, "respond"), {"decision": "no_objection"}, tokens["incb"]).status_code == 403
    assert post(client, LIST, notification_body(), tokens["incb"]).status_code == 403
    notification.refresh_from_db()
    assert notification.status == Status.AWAITING_REPLY and notification.withdrawn_at is None
    # A viewer (session) reads but may not act.
    viewer = Client()
    viewer.force_login(cast.importer_viewer)
    assert viewer.get(url(ref)).status_code == 200
    assert post(viewer, url(ref, "acknowledge")).status_code == 403


def test_each_operation_needs_its_scope(client, cast):
    notification = file(cast, now=timezone.now())
    read_only = bearer(token_for(client, cast.exporter, scopes=["notifications:read"]))
    respond_only = bearer(token_for(client, cast.importer, scopes=["notifications:respond"]))
    write_only = bearer(token_for(client, cast.importer, scopes=["notifications:write"]))

    assert client.get(LIST, headers=read_only).status_code == 200
    assert post(client, LIST, notification_body(), read_only).status_code == 403
    assert post(client, url(notification.reference, "withdraw"), {"reason": "x"}, read_only).status_code == 403
    assert client.get(LIST, headers=respond_only).status_code == 403
    assert post(client, url(notification.reference, "acknowledge"), {}, write_only).status_code == 403
    assert post(client, url(notification.reference, "acknowledge"), {}, respond_only).status_code == 200
    assert Notification.objects.count() == 1


def test_no_or_bad_credentials_are_401(client, cast):
    assert client.get(LIST).status_code == 401
    assert client.get(LIST, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert post(client, LIST, notification_body(), {"Authorization": "Bearer not-a-token"}).status_code == 401
    assert Notification.objects.count() == 0


def test_invalid_bodies_are_400_with_field_errors_and_nothing_stored(client, cast, tokens):
    body = notification_body()
    body["items"] = [{"substance": "ephedrine", "quantity": "lots", "unit": "tons"}]
    del body["exporter"]

    response = post(client, LIST, body, tokens["exporter"])

    assert response.status_code == 400
    errors = response.json()
    assert set(errors) >= {"items.0.quantity", "items.0.unit", "exporter"}
    assert all(isinstance(messages, list) and messages for messages in errors.values())

    # Shape is fine; the services' rules answer with the same dotted names.
    yesterday = (timezone.now().date() - timedelta(days=1)).isoformat()
    body = notification_body(
        importing_country="DE",
        items=[{"substance": "unobtainium", "quantity": "0", "unit": "kg"}],
        shipment={**notification_body()["shipment"], "expected_dispatch": yesterday},
    )
    body["exporter"] = {"name": " ", "address": "x"}
    errors = post(client, LIST, body, tokens["exporter"]).json()
    assert set(errors) >= {
        "importing_country",
        "items.0.substance",
        "items.0.quantity",
        "shipment.expected_dispatch",
        "exporter.name",
    }
    assert post(client, LIST, [1, 2], tokens["exporter"]).status_code == 400
    respond = post(
        client, url(file(cast, now=timezone.now()).reference, "respond"), {"decision": "maybe"}, tokens["importer"]
    )
    assert respond.status_code == 400 and "decision" in respond.json()
    objection = post(
        client, url(Notification.objects.get().reference, "respond"), {"decision": "objection"}, tokens["importer"]
    )
    assert objection.status_code == 400 and "comment" in objection.json()
    assert Notification.objects.count() == 1 and Item.objects.count() == 1
    assert not Response.objects.exists()


def test_a_reply_due_earlier_than_the_declared_period_is_400(client, cast, tokens):
    soon = (timezone.now().date() + timedelta(days=2)).isoformat()
    response = post(client, LIST, notification_body(reply_due=soon), tokens["exporter"])
    assert response.status_code == 400 and "reply_due" in response.json()
    assert Notification.objects.count() == 0


def test_browser_sessions_work_with_csrf_protection(cast):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(cast.exporter_officer)

    refused = post(browser, LIST, notification_body())
    assert refused.status_code == 403
    assert Notification.objects.count() == 0

    secret = _get_new_csrf_string()
    browser.cookies["csrftoken"] = secret
    accepted = post(browser, LIST, notification_body(), {"X-CSRFToken": _mask_cipher_secret(secret)})
    assert accepted.status_code == 201, accepted.content
    assert Notification.objects.get().created_by == cast.exporter_officer
