"""Incidents end to end through the live server (issue 11's acceptance line): the contract's
paths, fields, visibility and status codes over real HTTP with OAuth client-credentials
tokens, as a licensing system sees them, and the incident pages in a browser.

The fixed cast: DE exports to GH through NL; FR is an outsider, BE the one shared with."""

import base64
import re
import uuid
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from accounts.services import create_api_client
from incidents.models import Incident
from tests.browser import login, screenshot
from tests.conftest import PASSWORD
from tests.factories import file

pytestmark = [pytest.mark.django_db(transaction=True)]

REFERENCE = re.compile(r"^INC-\d{4}-\d{6}$")
MISSING = "INC-2026-999999"
FIVE_LITRES = {"quantity": "5", "unit": "l"}


def _client(live_server, authority, scopes=None) -> httpx.Client:
    """An HTTP client holding a bearer token from POST /oauth/token/ (HTTP Basic)."""
    _app, client_id, secret = create_api_client(authority=authority, name=f"Live {uuid.uuid4().hex[:6]}", scopes=scopes)
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    answer = httpx.post(
        f"{live_server.url}/oauth/token/",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    return httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _body(**overrides) -> dict:
    """The contract's body (the "Incidents" section), valid for the Dutch reporter."""
    values = {
        "kind": "seizure",
        "occurred_on": (timezone.now().date() - timedelta(days=2)).isoformat(),
        "country": "NL",
        "description": "120 kg of ephedrine found in drums declared as sodium chloride.",
        "modus_operandi": "Mis-declared goods, transhipped in Rotterdam.",
        "substances": [
            {"substance": "ephedrine", "quantity": "120.000", "unit": "kg"},
            {"substance": None, "chemical_name": "Safrole", "cas_number": "94-59-7", "quantity": "5", "unit": "l"},
        ],
        "parties": [{"role": "importer", "name": "ACCRA-PHARMA LIMITED", "address": "Accra", "country": "GH"}],
        "route": ["DE", "NL"],
        "visibility": "concerned",
        "shared_with": ["BE"],
    }
    values.update(overrides)
    return values


def _report(http, **overrides) -> dict:
    answer = http.post("/api/v1/incidents/", json=_body(**overrides), headers={"Idempotency-Key": uuid.uuid4().hex})
    assert answer.status_code == 201, answer.text
    return answer.json()


def _listed(http, reference) -> bool:
    answer = http.get("/api/v1/incidents/", params={"page_size": 200})
    assert answer.status_code == 200, answer.text
    return reference in {row["reference"] for row in answer.json()["results"]}


def test_a_report_is_201_with_a_reference_and_the_same_key_replays(live_server, cast):
    transit = _client(live_server, cast.transit)
    key = {"Idempotency-Key": "live-report-1"}

    first = transit.post("/api/v1/incidents/", json=_body(), headers=key)

    assert first.status_code == 201, first.text
    data = first.json()
    assert REFERENCE.match(data["reference"]), data["reference"]
    assert first.headers["Location"].endswith(f"/api/v1/incidents/{data['reference']}/")
    assert first.headers["ETag"]
    assert data["country"] == "NL" and data["authority"] == cast.transit.name
    assert data["route"] == ["DE", "NL"] and data["shared_with"] == ["BE"] and data["visibility"] == "concerned"
    assert [p["name"] for p in data["parties"]] == ["ACCRA-PHARMA LIMITED"]
    assert [e["kind"] for e in data["history"]] == ["reported"]
    assert transit.get(first.headers["Location"]).status_code == 200

    again = transit.post("/api/v1/incidents/", json=_body(), headers=key)

    assert again.status_code == 201, again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["reference"] == data["reference"]
    assert Incident.objects.count() == 1


def test_a_concerned_incident_is_seen_by_the_concerned_and_incb_and_hidden_alike(live_server, cast):
    transit = _client(live_server, cast.transit)
    reference = _report(transit)["reference"]
    url = f"/api/v1/incidents/{reference}/"
    outsider = _client(live_server, cast.outsider)

    for authority in (cast.exporter, cast.shared, cast.incb):  # the route's, shared with, INCB
        reader = _client(live_server, authority)
        answer = reader.get(url)
        assert answer.status_code == 200, (authority.code, answer.text)
        assert answer.json()["reference"] == reference
        assert _listed(reader, reference), authority.code
    assert _listed(transit, reference)

    hidden = outsider.get(url)
    missing = outsider.get(f"/api/v1/incidents/{MISSING}/")
    assert (hidden.status_code, missing.status_code) == (404, 404)
    assert hidden.content == missing.content and hidden.json() == {"detail": "Not found."}
    assert not _listed(outsider, reference)
    assert outsider.get(f"{url}matches/").content == missing.content

    # The importer is on no route and no related notification: it does not see it either.
    assert _client(live_server, cast.importer).get(url).status_code == 404

    for_all = _report(transit, visibility="all", shared_with=[])["reference"]
    assert outsider.get(f"/api/v1/incidents/{for_all}/").status_code == 200
    assert _listed(outsider, for_all)


def test_matches_list_the_visible_notifications_naming_a_party_however_spelled(live_server, cast):
    notification = file(cast, now=timezone.now())  # DE -> NL -> GH, importer "Accra Pharma Ltd"
    transit = _client(live_server, cast.transit)
    reference = _report(transit)["reference"]  # names "ACCRA-PHARMA LIMITED", shared with BE

    answer = _client(live_server, cast.exporter).get(f"/api/v1/incidents/{reference}/matches/")

    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert {"count", "next", "previous", "results"} <= set(page)
    rows = [row for row in page["results"] if row["notification"] == notification.reference]
    assert len(rows) == 1, page
    row = rows[0]
    assert row["reason"] == "party" and row["party_role"] == "importer"
    assert row["matched_name"] == "Accra Pharma Ltd"
    assert isinstance(row["score"], float) and 0 <= row["score"] <= 1

    # BE sees the incident (shared with) but not the notification: it is not listed.
    shared = _client(live_server, cast.shared)
    assert shared.get(f"/api/v1/incidents/{reference}/").status_code == 200
    hidden = shared.get(f"/api/v1/incidents/{reference}/matches/")
    assert hidden.status_code == 200, hidden.text
    assert notification.reference not in {r["notification"] for r in hidden.json()["results"]}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"occurred_on": (timezone.now().date() + timedelta(days=1)).isoformat()}, "occurred_on"),
        ({"route": ["DE", "XX"]}, "route"),
        (
            {"substances": [{"substance": None, "chemical_name": "Safrole", "cas_number": "94-59-8", **FIVE_LITRES}]},
            "substances.0.cas_number",
        ),
        ({"parties": [{"role": "importer", "name": "  ", "country": "GH"}]}, "parties.0.name"),
    ],
    ids=["future-date", "unknown-country", "cas-check-digit", "party-without-name"],
)
def test_bad_input_is_400_naming_the_field_and_stores_nothing(live_server, cast, overrides, field):
    transit = _client(live_server, cast.transit)
    before = Incident.objects.count()

    answer = transit.post("/api/v1/incidents/", json=_body(**overrides), headers={"Idempotency-Key": uuid.uuid4().hex})

    assert answer.status_code == 400, answer.text
    errors = answer.json()
    assert set(errors) == {field}, errors
    assert len(errors[field]) == 1 and isinstance(errors[field][0], str), errors
    assert Incident.objects.count() == before == 0


