"""Voluntary notifications and the special surveillance list end to end through the live
server (issue 12's acceptance line: the contract's names and codes over real HTTP, with
OAuth client-credentials tokens, as a licensing system and INCB's own client see them)."""

import uuid

import pytest

from notifications.models import Notification
from tests.api_helpers import live_client, notification_body

pytestmark = [pytest.mark.django_db(transaction=True)]

SUSPICION = "A first-time buyer pays cash for two tonnes and asks for unmarked drums."


def _client(live_server, authority, scopes=None):
    return live_client(live_server, authority, scopes)


def _voluntary(**overrides) -> dict:
    body = notification_body()
    body.update(
        kind="voluntary",
        suspicion=SUSPICION,
        end_use="",
        items=[
            {
                "substance": None,
                "chemical_name": "Isosafrole",
                "cas_number": "120-58-1",
                "quantity": "2000",
                "unit": "kg",
            }
        ],
    )
    body.update(overrides)
    return body


def _post(http, path, body):
    return http.post(path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})


def test_voluntary_notifications_and_the_surveillance_list_through_the_live_server(live_server, cast):
    exporter = _client(live_server, cast.exporter)
    importer = _client(live_server, cast.importer)
    incb = _client(live_server, cast.incb)

    # A chemical on no list, without a deadline: 201, kind and suspicion as sent, no reply_due.
    created = _post(exporter, "/api/v1/notifications/", _voluntary())
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["kind"], body["suspicion"], body["reply_due"], body["overdue"]) == (
        "voluntary",
        SUSPICION,
        None,
        False,
    )
    assert (body["items"][0]["substance"], body["items"][0]["cas_number"]) == (None, "120-58-1")
    listed = importer.get("/api/v1/notifications/", params={"kind": "voluntary", "role": "importing"})
    assert [row["reference"] for row in listed.json()["results"]] == [body["reference"]]
    assert listed.json()["results"][0]["kind"] == "voluntary"

    # The importing authority answers it with the same actions.
    replied = importer.post(
        f"/api/v1/notifications/{body['reference']}/respond/",
        json={"decision": "no_objection"},
        headers={"If-Match": created.headers["ETag"]},
    )
    assert replied.status_code == 200, replied.text
    assert replied.json()["status"] == "no_objection"

    # Bad input: the field named, nothing stored.
    before = Notification.objects.count()
    for overrides, field in (
        ({"items": [{"substance": "ephedrine", "quantity": "5", "unit": "kg"}]}, "items.0.substance"),
        ({"suspicion": ""}, "suspicion"),
        (
            {
                "items": [
                    {"substance": None, "chemical_name": "X", "cas_number": "120-58-2", "quantity": "5", "unit": "kg"}
                ]
            },
            "items.0.cas_number",
        ),
    ):
        refused = _post(exporter, "/api/v1/notifications/", _voluntary(**overrides))
        assert refused.status_code == 400 and field in refused.json(), refused.text
    assert Notification.objects.count() == before

    # INCB adds an entry to the special surveillance list; national clients read it.
    added = _post(incb, "/api/v1/substances/", {"name": "Benzyl cyanide", "cas_number": "140-29-4"})
    assert added.status_code == 201, added.text
    entry = added.json()
    assert (entry["schedule"], entry["active"], entry["cas_number"]) == ("special_surveillance", True, "140-29-4")
    assert _post(exporter, "/api/v1/substances/", {"name": "Something"}).status_code == 403
    bad = _post(incb, "/api/v1/substances/", {"name": "Other", "cas_number": "140-29-5"})
    assert bad.status_code == 400 and "cas_number" in bad.json()
    listed = exporter.get("/api/v1/substances/", params={"schedule": "special_surveillance"})
    assert entry["code"] in {row["code"] for row in listed.json()["results"]}

    # A voluntary notification of the new entry, then INCB retires it: kept, not accepted any more.
    of_entry = _voluntary(items=[{"substance": entry["code"], "quantity": "50", "unit": "kg"}])
    assert _post(exporter, "/api/v1/notifications/", of_entry).status_code == 201
    retired = incb.patch(f"/api/v1/substances/{entry['code']}/", json={"active": False, "reason": "Now in Table I."})
    assert retired.status_code == 200 and retired.json()["active"] is False
    refused = _post(exporter, "/api/v1/notifications/", of_entry)
    assert refused.status_code == 400 and "retired" in refused.json()["items.0.substance"][0]
    still = exporter.get(f"/api/v1/substances/{entry['code']}/")
    assert still.status_code == 200 and still.json()["active"] is False
