"""A national licensing system plays the whole exchange over real HTTP (a live server and
`requests`), as the README tells integrators to: token, reference data, file, list, detail,
acknowledge, request information, answer, reply, withdraw, timeliness; and every refusal the contract
promises (401, 403, 404, 409, 412, 422, 400 with nothing stored)."""

from datetime import date, timedelta

import pytest
import requests

from accounts.services import create_api_client
from api.models import IdempotencyRecord
from notifications.models import Event, Item, Notification, Response
from tests.api_helpers import broker_fixture, notification_body  # noqa: F401 - a fixture

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("broker")]


class LicensingSystem:
    """What an integrator writes: a client id and secret, a token, JSON over HTTPS."""

    def __init__(self, base, authority, scopes=None):
        self.base = base
        _client, self.client_id, self.secret = create_api_client(
            authority=authority, name=f"{authority.code} licensing", scopes=scopes
        )
        response = requests.post(
            f"{base}/oauth/token/",
            data={"grant_type": "client_credentials"},
            auth=(self.client_id, self.secret),
            timeout=10,
        )
        assert response.status_code == 200, response.text
        token = response.json()
        assert token["token_type"] == "Bearer" and token["expires_in"] > 0
        self.headers = {"Authorization": f"Bearer {token['access_token']}"}

    def get(self, path, **params):
        return requests.get(f"{self.base}{path}", params=params, headers=self.headers, timeout=10)

    def post(self, path, body=None, **headers):
        headers = {key.replace("_", "-"): value for key, value in headers.items()}
        return requests.post(f"{self.base}{path}", json=body or {}, headers={**self.headers, **headers}, timeout=10)


def counts():
    return (
        Notification.objects.count(),
        Item.objects.count(),
        Response.objects.count(),
        Event.objects.count(),
    )


