"""Issue 16, findings 1 and 2: bodies and dates an attacker (or a careless client) sends.
Each must get a clear 4xx in the shape the caller speaks (JSON for the API, the page again
with the error beside its field for the browser), never a 500, and store nothing."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification, Status
from tests.api_helpers import bearer, notification_body, token_for
from tests.factories import file
from tests.test_notification_pages import filing_post

pytestmark = pytest.mark.django_db

DEEP = "[" * 1200 + "]" * 1200
DEEP_OBJECT = '{"a":' * 1200 + "1" + "}" * 1200
FAR = "9999-12-31"
API_POSTS = ["/api/v1/notifications/", "/api/v1/webhooks/", "/api/v1/notifications/DE-2026-000001/submit/"]


@pytest.fixture
def http():
    # The server's view of an error, not the test client's re-raised exception.
    return Client(raise_request_exception=False)


@pytest.fixture
def exporter_token(http, cast):
    return bearer(token_for(http, cast.exporter))


def assert_json_error(response, status):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    return response.json()


# --- finding 1: bodies ------------------------------------------------------------------


@pytest.mark.parametrize("path", API_POSTS)
@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["array", "object"])
@pytest.mark.parametrize("who", ["anonymous", "bad token", "good token"])
def test_a_deeply_nested_body_is_a_json_400_with_or_without_a_token(http, cast, exporter_token, path, body, who):
    headers = {"anonymous": {}, "bad token": bearer("not-a-token"), "good token": exporter_token}[who]
    response = http.post(path, body, content_type="application/json", headers=headers)
    if who == "good token":
        assert "nested" in json.dumps(assert_json_error(response, 400))
    else:
        # Authentication runs first and the body is never trusted: a JSON error either way.
        assert response.status_code in (400, 401)
        assert response["Content-Type"].startswith("application/json")
    assert Notification.objects.count() == 0


def test_nesting_within_the_limit_is_parsed_and_judged_on_its_fields(http, exporter_token):
    body = notification_body(end_use=[[[[[["deep but small"]]]]]])
    response = http.post("/api/v1/notifications/", body, content_type="application/json", headers=exporter_token)
    errors = assert_json_error(response, 400)
    assert "end_use" in errors


@pytest.mark.parametrize("path", ["/api/v1/notifications/", "/api/v1/webhooks/"])
@pytest.mark.parametrize("who", ["anonymous", "good token"])
def test_a_body_over_the_size_limit_is_the_apis_json_error_not_an_html_page(http, exporter_token, path, who):
    big = json.dumps({"end_use": "a" * 3_000_000})
    headers = exporter_token if who == "good token" else {}
    response = http.post(path, big, content_type="application/json", headers=headers)
    body = assert_json_error(response, 413)
    assert "MB" in body["detail"]
    assert Notification.objects.count() == 0


# --- finding 2: far-future (and far-past) dates -----------------------------------------


def test_filing_with_a_far_future_reply_due_is_a_400_on_that_field(http, exporter_token):
    response = http.post(
        "/api/v1/notifications/",
        notification_body(reply_due=FAR),
        content_type="application/json",
        headers=exporter_token,
    )
    errors = assert_json_error(response, 400)
    assert "reply_due" in errors and "2" in errors["reply_due"][0]
    assert Notification.objects.count() == 0


def test_a_far_future_draft_is_refused_when_saved_so_submit_never_meets_it(http, exporter_token):
    response = http.post(
        "/api/v1/notifications/",
        notification_body(reply_due=FAR, draft=True),
        content_type="application/json",
        headers=exporter_token,
    )
    assert "reply_due" in assert_json_error(response, 400)


@pytest.mark.parametrize("field", ["expected_dispatch"])
def test_a_far_future_dispatch_date_is_a_400(http, exporter_token, field):
    body = notification_body()
    body["shipment"][field] = FAR
    response = http.post("/api/v1/notifications/", body, content_type="application/json", headers=exporter_token)
    assert "shipment.expected_dispatch" in assert_json_error(response, 400)


def test_submit_and_provide_information_on_a_stored_far_future_date_are_not_500s(http, cast, exporter_token):
    """Defence in depth: a row that holds such a date already (written before the bound, or
    by hand) is refused by the service with a field error, never an OverflowError."""
    now = timezone.now()
    draft = file(cast, now=now, draft=True)
    Notification.objects.filter(pk=draft.pk).update(reply_due="9999-12-31")
    response = http.post(
        f"/api/v1/notifications/{draft.reference}/submit/", {}, content_type="application/json", headers=exporter_token
    )
    assert "reply_due" in assert_json_error(response, 400)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT

    sent = file(cast, now=now)
    Notification.objects.filter(pk=sent.pk).update(
        status=Status.INFORMATION_REQUESTED, information_requested_at=now - timedelta(days=2), reply_due="9999-12-30"
    )
    response = http.post(
        f"/api/v1/notifications/{sent.reference}/provide_information/",
        {"comment": "Cough syrup"},
        content_type="application/json",
        headers=exporter_token,
    )
    assert "reply_due" in assert_json_error(response, 400)
    sent.refresh_from_db()
    assert sent.status == Status.INFORMATION_REQUESTED


def test_the_filing_page_refuses_a_far_future_reply_due_beside_the_field(cast):
    browser = Client(raise_request_exception=False)
    browser.force_login(cast.exporter_officer)
    response = browser.post(reverse("notifications:create"), filing_post(reply_due=FAR, expected_dispatch=FAR))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="id_reply_due-error"' in page or "reply_due" in page
    assert "Enter a date between" in page
    assert Notification.objects.count() == 0


def test_the_send_page_of_a_stored_far_future_draft_is_not_a_500(cast):
    now = timezone.now()
    draft = file(cast, now=now, draft=True)
    Notification.objects.filter(pk=draft.pk).update(reply_due="9999-12-31")
    browser = Client(raise_request_exception=False)
    browser.force_login(cast.exporter_officer)
    page = reverse("notifications:send", args=[draft.reference])
    assert browser.get(page).status_code == 200
    response = browser.post(page)
    assert response.status_code in (200, 302)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


@pytest.mark.parametrize("path", ["/timeliness/", "/timeliness/mine/", "/timeliness/countries/GH/"])
@pytest.mark.parametrize("query", [{"to": FAR}, {"from": "0001-01-01", "to": "0001-01-02"}, {"from": FAR}])
def test_timeliness_pages_refuse_extreme_periods_with_a_message(cast, path, query):
    browser = Client(raise_request_exception=False)
    user = cast.incb_reviewer if path != "/timeliness/mine/" else cast.importer_officer
    browser.force_login(user)
    response = browser.get(path, query)
    assert response.status_code in (200, 400), response.status_code
    assert "Enter a date between" in response.content.decode()


@pytest.mark.parametrize("query", [{"to": FAR}, {"from": "0001-01-01", "to": "0001-01-02"}])
def test_the_timeliness_api_refuses_extreme_periods_as_a_400(http, cast, query):
    headers = bearer(token_for(http, cast.incb))
    response = http.get("/api/v1/timeliness/", query, headers=headers)
    assert assert_json_error(response, 400)


@pytest.mark.parametrize(
    "query", [{"updated_since": "9999-12-31T23:59:59-05:00"}, {"updated_since": "0001-01-01T00:00:00+05:00"}]
)
def test_the_list_filter_refuses_an_instant_outside_the_range(http, exporter_token, query):
    response = http.get("/api/v1/notifications/", query, headers=exporter_token)
    assert "updated_since" in assert_json_error(response, 400)


@pytest.mark.parametrize("field", ["sent_from", "sent_to"])
def test_the_list_page_filters_refuse_extreme_dates_beside_the_field(cast, field):
    browser = Client(raise_request_exception=False)
    browser.force_login(cast.exporter_officer)
    response = browser.get(reverse("notifications:list"), {field: FAR})
    assert response.status_code == 200
    assert "Enter a date between" in response.content.decode()


def test_a_reply_due_a_year_ahead_is_still_accepted(http, exporter_token):
    ahead = (timezone.now().date() + timedelta(days=300)).isoformat()
    response = http.post(
        "/api/v1/notifications/",
        notification_body(reply_due=ahead),
        content_type="application/json",
        headers=exporter_token,
    )
    assert response.status_code == 201, response.content
