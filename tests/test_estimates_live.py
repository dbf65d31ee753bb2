"""The estimates and the risk filter end to end through the live server (issue 13's
acceptance line): the contract's ``GET``/``POST /api/v1/estimates/`` and
``GET /api/v1/notifications/?risk=KIND`` over real HTTP with OAuth client-credentials
tokens, as a licensing system sees them; and a new estimate recomputing the flags of a
notification already sent."""

import uuid

import pytest
from django.utils import timezone

from monitoring.models import Estimate
from monitoring.services import recompute_pending
from tests.api_helpers import live_client, notification_body
from tests.conftest import build_cast

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cast(db):
    return build_cast(estimates=False)


def _client(live_server, authority, scopes=None):
    return live_client(live_server, authority, scopes)


def _file(exporter, kg) -> dict:
    body = notification_body()
    body["items"][0]["quantity"] = kg
    answer = exporter.post("/api/v1/notifications/", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert answer.status_code == 201, answer.text
    return answer.json()


def _flags(http, reference) -> dict:
    return {f["kind"]: f for f in http.get(f"/api/v1/notifications/{reference}/").json()["risk_flags"]}


def test_estimates_and_the_risk_filter_through_the_live_server(live_server, cast):
    year = timezone.now().year
    incb = _client(live_server, cast.incb)
    exporter = _client(live_server, cast.exporter)
    reader = _client(live_server, cast.outsider, scopes=["notifications:read"])

    # No estimate yet: the filing is accepted, flagged differently ("no estimate").
    first = _file(exporter, "250.000")
    flag = _flags(exporter, first["reference"])["alr_exceeded"]
    assert "has no estimate" in flag["detail"] and flag["resolved_at"] is None

    # INCB records Ghana's estimate: 201, and the sent notification's flag is recomputed.
    created = incb.post(
        "/api/v1/estimates/",
        json={"country": "GH", "substance": "ephedrine", "year": year, "quantity": "400"},
        headers={"Idempotency-Key": uuid.uuid4().hex},
    )
    assert created.status_code == 201, created.text
    assert created.json() | {"valid_from": None} == {
        "country": "GH",
        "substance": "ephedrine",
        "year": year,
        "quantity": "400.000",
        "valid_from": None,
        "notified": "250.000",
        "remaining": "150.000",
    }
    assert recompute_pending() == 1  # the worker's relay, as beat runs it
    assert _flags(exporter, first["reference"])["alr_exceeded"]["resolved_at"] is not None

    # A second filing goes beyond what remains: accepted, with the numbers in the detail.
    second = _file(exporter, "200.000")
    detail = _flags(exporter, second["reference"])["alr_exceeded"]["detail"]
    assert "50 kg above its estimate of 400 kg" in detail and "250 kg were notified before it" in detail

    # Any authenticated client reads the estimate and what is notified against it.
    rows = reader.get("/api/v1/estimates/", params={"country": "GH", "year": year})
    assert rows.status_code == 200
    assert [(r["substance"], r["quantity"], r["notified"], r["remaining"]) for r in rows.json()] == [
        ("ephedrine", "400.000", "450.000", "-50.000")
    ]

    # ?risk=KIND: only the notifications with that flag open.
    flagged = exporter.get("/api/v1/notifications/", params={"risk": "alr_exceeded"})
    assert flagged.status_code == 200
    assert [n["reference"] for n in flagged.json()["results"]] == [second["reference"]]
    assert exporter.get("/api/v1/notifications/", params={"risk": "unusual_quantity"}).json()["results"] == []
    assert exporter.get("/api/v1/notifications/", params={"risk": "no_such_flag"}).status_code == 400

    # Only INCB writes; a national authority's client is refused and nothing is stored.
    refused = exporter.post(
        "/api/v1/estimates/", json={"country": "GH", "substance": "ephedrine", "year": year, "quantity": "1"}
    )
    assert refused.status_code == 403
    bad = incb.post("/api/v1/estimates/", json={"country": "GH", "substance": "acetone", "year": year, "quantity": "1"})
    assert bad.status_code == 400 and list(bad.json()) == ["substance"]
    assert Estimate.objects.count() == 1
