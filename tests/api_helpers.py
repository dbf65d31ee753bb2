"""Helpers for the REST API tests: licensing-system clients with tokens, a valid body,
and a stand-in for the broker (tests here call the background functions directly)."""

import base64
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import create_api_client
from tests.factories import next_national_reference


def token_for(http, authority, *, scopes=None, name="Licensing system") -> str:
    """A bearer token from POST /oauth/token/ (client credentials by HTTP Basic), as a
    licensing system gets one. ``http`` is Django's test Client."""
    _client, client_id, secret = create_api_client(authority=authority, name=name, scopes=scopes)
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = http.post(
        "/oauth/token/",
        {"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def live_client(live_server, authority, scopes=None):
    """An httpx client of the live server holding a bearer token from POST /oauth/token/
    (client credentials by HTTP Basic), as a licensing system holds one."""
    import httpx

    _app, client_id, secret = create_api_client(authority=authority, name=f"Live {uuid.uuid4().hex[:6]}", scopes=scopes)
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    answer = httpx.post(
        f"{live_server.url}/oauth/token/",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert answer.status_code == 200, answer.text
    return httpx.Client(
        base_url=live_server.url, headers={"Authorization": f"Bearer {answer.json()['access_token']}"}, timeout=30
    )


def bearer(token) -> dict:
    return {"Authorization": f"Bearer {token}"}


def notification_body(**overrides) -> dict:
    today = timezone.now().date()
    body = {
        "national_reference": overrides.pop("national_reference", None) or next_national_reference(),
        "importing_country": "GH",
        "transit_countries": ["NL"],
        "exporter": {"name": "Chemie Export GmbH", "address": "Industriestr. 1, Hamburg", "licence_number": "DE-1"},
        "importer": {"name": "Accra Pharma Ltd", "address": "12 Ring Road, Accra", "licence_number": "GH-7"},
        "consignee": {"name": "", "address": ""},
        "items": [
            {
                "substance": "ephedrine",
                "quantity": "250.000",
                "unit": "kg",
                "form": "substance",
                "trade_name": "",
                "concentration_percent": None,
                "packages": "10 drums",
            }
        ],
        "shipment": {
            "mode_of_transport": "sea",
            "point_of_exit": "Hamburg",
            "point_of_entry": "Tema",
            "expected_dispatch": (today + timedelta(days=20)).isoformat(),
            "carrier": "",
        },
        "import_authorization_number": "",
        "end_use": "Manufacture of cough syrup",
        "draft": False,
    }
    body.update(overrides)
    return body


@pytest.fixture(name="broker")
def broker_fixture(monkeypatch):
    """Record what would be enqueued instead of writing to the development broker: the
    tests drive outbox dispatch and webhook attempts themselves, with explicit instants."""
    from messaging import tasks

    sent = []
    for task in (tasks.dispatch_outbox_message, tasks.deliver_webhook):
        monkeypatch.setattr(task, "delay", lambda *args, _name=task.name, **kwargs: sent.append((_name, args)))
    return sent
