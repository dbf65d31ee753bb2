"""Idempotency-Key on every POST: the same key and body replay the first response and
create nothing; another body is 422; a request still in progress is 409; under real
concurrency on PostgreSQL, exactly one notification is made."""

import json
import threading
from datetime import timedelta

import pgtrigger
import pytest
import requests
from django.utils import timezone

from api import idempotency
from api.models import IdempotencyRecord, IdempotencyStatus
from notifications import timeline
from notifications.models import Notification, Response
from tests.api_helpers import bearer, broker_fixture, notification_body, token_for  # noqa: F401 - a fixture
from tests.factories import file

LIST = "/api/v1/notifications/"


def post(client, path, body, headers):
    return client.post(path, body, content_type="application/json", headers=headers)


@pytest.fixture
def exporter(client, cast):
    return bearer(token_for(client, cast.exporter))


def same_body(**overrides):
    """One body, byte for byte, however often it is built (the factories number each
    filing's national reference afresh: tests/factories.py)."""
    return notification_body(national_reference="EXP-2026-0042", **overrides)


@pytest.mark.django_db
def test_the_same_key_and_body_replay_the_first_response_and_create_nothing(client, cast, exporter):
    headers = {**exporter, "Idempotency-Key": "file-0042"}
    first = post(client, LIST, same_body(), headers)
    # Key order and whitespace do not make another body.
    reordered = '{"draft": false, ' + json.dumps(same_body(), indent=2)[1:]
    again = client.post(LIST, reordered, content_type="application/json", headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["ETag"] == first["ETag"] and again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert Notification.objects.count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.status, record.response_status, record.key) == (IdempotencyStatus.DONE, 201, "file-0042")


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_422_and_creates_nothing(client, cast, exporter):
    headers = {**exporter, "Idempotency-Key": "file-0042"}
    assert post(client, LIST, same_body(), headers).status_code == 201

    response = post(client, LIST, same_body(end_use="Something else"), headers)

    assert response.status_code == 422
    assert "detail" in response.json()
    assert Notification.objects.count() == 1
    # The same key on another path is another request too.
    reference = Notification.objects.get().reference
    assert post(client, f"{LIST}{reference}/withdraw/", {"reason": "x"}, headers).status_code == 422


@pytest.mark.django_db
def test_a_key_still_in_progress_is_409(client, cast, exporter):
    headers = {**exporter, "Idempotency-Key": "busy"}
    assert post(client, LIST, same_body(), headers).status_code == 201
    # As if the first request were still running (its lease not yet run out).
    IdempotencyRecord.objects.update(
        status=IdempotencyStatus.IN_PROGRESS, locked_until=timezone.now() + timedelta(minutes=5)
    )

    response = post(client, LIST, same_body(), headers)

    assert response.status_code == 409
    assert Notification.objects.count() == 1


@pytest.mark.django_db
def test_a_key_whose_request_died_is_taken_over_once_its_lease_ran_out(client, cast, exporter):
    headers = {**exporter, "Idempotency-Key": "crashed"}
    assert post(client, LIST, same_body(), headers).status_code == 201
    # As if the work had been rolled back by the crash (the timeline refuses deletes).
    with pgtrigger.ignore(timeline.NO_DELETE):
        Notification.objects.all().delete()
    IdempotencyRecord.objects.update(
        status=IdempotencyStatus.IN_PROGRESS, response_status=None, locked_until=timezone.now() - timedelta(seconds=1)
    )

    response = post(client, LIST, same_body(), headers)

    assert response.status_code == 201
    assert Notification.objects.count() == 1
    assert IdempotencyRecord.objects.get().status == IdempotencyStatus.DONE


@pytest.mark.django_db
def test_keys_belong_to_one_client(client, cast, exporter):
    other = bearer(token_for(client, cast.exporter, name="Second system"))
    assert post(client, LIST, notification_body(), {**exporter, "Idempotency-Key": "k"}).status_code == 201
    assert post(client, LIST, notification_body(), {**other, "Idempotency-Key": "k"}).status_code == 201
    assert Notification.objects.count() == 2


@pytest.mark.django_db
def test_an_action_retried_with_its_key_replays_instead_of_409(client, cast):
    importer = bearer(token_for(client, cast.importer))
    notification = file(cast, now=timezone.now())
    path = f"{LIST}{notification.reference}/respond/"
    headers = {**importer, "Idempotency-Key": "reply-1"}

    first = post(client, path, {"decision": "no_objection"}, headers)
    again = post(client, path, {"decision": "no_objection"}, headers)
    fresh = post(client, path, {"decision": "no_objection"}, {**importer, "Idempotency-Key": "reply-2"})

    assert (first.status_code, again.status_code, fresh.status_code) == (200, 200, 409)
    assert again.json() == first.json()
    assert Response.objects.filter(notification=notification).count() == 1


@pytest.mark.django_db
def test_a_bad_key_is_400(client, cast, exporter):
    response = post(client, LIST, notification_body(), {**exporter, "Idempotency-Key": "x" * 256})
    assert response.status_code == 400 and "Idempotency-Key" in response.json()
    assert Notification.objects.count() == 0


@pytest.mark.django_db
def test_a_server_error_releases_the_key_so_the_retry_is_done(client, cast, exporter, monkeypatch):
    from notifications import services

    real = services.file_notification

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "file_notification", broken)
    client.raise_request_exception = False
    headers = {**exporter, "Idempotency-Key": "flaky"}
    assert post(client, LIST, notification_body(), headers).status_code == 500
    assert not IdempotencyRecord.objects.exists()

    monkeypatch.setattr(services, "file_notification", real)
    assert post(client, LIST, notification_body(), headers).status_code == 201
    assert Notification.objects.count() == 1


@pytest.mark.django_db
def test_records_are_kept_24_hours_then_purged(cast):
    now = timezone.now()
    user = cast.exporter_officer
    for key, age in (("old", timedelta(hours=25)), ("young", timedelta(hours=23))):
        IdempotencyRecord.objects.create(
            user=user, key=key, request_hash="0" * 64, method="POST", path=LIST, created_at=now - age
        )

    assert idempotency.purge(now=now) == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["young"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("broker")
def test_ten_concurrent_posts_with_one_key_make_one_notification(live_server, cast, client):
    """Real HTTP, a threaded server, one connection per request: the unique constraint on
    the key decides; the others get the same notification (a replay) or 409."""
    token = token_for(client, cast.exporter)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "race-1"}
    body = notification_body()
    barrier = threading.Barrier(10)
    outcomes = []

    def go():
        barrier.wait()
        response = requests.post(f"{live_server.url}{LIST}", json=body, headers=headers, timeout=30)
        outcomes.append((response.status_code, response.json()))

    threads = [threading.Thread(target=go) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Notification.objects.count() == 1
    reference = Notification.objects.get().reference
    assert len(outcomes) == 10
    assert {code for code, _body in outcomes} <= {201, 409}
    assert [body["reference"] for code, body in outcomes if code == 201] == [reference] * sum(
        1 for code, _body in outcomes if code == 201
    )
    assert any(code == 201 for code, _body in outcomes)
    # After the race, a retry replays the one notification.
    retry = requests.post(f"{live_server.url}{LIST}", json=body, headers=headers, timeout=30)
    assert (retry.status_code, retry.json()["reference"]) == (201, reference)
    assert Notification.objects.count() == 1
