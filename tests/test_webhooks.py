"""Webhooks: registration (API and web page), who is told of what, signed deliveries to a
real HTTP receiver, retries with growing delays driven by the database, and disabling a
failing endpoint with one e-mail to its authority."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from chasing import sweep
from messaging import outbox, webhooks
from messaging.models import DeliveryStatus, OutboxMessage, WebhookDelivery, WebhookEndpoint, WebhookEvent
from notifications import services
from tests.api_helpers import bearer, broker_fixture, token_for  # noqa: F401 - a fixture
from tests.conftest import make_user
from tests.factories import file

pytestmark = pytest.mark.django_db

HOOKS = "/api/v1/webhooks/"


@pytest.fixture(autouse=True)
def public_dns(monkeypatch):
    """Registration resolves a name (and refuses a non-public answer): the names of these
    tests resolve to one public address, never through the network. Literal addresses, such
    as the receivers' 127.0.0.1, are not looked up."""
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["93.184.216.34"])


@pytest.fixture
def insecure(settings):
    """The receivers in these tests listen on http://127.0.0.1."""
    settings.WEBHOOK_ALLOW_INSECURE_URLS = True


class Receiver:
    """A real HTTP server in a thread that answers with scripted status codes (then 200)
    and records every request: what a licensing system's endpoint sees."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                code = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/pen-hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(statuses=()):
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for one in made:
        one.close()


def register(admin, url="https://licensing.example.org/pen", events=None, now=None):
    endpoint, secret = webhooks.register_endpoint(actor=admin, url=url, events=events, now=now or timezone.now())
    return endpoint, secret


def dispatch_all(now):
    for pk in OutboxMessage.objects.filter(dispatched_at__isnull=True).values_list("pk", flat=True):
        outbox.dispatch(pk, now=now)


def delivered_to(endpoint):
    return list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk").values_list("event", flat=True))


# --- registration ---------------------------------------------------------------------


def test_a_licensing_system_registers_an_endpoint_and_sees_the_secret_once(client, cast):
    token = bearer(token_for(client, cast.importer))
    response = client.post(
        HOOKS,
        {"url": "https://licensing.gh.example/pen", "events": ["notification.received"]},
        content_type="application/json",
        headers=token,
    )

    assert response.status_code == 201, response.content
    created = response.json()
    endpoint = WebhookEndpoint.objects.get()
    assert created["secret"] == endpoint.secret and created["secret"].startswith("whsec_")
    assert (endpoint.authority, endpoint.events, endpoint.active) == (cast.importer, ["notification.received"], True)
    listed = client.get(HOOKS, headers=token).json()
    assert [row["id"] for row in listed] == [endpoint.pk]
    assert "secret" not in listed[0]
    assert "secret" not in client.get(f"{HOOKS}{endpoint.pk}/", headers=token).json()
    # Every event when none are named.
    everything = client.post(
        HOOKS, {"url": "https://licensing.gh.example/all"}, content_type="application/json", headers=token
    ).json()
    # The notifications' events and the incidents' (issue 11), in the documented order.
    assert everything["events"] == list(WebhookEvent.values) and "incident.reported" in everything["events"]


@pytest.mark.parametrize(
    "url",
    [
        "http://licensing.example.org/pen",
        "https://127.0.0.1/pen",
        "https://10.1.2.3/pen",
        "https://localhost/pen",
        "https://user:password@licensing.example.org/pen",
        "ftp://licensing.example.org/pen",
        "not a url",
    ],
)
def test_only_https_addresses_on_public_hosts_are_accepted(client, cast, url):
    token = bearer(token_for(client, cast.importer))
    response = client.post(HOOKS, {"url": url}, content_type="application/json", headers=token)
    assert response.status_code == 400 and "url" in response.json()
    assert not WebhookEndpoint.objects.exists()


def test_unknown_events_are_400(client, cast):
    token = bearer(token_for(client, cast.importer))
    response = client.post(
        HOOKS,
        {"url": "https://licensing.example.org/pen", "events": ["notification.exploded"]},
        content_type="application/json",
        headers=token,
    )
    assert response.status_code == 400 and "events.0" in response.json()


def test_endpoints_are_managed_by_their_own_authority_only(client, cast):
    endpoint, _secret = register(cast.importer_admin)
    outsider = bearer(token_for(client, cast.outsider))
    reader = bearer(token_for(client, cast.importer, scopes=["notifications:read"]))
    incb = bearer(token_for(client, cast.incb))

    hidden = client.get(f"{HOOKS}{endpoint.pk}/", headers=outsider)
    missing = client.get(f"{HOOKS}999999/", headers=outsider)
    assert (hidden.status_code, hidden.content) == (404, missing.content)
    assert client.delete(f"{HOOKS}{endpoint.pk}/", headers=outsider).status_code == 404
    # The API takes JSON only (a form-encoded body is a 415 wherever it is sent).
    assert client.post(f"{HOOKS}{endpoint.pk}/disable/", {}, "application/json", headers=outsider).status_code == 404
    assert client.get(HOOKS, headers=outsider).json() == []
    assert client.get(HOOKS, headers=reader).status_code == 403
    assert client.get(HOOKS, headers=incb).status_code == 403
    officer = Client()
    officer.force_login(cast.importer_officer)
    assert officer.get(HOOKS).status_code == 403
    admin = Client()
    admin.force_login(cast.importer_admin)
    assert [row["id"] for row in admin.get(HOOKS).json()] == [endpoint.pk]
    endpoint.refresh_from_db()
    assert endpoint.active

    assert admin.delete(f"{HOOKS}{endpoint.pk}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


# --- who is told of what --------------------------------------------------------------


def test_deliveries_go_only_to_the_endpoints_of_the_authority_the_event_concerns(cast):
    now = timezone.now()
    exporter, _ = register(cast.exporter_admin, "https://de.example/hook")
    importer, _ = register(cast.importer_admin, "https://gh.example/hook")
    transit, _ = register(make_user("transit_admin", cast.transit, Role.ADMINISTRATOR), "https://nl.example/hook")
    outsider, _ = register(cast.outsider_admin, "https://fr.example/hook")

    notification = file(cast, now=now - timedelta(days=17))  # due two days ago
    dispatch_all(now)
    services.acknowledge(actor=cast.importer_officer, notification=notification, now=now)
    dispatch_all(now)
    sweep.sweep(now=now)  # overdue: both sides are told
    dispatch_all(now)
    services.withdraw(actor=cast.exporter_officer, notification=notification, reason="Cancelled", now=now)
    dispatch_all(now)

    assert delivered_to(importer) == ["notification.received", "notification.overdue", "notification.withdrawn"]
    assert delivered_to(exporter) == ["notification.acknowledged", "notification.overdue"]
    assert delivered_to(transit) == delivered_to(outsider) == []
    assert WebhookDelivery.objects.count() == 5


def test_an_endpoint_receives_only_the_events_it_subscribed_to(cast):
    now = timezone.now()
    replies_only, _ = register(cast.exporter_admin, events=["notification.replied"])
    notification = file(cast, now=now)
    services.acknowledge(actor=cast.importer_officer, notification=notification, now=now)
    services.respond(actor=cast.importer_officer, notification=notification, decision="no_objection", now=now)
    dispatch_all(now)

    assert delivered_to(replies_only) == ["notification.replied"]


def test_a_message_dispatched_twice_owes_each_endpoint_one_delivery(cast):
    now = timezone.now()
    endpoint, _ = register(cast.importer_admin)
    file(cast, now=now)
    message = OutboxMessage.objects.get(topic="notification.received")

    assert webhooks.deliver_for(message, now=now) == 1
    assert webhooks.deliver_for(message, now=now) == 0
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 1


def test_a_disabled_endpoint_gets_nothing(cast):
    now = timezone.now()
    endpoint, _ = register(cast.importer_admin)
    webhooks.disable_endpoint(actor=cast.importer_admin, endpoint=endpoint, now=now)
    file(cast, now=now)
    dispatch_all(now)
    assert delivered_to(endpoint) == []


# --- delivery -------------------------------------------------------------------------


@pytest.mark.usefixtures("insecure")
def test_a_real_receiver_that_fails_twice_gets_the_signed_event_on_the_third_attempt(cast, receiver):
    hook = receiver(statuses=[500, 503])
    endpoint, secret = register(cast.importer_admin, hook.url)
    now = timezone.now()
    notification = file(cast, now=now)
    dispatch_all(now)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)

    assert webhooks.attempt(delivery.pk, now=now) == DeliveryStatus.PENDING
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == now + timedelta(minutes=1)
    assert webhooks.attempt(delivery.pk, now=now + timedelta(seconds=30)) is None  # not due yet
    assert webhooks.attempt(delivery.pk, now=now + timedelta(minutes=1)) == DeliveryStatus.PENDING
    delivery.refresh_from_db()
    assert delivery.next_attempt_at == now + timedelta(minutes=3)
    assert webhooks.attempt(delivery.pk, now=now + timedelta(minutes=3)) == DeliveryStatus.DELIVERED

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)
    assert delivery.delivered_at == now + timedelta(minutes=3) and delivery.next_attempt_at is None
    assert [entry["status_code"] for entry in delivery.history] == [500, 503, 200]
    assert len(hook.requests) == 3
    headers, body = hook.requests[-1]
    # The documented recipe, as a receiver writes it.
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, headers["X-PEN-Signature"])
    assert not hmac.compare_digest(
        "sha256=" + hmac.new(b"another secret", body, hashlib.sha256).hexdigest(), headers["X-PEN-Signature"]
    )
    assert headers["X-PEN-Event"] == "notification.received"
    payload = json.loads(body)
    assert set(payload) == {"id", "event", "reference", "occurred_at", "url"}
    assert payload["reference"] == notification.reference
    assert payload["url"].endswith(f"/api/v1/notifications/{notification.reference}/")
    # The same event each time (the receiver de-duplicates by id).
    assert {request_body for _headers, request_body in hook.requests} == {body}
    # No content of the notification travels in a webhook.
    for secret_content in ("Chemie Export", "Accra Pharma", "ephedrine", "250", "cough", "Hamburg", "Tema"):
        assert secret_content.lower() not in body.decode().lower()
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.active


def test_a_receiver_that_never_succeeds_is_retried_with_growing_delays_for_24_hours_then_disabled(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    monkeypatch.setattr(webhooks, "_post", lambda url, body, headers: calls.append(body) or (503, "HTTP 503"))
    endpoint, _ = register(cast.importer_admin)
    start = timezone.now()
    file(cast, now=start)
    dispatch_all(start)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    mail.outbox.clear()

    at, instants = start, []
    while True:
        with django_capture_on_commit_callbacks(execute=True):  # the e-mail leaves after commit
            result = webhooks.attempt(delivery.pk, now=at)
        instants.append(at)
        delivery.refresh_from_db()
        if result != DeliveryStatus.PENDING:
            break
        assert delivery.next_attempt_at > at
        at = delivery.next_attempt_at

    delays = [b - a for a, b in zip(instants, instants[1:], strict=False)]
    minutes = [int(d.total_seconds() // 60) for d in delays]
    assert minutes[:8] == [1, 2, 4, 8, 16, 32, 64, 120]
    assert all(later >= earlier for earlier, later in zip(delays, delays[1:], strict=False))
    assert max(delays) == timedelta(hours=2)
    assert instants[-1] - start >= timedelta(hours=24)
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == len(calls) == len(instants)
    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_at == instants[-1]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [cast.importer.email]
    assert endpoint.url in mail.outbox[0].body


def test_a_run_of_consecutive_failures_disables_the_endpoint_and_mails_once(
    cast, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    settings.WEBHOOK_DISABLE_AFTER_FAILING_FOR = timedelta(0)
    answers = [500, 200, 500, 500, 500, 500]
    monkeypatch.setattr(webhooks, "_post", lambda url, body, headers: (answers.pop(0), "boom"))
    endpoint, _ = register(cast.importer_admin)
    now = timezone.now()
    for _ in range(4):
        file(cast, now=now)
    dispatch_all(now)
    deliveries = list(WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk"))
    mail.outbox.clear()

    assert webhooks.attempt(deliveries[0].pk, now=now) == DeliveryStatus.PENDING
    assert webhooks.attempt(deliveries[1].pk, now=now) == DeliveryStatus.DELIVERED  # a success resets the run
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0
    assert webhooks.attempt(deliveries[2].pk, now=now) == DeliveryStatus.PENDING
    assert webhooks.attempt(deliveries[3].pk, now=now) == DeliveryStatus.PENDING
    with django_capture_on_commit_callbacks(execute=True):  # the e-mail leaves after commit
        assert webhooks.attempt(deliveries[0].pk, now=now + timedelta(minutes=1)) == DeliveryStatus.FAILED

    endpoint.refresh_from_db()
    assert (endpoint.active, endpoint.consecutive_failures) == (False, 3)
    assert len(mail.outbox) == 1 and "disabled" in mail.outbox[0].subject
    # Everything still pending for it is stopped, and new events create nothing.
    assert set(WebhookDelivery.objects.filter(endpoint=endpoint).values_list("status", flat=True)) == {
        "failed",
        "delivered",
    }
    assert webhooks.attempt(deliveries[2].pk, now=now + timedelta(hours=1)) is None
    file(cast, now=now)
    dispatch_all(now)
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 4
    assert [message.subject for message in mail.outbox if "webhook" in message.subject.lower()] == [
        mail.outbox[0].subject
    ]


def test_enabling_again_resets_the_run_and_resumes_recent_deliveries(client, cast, settings, monkeypatch):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 1
    settings.WEBHOOK_DISABLE_AFTER_FAILING_FOR = timedelta(0)
    monkeypatch.setattr(webhooks, "_post", lambda url, body, headers: (500, "HTTP 500"))
    endpoint, _ = register(cast.importer_admin)
    now = timezone.now()
    file(cast, now=now)
    dispatch_all(now)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    webhooks.attempt(delivery.pk, now=now)
    endpoint.refresh_from_db()
    assert not endpoint.active

    admin = Client()
    admin.force_login(cast.importer_admin)
    response = admin.post(f"{HOOKS}{endpoint.pk}/enable/", content_type="application/json")

    assert response.status_code == 200 and response.json()["active"] is True
    endpoint.refresh_from_db()
    delivery.refresh_from_db()
    assert (endpoint.active, endpoint.consecutive_failures, endpoint.disabled_at) == (True, 0, None)
    assert delivery.status == DeliveryStatus.PENDING and delivery.next_attempt_at is not None


def test_the_periodic_task_enqueues_only_due_deliveries(cast, broker):
    now = timezone.now()
    endpoint, _ = register(cast.importer_admin)
    file(cast, now=now)
    file(cast, now=now)
    dispatch_all(now)
    due, later = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("pk")
    WebhookDelivery.objects.filter(pk=later.pk).update(next_attempt_at=now + timedelta(minutes=10))
    broker.clear()

    assert webhooks.enqueue_due(now=now) == 1
    assert broker == [("messaging.deliver_webhook", (due.pk,))]


def test_a_delivery_held_by_another_worker_is_not_sent_twice(cast, monkeypatch):
    calls = []
    monkeypatch.setattr(webhooks, "_post", lambda url, body, headers: calls.append(url) or (200, ""))
    now = timezone.now()
    endpoint, _ = register(cast.importer_admin)
    file(cast, now=now)
    dispatch_all(now)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(lease_until=now + timedelta(minutes=1))

    assert webhooks.attempt(delivery.pk, now=now) is None
    assert webhooks.attempt(delivery.pk, now=now + timedelta(minutes=2)) == DeliveryStatus.DELIVERED
    assert webhooks.attempt(delivery.pk, now=now + timedelta(minutes=3)) is None
    assert len(calls) == 1


def test_retry_delays_double_from_one_minute_up_to_two_hours():
    assert [webhooks.retry_delay(n) for n in (1, 2, 3, 7, 8, 9, 50)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=64),
        timedelta(hours=2),
        timedelta(hours=2),
        timedelta(hours=2),
    ]


# --- the web page ---------------------------------------------------------------------


def test_an_administrator_registers_an_endpoint_on_the_page_and_sees_the_secret_once(cast):
    admin = Client()
    admin.force_login(cast.importer_admin)
    assert admin.get("/webhooks/").status_code == 200

    response = admin.post(
        "/webhooks/",
        {"url": "https://licensing.gh.example/pen", "events": ["notification.received", "notification.overdue"]},
    )

    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/webhooks/{endpoint.pk}/"
    assert endpoint.events == ["notification.received", "notification.overdue"]
    first = admin.get(response["Location"])
    assert endpoint.secret in first.content.decode()
    again = admin.get(response["Location"])
    assert again.status_code == 200 and endpoint.secret not in again.content.decode()

    refused = admin.post("/webhooks/", {"url": "http://licensing.gh.example/pen", "events": ["notification.received"]})
    assert refused.status_code == 200 and "HTTPS" in refused.content.decode()
    assert WebhookEndpoint.objects.count() == 1

    assert admin.post(f"/webhooks/{endpoint.pk}/disable/").status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert admin.post(f"/webhooks/{endpoint.pk}/enable/").status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.active
    assert admin.post(f"/webhooks/{endpoint.pk}/delete/").status_code == 302
    assert not WebhookEndpoint.objects.exists()


def test_the_page_is_for_administrators_of_the_authority_only(cast):
    endpoint, _ = register(cast.importer_admin)
    officer = Client()
    officer.force_login(cast.importer_officer)
    assert officer.get("/webhooks/").status_code == 403
    other_admin = Client()
    other_admin.force_login(cast.outsider_admin)
    assert other_admin.get("/webhooks/").status_code == 200
    assert other_admin.get(f"/webhooks/{endpoint.pk}/").status_code == 404
    assert other_admin.post(f"/webhooks/{endpoint.pk}/delete/").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    assert Client().get("/webhooks/").status_code == 302  # to the login page


def test_the_delivery_log_is_shown_to_the_administrator(cast, monkeypatch):
    monkeypatch.setattr(webhooks, "_post", lambda url, body, headers: (502, "HTTP 502"))
    endpoint, _ = register(cast.importer_admin)
    now = timezone.now()
    notification = file(cast, now=now)
    dispatch_all(now)
    webhooks.attempt(WebhookDelivery.objects.get().pk, now=now)
    admin = Client()
    admin.force_login(cast.importer_admin)

    page = admin.get(f"/webhooks/{endpoint.pk}/").content.decode()

    assert notification.reference in page and "HTTP 502" in page and "notification.received" in page
    api = admin.get(f"{HOOKS}{endpoint.pk}/deliveries/").json()
    assert api["results"][0]["attempts"] == 1 and api["results"][0]["last_status_code"] == 502


# --- through a real Celery worker -----------------------------------------------------


def wait_for(condition, timeout=30.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("insecure")
def test_a_real_worker_delivers_after_commit_and_the_periodic_task_drives_the_retry(cast, receiver, settings):
    """Not eager mode: the outbox task, the delivery task it enqueues after commit, and the
    retry enqueued by the periodic task from the database, all on a real worker."""
    from celery.contrib.testing.worker import start_worker

    from messaging.tasks import retry_webhook_deliveries
    from pen_portal.celery import app

    settings.WEBHOOK_RETRY_BASE = timedelta(seconds=1)
    hook = receiver(statuses=[500])
    endpoint, secret = register(cast.importer_admin, hook.url)
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        notification = file(cast, now=timezone.now())
        assert wait_for(lambda: WebhookDelivery.objects.filter(endpoint=endpoint, attempts=1).exists())
        delivery = WebhookDelivery.objects.get(endpoint=endpoint)
        assert (delivery.status, delivery.last_status_code) == (DeliveryStatus.PENDING, 500)

        assert wait_for(lambda: WebhookDelivery.objects.get(pk=delivery.pk).next_attempt_at <= timezone.now())
        retry_webhook_deliveries.delay()
        assert wait_for(lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.DELIVERED)

    delivery.refresh_from_db()
    assert delivery.attempts == 2 and len(hook.requests) == 2
    headers, body = hook.requests[-1]
    assert webhooks.verify(secret, body, headers["X-PEN-Signature"])
    assert json.loads(body)["reference"] == notification.reference


@pytest.mark.usefixtures("insecure")
def test_a_captured_delivery_cannot_be_replayed_later(cast, receiver):
    """The timed signature (issue 19): the timestamp is inside the MAC, so a receiver that
    follows the documented recipe refuses the same bytes replayed after the tolerance, and a
    timestamp changed to look fresh no longer matches."""
    hook = receiver(statuses=[])
    endpoint, secret = register(cast.importer_admin, hook.url)
    now = timezone.now()
    file(cast, now=now)
    dispatch_all(now)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert webhooks.attempt(delivery.pk, now=now) == DeliveryStatus.DELIVERED
    headers, body = hook.requests[-1]
    timed = headers["X-PEN-Timed-Signature"]
    stamp = int(now.timestamp())
    assert timed.startswith(f"t={stamp},v1=")

    # The receiver's recipe, written from the documentation (README.md), not from the code.
    def accepted(header, at):
        parts = dict(part.split("=", 1) for part in header.split(","))
        if abs(at.timestamp() - int(parts["t"])) > 300:
            return False
        mac = hmac.new(secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(mac, parts["v1"])

    assert accepted(timed, now + timedelta(seconds=30))
    assert not accepted(timed, now + timedelta(minutes=6))  # replayed later
    fresh = f"t={stamp + 360},v1={timed.split('v1=')[1]}"
    assert not accepted(fresh, now + timedelta(minutes=6))  # a forged fresh timestamp
    # The portal's own helper agrees with the recipe.
    assert webhooks.verify_timed(secret, body, timed, now=now + timedelta(seconds=30))
    assert not webhooks.verify_timed(secret, body, timed, now=now + timedelta(minutes=6))
    assert not webhooks.verify_timed("another secret", body, timed, now=now)
    assert not webhooks.verify_timed(secret, body, "garbage", now=now)
    # The body-only signature stays for first-release receivers.
    assert webhooks.verify(secret, body, headers["X-PEN-Signature"])
