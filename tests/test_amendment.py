"""Amendment of a sent notification still awaiting its reply (issue 14; the contract's
"Amendment"): what may change and what needs a new notification, the history with its
before and after, who is told, and the reply clock that runs on. Through the API and the
page; who may call them at all is tests/test_permission_matrix.py."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Role
from messaging import outbox, webhooks
from messaging.models import OutboxMessage, WebhookDelivery
from notifications import services
from notifications.models import Event, EventKind
from tests.api_helpers import bearer, token_for
from tests.conftest import make_user
from tests.factories import file

pytestmark = pytest.mark.django_db


@pytest.fixture(name="de")
def de_headers(cast, client):
    return bearer(token_for(client, cast.exporter))


def url(notification, suffix=""):
    return f"/api/v1/notifications/{notification.reference}/{suffix}"


def patch(client, notification, body, headers, if_match="current"):
    extra = dict(headers)
    if if_match == "current":
        notification.refresh_from_db()
        extra["If-Match"] = notification.etag
    elif if_match is not None:
        extra["If-Match"] = if_match
    return client.patch(url(notification), body, content_type="application/json", headers=extra)


def state(notification):
    """Everything an amendment could touch, to show that a refusal stores nothing."""
    notification.refresh_from_db()
    item = notification.items.get()
    return (
        notification.version,
        notification.point_of_entry,
        notification.carrier,
        notification.reply_due,
        notification.next_chase_at,
        item.quantity,
        item.packages,
        list(notification.transits.values_list("country_id", flat=True)),
        notification.events.count(),
        OutboxMessage.objects.filter(notification=notification).count(),
    )


def item_body(**changes):
    return {"substance": "ephedrine", "quantity": "250.000", "unit": "kg", "packages": "10 drums", **changes}


def test_an_amendment_changes_what_may_change_and_keeps_before_and_after(cast, client, de):
    sent = file(cast, now=timezone.now() - timedelta(days=2))
    due, chase = sent.reply_due, sent.next_chase_at
    response = patch(
        client,
        sent,
        {
            "shipment": {"point_of_entry": "Takoradi", "carrier": "Maersk Line"},
            "transit_countries": ["NL", "BE"],
            "items": [item_body(quantity="200", packages="8 drums")],
            "import_authorization_number": "GH-IMP-2026-77",
        },
        de,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["shipment"]["point_of_entry"] == "Takoradi" and body["shipment"]["carrier"] == "Maersk Line"
    assert body["transit_countries"] == ["NL", "BE"]
    assert (body["items"][0]["quantity"], body["items"][0]["packages"]) == ("200.000", "8 drums")
    assert body["status"] == "awaiting_reply"
    [amendment] = body["amendments"]
    assert amendment["by"] == cast.exporter.code
    assert amendment["changes"] == {
        "shipment.point_of_entry": ["Tema", "Takoradi"],
        "shipment.carrier": ["", "Maersk Line"],
        "transit_countries": [["NL"], ["NL", "BE"]],
        "items.0.quantity": ["250.000", "200.000"],
        "items.0.packages": ["10 drums", "8 drums"],
        "import_authorization_number": ["", "GH-IMP-2026-77"],
    }
    # The reply clock runs on: neither the due date nor the chase moves.
    sent.refresh_from_db()
    assert (sent.reply_due, sent.next_chase_at) == (due, chase)
    assert body["reply_due"] == due.isoformat()
    assert Event.objects.filter(notification=sent, kind=EventKind.AMENDED).count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"importer": {"name": "Another Pharma Ltd"}}, "importer.name"),
        ({"exporter": {"address": "Elsewhere 1, Bremen"}}, "exporter.address"),
        ({"importing_country": "FR"}, "importing_country"),
        ({"end_use": "Something else"}, "end_use"),
        ({"items": [item_body(quantity="300")]}, "items.0.quantity"),  # higher
        ({"items": [item_body(substance="pseudoephedrine")]}, "items.0.substance"),
        ({"items": [item_body(), item_body()]}, "items"),  # another item
        ({"reply_due": "2027-06-30"}, "reply_due"),
    ],
)
def test_what_needs_a_new_notification_is_a_400_that_says_so(cast, client, de, change, field):
    sent = file(cast, now=timezone.now())
    before = state(sent)
    response = patch(client, sent, {**change, "shipment": {"carrier": "Maersk Line"}}, de)
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    if field not in {"items.0.quantity", "items", "reply_due"}:
        assert "file a new one" in errors[field][0]
    assert "shipment.carrier" not in errors  # the allowed change is not blamed
    assert state(sent) == before  # nothing stored, not even the allowed carrier


def test_new_values_are_held_to_the_filing_rules(cast, client, de):
    sent = file(cast, now=timezone.now())
    before = state(sent)
    past = (timezone.now().date() - timedelta(days=1)).isoformat()
    response = patch(client, sent, {"shipment": {"expected_dispatch": past}, "transit_countries": ["GH"]}, de)
    assert response.status_code == 400
    assert set(response.json()) == {"shipment.expected_dispatch", "transit_countries"}
    assert patch(client, sent, {"items": [item_body(quantity="0")]}, de).status_code == 400
    assert state(sent) == before


def test_sending_the_same_values_changes_nothing(cast, client, de):
    sent = file(cast, now=timezone.now())
    before = state(sent)
    response = patch(client, sent, {"shipment": {"point_of_entry": "Tema"}, "items": [item_body()]}, de)
    assert response.status_code == 200
    assert response.json()["amendments"] == []
    assert state(sent) == before


@pytest.mark.parametrize("how", ["no_objection", "objection", "withdrawn"])
def test_a_final_or_withdrawn_notification_is_not_amended(cast, client, de, how):
    now = timezone.now()
    sent = file(cast, now=now)
    if how == "withdrawn":
        services.withdraw(actor=cast.exporter_officer, notification=sent, reason="x", now=now)
    else:
        services.respond(actor=cast.importer_officer, notification=sent, decision=how, comment="c", now=now)
    before = state(sent)
    assert patch(client, sent, {"shipment": {"carrier": "Maersk Line"}}, de).status_code == 409
    assert state(sent) == before


def test_if_match_is_required_and_must_be_current(cast, client, de):
    sent = file(cast, now=timezone.now())
    stale = sent.etag
    assert patch(client, sent, {"shipment": {"carrier": "A"}}, de).status_code == 200
    before = state(sent)
    assert patch(client, sent, {"shipment": {"carrier": "B"}}, de, if_match=None).status_code == 428
    assert patch(client, sent, {"shipment": {"carrier": "B"}}, de, if_match=stale).status_code == 412
    assert state(sent) == before


def test_an_information_request_may_be_answered_by_an_amendment(cast, client, de):
    now = timezone.now()
    sent = file(cast, now=now)
    services.respond(
        actor=cast.importer_officer, notification=sent, decision="information_requested", comment="Carrier?", now=now
    )
    response = patch(client, sent, {"shipment": {"carrier": "Maersk Line"}}, de)
    assert response.status_code == 200
    assert response.json()["status"] == "information_requested"  # the question stays open


def test_the_importing_and_transit_authorities_are_told_once(cast, client, de, monkeypatch, settings):
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["93.184.216.34"])
    now = timezone.now()
    transit_admin = make_user("nl_admin", cast.transit, Role.ADMINISTRATOR)
    hooks = {
        side: webhooks.register_endpoint(actor=admin, url=f"https://{side}.example/hook", events=None, now=now)[0]
        for side, admin in (
            ("importer", cast.importer_admin),
            ("transit", transit_admin),
            ("exporter", cast.exporter_admin),
            ("outsider", cast.outsider_admin),
        )
    }
    sent = file(cast, now=now)
    OutboxMessage.objects.update(dispatched_at=now)  # what sending owed is not this test's
    mail.outbox.clear()
    assert patch(client, sent, {"shipment": {"point_of_entry": "Takoradi"}}, de).status_code == 200

    [message] = OutboxMessage.objects.filter(topic="notification.amended")
    assert outbox.dispatch(message.pk, now=now) is True
    assert outbox.dispatch(message.pk, now=now) is False  # once
    [email] = mail.outbox
    assert sorted(email.to) == sorted([cast.importer.email, cast.transit.email])
    assert sent.reference in email.subject and "Takoradi" not in email.body  # a link, never the content
    told = set(WebhookDelivery.objects.filter(event="notification.amended").values_list("endpoint_id", flat=True))
    assert told == {hooks["importer"].pk, hooks["transit"].pk}


# --- the page -------------------------------------------------------------------------------


def page_values(notification, **changes):
    notification.refresh_from_db()
    item = notification.items.get()
    values = {
        "version": notification.version,
        "point_of_exit": notification.point_of_exit,
        "point_of_entry": notification.point_of_entry,
        "mode_of_transport": notification.mode_of_transport,
        "carrier": notification.carrier,
        "expected_dispatch": notification.expected_dispatch.isoformat(),
        "transit_1": "NL",
        "items_0_quantity": str(item.quantity),
        "items_0_packages": item.packages,
        "import_authorization_number": notification.import_authorization_number,
        "national_reference": notification.national_reference,
    }
    return {**values, **changes}


def test_the_page_shows_the_changes_before_saving_them(cast, client):
    sent = file(cast, now=timezone.now())
    client.force_login(cast.exporter_officer)
    page = f"/notifications/{sent.reference}/amend/"
    shown = client.get(page).content.decode()
    assert 'value="Tema"' in shown and "What an amendment cannot change" in shown
    assert "Accra Pharma Ltd" in shown  # the locked values are shown, not offered

    values = page_values(sent, point_of_entry="Takoradi", items_0_quantity="200")
    before = state(sent)
    review = client.post(page, values)
    html = review.content.decode()
    assert review.status_code == 200 and "Check the changes before they are sent" in html
    assert "<del>Tema</del>" in html and "<ins>Takoradi</ins>" in html
    assert state(sent) == before  # the review stores nothing
    reviewed = re.search(r'name="reviewed" value="([0-9a-f]+)"', html).group(1)

    # A value changed after the review is reviewed again, not saved unseen.
    again = client.post(page, {**values, "carrier": "Unseen", "confirm": "1", "reviewed": reviewed})
    assert "Check the changes" in again.content.decode() and state(sent) == before

    saved = client.post(page, {**values, "confirm": "1", "reviewed": reviewed})
    assert saved.status_code == 302
    detail = client.get(sent.get_absolute_url()).content.decode()
    assert "<del>Tema</del>" in detail and "<ins>Takoradi</ins>" in detail
    assert "<del>250.000</del>" in detail and "<ins>200.000</ins>" in detail


def test_the_page_names_the_field_of_a_refused_change(cast, client):
    sent = file(cast, now=timezone.now())
    client.force_login(cast.exporter_officer)
    before = state(sent)
    response = client.post(f"/notifications/{sent.reference}/amend/", page_values(sent, items_0_quantity="900"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in html and "may only lower a quantity" in html
    assert 'href="#id_items_0_quantity"' in html
    assert state(sent) == before
