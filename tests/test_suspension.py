"""Suspension of a suspicious consignment (issue 12; CND resolution 60/5, para. 9): any
authority party to the shipment suspends it, every party and INCB is told at once, the
exporter must not ship it, only the suspending authority lifts it, and the history stays.
Who may call what in every state is tests/test_permission_matrix.py."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Role
from messaging import outbox, webhooks
from messaging.models import OutboxMessage, WebhookDelivery
from notifications import services
from notifications.models import EventKind, Suspension
from tests.api_helpers import bearer, token_for
from tests.conftest import make_user
from tests.factories import file

pytestmark = pytest.mark.django_db


def post(client, notification, action, body, headers):
    return client.post(
        f"/api/v1/notifications/{notification.reference}/{action}/",
        body,
        content_type="application/json",
        headers=headers,
    )


def test_a_transit_authority_suspends_and_only_it_lifts(cast, client):
    n = file(cast, now=timezone.now())
    nl = bearer(token_for(client, cast.transit, name="NL"))
    de = bearer(token_for(client, cast.exporter, name="DE"))
    response = post(client, n, "suspend", {"reason": "The consignee's address is a residential flat."}, nl)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "awaiting_reply"  # the reply status does not change
    assert body["suspension"]["by_country"] == "NL" and body["suspension"]["by_authority"] == cast.transit.code
    assert body["suspension"]["lifted_at"] is None
    assert "suspend" not in body["allowed_actions"] and "lift_suspension" in body["allowed_actions"]

    # A second suspension while one is in force: 409; lifting another's: 403.
    assert post(client, n, "suspend", {"reason": "Again"}, de).status_code == 409
    assert post(client, n, "lift_suspension", {"comment": "Fine"}, de).status_code == 403
    assert Suspension.objects.filter(notification=n, lifted_at__isnull=True).count() == 1

    lifted = post(client, n, "lift_suspension", {"comment": "The consignee's licence was confirmed."}, nl)
    assert lifted.status_code == 200
    assert lifted.json()["suspension"] is None
    [past] = lifted.json()["suspensions"]
    assert past["lift_comment"] == "The consignee's licence was confirmed." and past["lifted_at"]
    kinds = list(
        n.events.filter(kind__in=[EventKind.SUSPENDED, EventKind.SUSPENSION_LIFTED]).values_list("kind", flat=True)
    )
    assert kinds == [EventKind.SUSPENDED, EventKind.SUSPENSION_LIFTED]
    assert post(client, n, "lift_suspension", {"comment": "Again"}, nl).status_code == 409


def test_bad_input_and_outsiders(cast, client):
    n = file(cast, now=timezone.now())
    gh = bearer(token_for(client, cast.importer, name="GH"))
    missing = post(client, n, "suspend", {"reason": "  "}, gh)
    assert missing.status_code == 400 and "reason" in missing.json()
    fr = bearer(token_for(client, cast.outsider, name="FR"))
    assert post(client, n, "suspend", {"reason": "x"}, fr).status_code == 404
    assert not Suspension.objects.exists()
    assert post(client, n, "suspend", {"reason": "Verification of the end use."}, gh).status_code == 200
    assert post(client, n, "lift_suspension", {"comment": ""}, gh).status_code == 400
    assert Suspension.objects.get().lifted_at is None


def test_every_party_and_incb_is_told_once(cast, monkeypatch):
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["93.184.216.34"])
    now = timezone.now()
    transit_admin = make_user("nl_admin", cast.transit, Role.ADMINISTRATOR)
    hooks = {
        side: webhooks.register_endpoint(actor=admin, url=f"https://{side}.example/hook", events=None, now=now)[0]
        for side, admin in (
            ("exporter", cast.exporter_admin),
            ("importer", cast.importer_admin),
            ("transit", transit_admin),
            ("outsider", cast.outsider_admin),
        )
    }
    n = file(cast, now=now)
    OutboxMessage.objects.update(dispatched_at=now)
    mail.outbox.clear()
    services.suspend(actor=cast.importer_officer, notification=n, reason="Verify the consignee.", now=now)
    [message] = OutboxMessage.objects.filter(topic="notification.suspended")
    assert outbox.dispatch(message.pk, now=now) and not outbox.dispatch(message.pk, now=now)
    [email] = mail.outbox
    assert sorted(email.to) == sorted([cast.exporter.email, cast.importer.email, cast.transit.email, cast.incb.email])
    assert "Verify the consignee" not in email.body  # a link, not the content
    told = set(WebhookDelivery.objects.filter(event="notification.suspended").values_list("endpoint_id", flat=True))
    assert told == {hooks["exporter"].pk, hooks["importer"].pk, hooks["transit"].pk}


def test_a_suspended_consignment_must_not_be_shipped(cast, client):
    now = timezone.now()
    n = file(cast, now=now - timedelta(days=2))
    services.respond(actor=cast.importer_officer, notification=n, decision="no_objection", now=now)
    services.suspend(actor=cast.transit_officer, notification=n, reason="Route change unexplained.", now=now)
    de = bearer(token_for(client, cast.exporter, name="DE"))
    refused = post(
        client,
        n,
        "dispatch",
        {"dispatched_on": now.date().isoformat(), "items": [{"position": 1, "quantity": "250"}]},
        de,
    )
    assert refused.status_code == 409 and "must not be shipped" in refused.json()["detail"]
    client.force_login(cast.exporter_officer)
    page = client.get(n.get_absolute_url()).content.decode()
    assert "must not be shipped until the suspension is lifted" in page
    assert "Record the dispatch" not in page
    services.lift_suspension(actor=cast.transit_officer, notification=n, comment="Explained.", now=now)
    shipped = services.dispatch(
        actor=cast.exporter_officer,
        notification=n,
        dispatched_on=now.date(),
        quantities=[services.ShippedQuantity(1, Decimal("250"))],
        now=now,
    )
    assert shipped.dispatched_on == now.date()


@pytest.mark.parametrize("viewer", ["importer_officer", "transit_officer", "incb_reviewer", "exporter_viewer"])
def test_every_party_and_incb_sees_the_banner(cast, client, viewer):
    n = file(cast, now=timezone.now())
    services.suspend(actor=cast.exporter_officer, notification=n, reason="Our own verification.", now=timezone.now())
    client.force_login(getattr(cast, viewer))
    page = client.get(n.get_absolute_url()).content.decode()
    assert "This consignment is suspended pending verification" in page or "must not be shipped" in page
    assert "Our own verification." in page
    assert f"Only {cast.exporter.name} can lift it." in page


def test_the_pages_confirm_before_suspending_and_incb_lists_those_in_force(cast, client):
    n = file(cast, now=timezone.now())
    client.force_login(cast.transit_officer)
    page = f"/notifications/{n.reference}/suspend/"
    confirm = client.get(page).content.decode()
    assert "Every party to this notification and INCB are told at once" in confirm
    assert not Suspension.objects.exists()  # the page alone suspends nothing
    refused = client.post(page, {"version": n.version, "reason": ""}).content.decode()
    assert "There is a problem" in refused and not Suspension.objects.exists()
    assert client.post(page, {"version": n.version, "reason": "Unlicensed broker."}).status_code == 302
    client.force_login(cast.incb_reviewer)
    dashboard = client.get("/notifications/").content.decode()
    assert "Suspension in force (1)" in dashboard and n.reference in dashboard and "Unlicensed broker." in dashboard
    client.force_login(cast.transit_officer)
    lift = f"/notifications/{n.reference}/lift-suspension/"
    assert "Unlicensed broker." in client.get(lift).content.decode()
    assert client.post(lift, {"version": n.version, "comment": "Licence found."}).status_code == 302
    assert Suspension.objects.get().lifted_at is not None


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_tells_of_a_suspension_exactly_once(cast, settings):
    """Not eager mode: the outbox task after commit, the e-mail, the webhook delivery to a
    real receiver; then the relay and a second dispatch of the same message change nothing."""
    import json
    import time

    from celery.contrib.testing.worker import start_worker

    from messaging.tasks import relay_outbox
    from pen_portal.celery import app
    from tests.test_webhooks import Receiver, wait_for

    settings.WEBHOOK_ALLOW_INSECURE_URLS = True
    hook = Receiver()
    try:
        endpoint, _secret = webhooks.register_endpoint(
            actor=cast.importer_admin, url=hook.url, events=["notification.suspended"], now=timezone.now()
        )
        app.control.purge()
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            n = file(cast, now=timezone.now())
            assert wait_for(lambda: not OutboxMessage.objects.filter(dispatched_at__isnull=True).exists())
            mail.outbox.clear()
            services.suspend(actor=cast.transit_officer, notification=n, reason="Verify.", now=timezone.now())
            assert wait_for(lambda: len(hook.requests) == 1 and len(mail.outbox) == 1)
            message = OutboxMessage.objects.get(topic="notification.suspended")
            # A redelivered task and the relay find it dispatched: nothing more.
            from messaging.tasks import dispatch_outbox_message

            dispatch_outbox_message.delay(message.pk)
            relay_outbox.delay()
            time.sleep(3)
        assert len(mail.outbox) == 1 and len(hook.requests) == 1
        assert json.loads(hook.requests[0][1])["event"] == "notification.suspended"
        assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1
    finally:
        hook.close()