def test_a_licensing_system_files_and_the_importing_one_replies_over_http(live_server, cast):
    base = live_server.url
    exporter = LicensingSystem(base, cast.exporter)
    importer = LicensingSystem(base, cast.importer)
    transit = LicensingSystem(base, cast.transit)
    outsider = LicensingSystem(base, cast.outsider)

    # Reference data, as a system mirrors it before filing.
    substances = {row["code"] for row in exporter.get("/api/v1/substances/").json()["results"]}
    assert "ephedrine" in substances
    ghana = exporter.get("/api/v1/countries/GH/").json()
    assert ghana["reply_regime"] == "explicit_consent"

    # File, with an Idempotency-Key; the retry after a lost answer replays the first one.
    body = notification_body()  # built once: the retry sends the same bytes
    filed = exporter.post("/api/v1/notifications/", body, Idempotency_Key="exp-0042")
    assert filed.status_code == 201, filed.text
    reference = filed.json()["reference"]
    retried = exporter.post("/api/v1/notifications/", body, Idempotency_Key="exp-0042")
    assert (retried.status_code, retried.json()["reference"]) == (201, reference)
    assert Notification.objects.count() == 1
    detail_path = f"/api/v1/notifications/{reference}/"

    # The importing system polls: its list, filtered, and changes since its last poll.
    listed = importer.get("/api/v1/notifications/", role="importing", status="awaiting_reply").json()
    assert [row["reference"] for row in listed["results"]] == [reference]
    last_seen = listed["results"][0]["updated_at"]
    assert importer.get("/api/v1/notifications/", exporting_country="DE", overdue="false").json()["results"]
    assert importer.get("/api/v1/notifications/", role="exporting").json()["results"] == []

    detail = importer.get(detail_path)
    assert detail.status_code == 200
    etag = detail.headers["ETag"]
    assert detail.json()["items"][0]["quantity"] == "250.000"

    # Acknowledge, ask a question, get the answer, reply.
    acknowledged = importer.post(f"{detail_path}acknowledge/", If_Match=etag)
    assert acknowledged.status_code == 200, acknowledged.text
    assert acknowledged.headers["ETag"] != etag
    changed = importer.get("/api/v1/notifications/", updated_since=last_seen).json()["results"]
    assert [row["reference"] for row in changed] == [reference]

    asked = importer.post(
        f"{detail_path}respond/",
        {"decision": "information_requested", "comment": "Which products will be made?"},
        If_Match=acknowledged.headers["ETag"],
    )
    assert asked.status_code == 200 and asked.json()["status"] == "information_requested"

    answered = exporter.post(f"{detail_path}provide_information/", {"comment": "Cough syrup, 10,000 bottles."})
    assert answered.status_code == 200 and answered.json()["status"] == "awaiting_reply"

    # Negative cases while it is open.
    hidden = outsider.get(detail_path)
    missing = outsider.get("/api/v1/notifications/DE-2099-999999/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content
    refused = transit.post(f"{detail_path}respond/", {"decision": "objection", "comment": "No"})
    assert refused.status_code == 403
    stale = importer.post(f"{detail_path}respond/", {"decision": "no_objection"}, If_Match=etag)
    assert stale.status_code == 412

    replied = importer.post(f"{detail_path}respond/", {"decision": "no_objection"}, If_Match=answered.headers["ETag"])
    assert replied.status_code == 200 and replied.json()["status"] == "no_objection"
    again = importer.post(f"{detail_path}respond/", {"decision": "objection", "comment": "Second thoughts"})
    assert again.status_code == 409

    final = exporter.get(detail_path).json()
    assert final["status"] == "no_objection" and final["replied_at"]
    assert [r["kind"] for r in final["responses"]] == [
        "information_requested",
        "information_provided",
        "no_objection",
    ]
    kinds = [event["kind"] for event in final["events"]]
    assert kinds[:3] == ["created", "submitted", "acknowledged"] and kinds[-1] == "replied"

    # Another notification, withdrawn.
    second = exporter.post("/api/v1/notifications/", notification_body(national_reference="EXP-2026-0043"))
    assert second.status_code == 201
    withdrawn = exporter.post(
        f"/api/v1/notifications/{second.json()['reference']}/withdraw/", {"reason": "The order was cancelled."}
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert Notification.objects.get(reference=second.json()["reference"]).withdrawn_at is not None

    # Timeliness: the importing country's record as the exporter may see it (the countries
    # it notifies), over a period that includes these due dates. Ghana answered the first
    # notification on time; the withdrawn one, unanswered and withdrawn before its due
    # date, is not counted.
    today = date.today()
    timeliness = exporter.get(
        "/api/v1/timeliness/",
        **{"from": (today - timedelta(days=30)).isoformat(), "to": (today + timedelta(days=90)).isoformat()},
    )
    assert timeliness.status_code == 200, timeliness.text
    ghana = next(row for row in timeliness.json() if row["country"] == "GH")
    assert (ghana["received"], ghana["replied"], ghana["replied_on_time"], ghana["on_time_rate"]) == (1, 1, 1, 1.0)
    assert {row["country"] for row in timeliness.json()} <= {"DE", "GH"}


def test_the_refusals_the_contract_promises_over_http(live_server, cast):
    base = live_server.url
    exporter = LicensingSystem(base, cast.exporter)
    reader = LicensingSystem(base, cast.exporter, scopes=["notifications:read"])

    # Bad token: 401.
    bad = requests.get(f"{base}/api/v1/notifications/", headers={"Authorization": "Bearer forged"}, timeout=10)
    assert bad.status_code == 401
    assert requests.get(f"{base}/api/v1/notifications/", timeout=10).status_code == 401

    # A token without notifications:write: 403 on POST, nothing stored.
    before = counts()
    assert reader.post("/api/v1/notifications/", notification_body()).status_code == 403
    assert counts() == before

    # Invalid bodies: 400 with field errors, nothing stored.
    body = notification_body()
    body["items"][0]["quantity"] = "-5"
    body["importer"] = {"name": "", "address": ""}
    invalid = exporter.post("/api/v1/notifications/", body)
    assert invalid.status_code == 400
    assert {"items.0.quantity", "importer.name", "importer.address"} <= set(invalid.json())
    shape = exporter.post("/api/v1/notifications/", {"importing_country": "GH", "items": "many"})
    assert shape.status_code == 400 and {"items", "exporter", "shipment", "end_use"} <= set(shape.json())
    assert counts() == before

    # Same Idempotency-Key with another body: 422, nothing more stored.
    assert exporter.post("/api/v1/notifications/", notification_body(), Idempotency_Key="k-1").status_code == 201
    after_first = counts()
    reused = exporter.post("/api/v1/notifications/", notification_body(end_use="Something else"), Idempotency_Key="k-1")
    assert reused.status_code == 422
    assert counts() == after_first
    assert IdempotencyRecord.objects.count() == 1