def test_the_reporter_amends_with_if_match_others_may_not_and_nobody_deletes(live_server, cast):
    transit = _client(live_server, cast.transit)
    reference = _report(transit)["reference"]
    url = f"/api/v1/incidents/{reference}/"
    read = transit.get(url)
    etag = read.headers["ETag"]
    change = {"description": "120 kg of ephedrine; the drums were relabelled in Rotterdam."}

    assert transit.patch(url, json=change).status_code == 428

    amended = transit.patch(url, json=change, headers={"If-Match": etag})
    assert amended.status_code == 200, amended.text
    assert amended.json()["description"] == change["description"]
    assert amended.json()["version"] == read.json()["version"] + 1
    assert amended.headers["ETag"] != etag
    history = amended.json()["history"]
    assert [e["kind"] for e in history] == ["reported", "amended"]
    assert history[-1]["changes"]["description"][1] == change["description"]

    assert transit.patch(url, json={"description": "stale"}, headers={"If-Match": etag}).status_code == 412

    # docs/api.md: the reporting authority only; others who see it 403, who do not 404.
    fresh = transit.get(url).headers["ETag"]
    for authority, code in ((cast.shared, 403), (cast.exporter, 403), (cast.outsider, 404)):
        other = _client(live_server, authority)
        answer = other.patch(url, json={"description": "Not yours."}, headers={"If-Match": fresh})
        assert answer.status_code == code, (authority.code, answer.text)
    assert transit.get(url).json()["description"] == change["description"]

    deleted = transit.delete(url)
    assert deleted.status_code == 405, deleted.text
    assert Incident.objects.filter(reference=reference).exists()


def test_a_read_only_client_may_not_report(live_server, cast):
    reader = _client(live_server, cast.transit, scopes=["incidents:read"])

    answer = reader.post("/api/v1/incidents/", json=_body(), headers={"Idempotency-Key": uuid.uuid4().hex})

    assert answer.status_code == 403, answer.text
    assert reader.get("/api/v1/incidents/").status_code == 200
    assert Incident.objects.count() == 0


@pytest.mark.browser
def test_the_incident_reported_through_the_api_is_on_its_page_for_the_concerned_only(
    page, live_server, cast, monkeypatch, tmp_path
):
    # The helper's screenshots go to docs/screenshots/; this test's are evidence, not docs.
    monkeypatch.setattr("tests.browser.SCREENSHOTS", tmp_path)
    reference = _report(_client(live_server, cast.transit))["reference"]

    login(page, live_server, "transit_officer", PASSWORD)
    page.goto(f"{live_server.url}/incidents/")
    assert page.get_by_text(reference).first.is_visible()
    answer = page.goto(f"{live_server.url}/incidents/{reference}/")
    assert answer.status == 200
    assert page.get_by_text(reference).first.is_visible()
    assert page.get_by_text("ACCRA-PHARMA LIMITED").first.is_visible()
    screenshot(page, "incident-live-transit")

    page.context.clear_cookies()
    login(page, live_server, "out_officer", PASSWORD)
    answer = page.goto(f"{live_server.url}/incidents/{reference}/")
    assert answer.status == 404
    assert page.get_by_role("heading", name="Page not found").is_visible()
    assert page.get_by_text(reference).count() == 0
