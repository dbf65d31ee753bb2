"""Issue 18, defect 8: the portal's own 403, 404, 405 and 500 pages (and the refused-CSRF
page), as a deployment serves them (DEBUG off), each a page of the portal that says what
to do; the API and the token endpoint keep their JSON answers."""

import pytest
from django.test import Client, RequestFactory
from django.urls import path
from django.utils import timezone

import pen_portal.urls
from accounts.models import Invitation
from pen_portal import errors
from pen_portal.urls import handler400, handler403, handler404, handler500  # noqa: F401 (this urlconf's handlers)
from tests.factories import file


def boom(request):
    raise RuntimeError("a bug")


# This module is also the URL configuration of the 500 tests: the project's routes, the
# project's handlers (imported above), and a view that fails.
urlpatterns = [*pen_portal.urls.urlpatterns, path("boom/", boom), path("api/v1/boom/", boom)]


@pytest.fixture(autouse=True)
def deployed(settings):
    settings.DEBUG = False


def branded(response) -> str:
    """The page, checked to be one of the portal's (its header, skip link and footer)."""
    html = response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert "Pre-Export Notification Portal" in html and 'class="skip-link"' in html
    assert 'href="/accessibility/"' in html  # the footer
    assert "script-src 'self'" in response["Content-Security-Policy"]
    return html


# --- 404 --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unknown_page_gets_the_portals_404(client, cast):
    client.force_login(cast.exporter_officer)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = branded(response)
    assert "Page not found" in html and "Go to the dashboard" in html
    assert "exp_officer" in html  # the signed-in header, as on every page


@pytest.mark.django_db
def test_a_notification_one_may_not_see_gets_the_same_404_as_a_missing_one(client, cast):
    hidden = file(cast, now=timezone.now())
    client.force_login(cast.outsider_officer)
    invisible = client.get(f"/notifications/{hidden.reference}/")
    missing = client.get("/notifications/XX-2026-999999/")
    assert invisible.status_code == missing.status_code == 404
    assert "Page not found" in branded(invisible)
    assert hidden.reference not in invisible.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/no-such-thing/", "/oauth/no-such-thing/"])
def test_the_api_and_the_token_endpoint_answer_an_unknown_path_in_json(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


# --- 403 and CSRF ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_page_ones_role_does_not_allow_gets_the_portals_403(client, cast):
    client.force_login(cast.exporter_officer)
    response = client.get("/accounts/users/")
    assert response.status_code == 403
    html = branded(response)
    assert "You cannot do this" in html and "ask an administrator of your authority" in html


@pytest.mark.django_db
def test_a_form_sent_without_its_security_token_gets_a_page_saying_to_go_back_and_retry(cast):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(cast.exporter_admin)
    response = browser.post("/accounts/users/invite/", {"email": "k.neumann@example.org", "role": "officer"})
    assert response.status_code == 403
    html = branded(response)
    assert "Your form could not be sent" in html
    assert "your session may have expired" in html
    assert "go back, reload the page" in html and "send the form again" in html
    assert "403 Forbidden" not in html
    assert not Invitation.objects.exists()


@pytest.mark.django_db
def test_the_api_keeps_its_json_refusal_of_a_session_post_without_a_token(cast):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(cast.exporter_officer)
    response = browser.post("/api/v1/notifications/", {}, content_type="application/json")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert "CSRF" in response.json()["detail"]


def test_the_csrf_failure_view_answers_json_under_the_api():
    request = RequestFactory().post("/oauth/token/")
    response = errors.csrf_failure(request, reason="CSRF cookie not set.")
    assert (response.status_code, response["Content-Type"]) == (403, "application/json")


# --- 405 --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_action_address_opened_directly_gets_a_page_keeping_the_status_and_allow(client, cast):
    client.force_login(cast.exporter_officer)
    response = client.get("/accounts/logout/")
    assert response.status_code == 405
    assert response["Allow"] == "POST, OPTIONS"
    html = branded(response)
    assert "This address is for a button" in html and "Nothing has been done" in html
    # A notification's action too (a POST-only view of another app).
    sent = file(cast, now=timezone.now())
    action = client.get(f"/notifications/{sent.reference}/acknowledge/")
    assert action.status_code == 405 and action["Allow"] == "POST"
    assert "This address is for a button" in action.content.decode()


@pytest.mark.django_db
def test_the_token_endpoint_and_the_api_keep_their_own_405(client, cast):
    token = client.get("/oauth/token/")
    assert token.status_code == 405 and "This address is for a button" not in token.content.decode()
    assert "POST" in token["Allow"]
    client.force_login(cast.exporter_officer)
    sent = file(cast, now=timezone.now())
    api = client.get(f"/api/v1/notifications/{sent.reference}/submit/")
    assert api.status_code == 405
    assert api["Content-Type"] == "application/json" and "detail" in api.json()


# --- 500 --------------------------------------------------------------------------------------


@pytest.mark.urls(__name__)
def test_a_crash_gets_the_portals_500_page_without_the_database():
    """No django_db mark: any query while rendering the page would fail the test."""
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    html = branded(response)
    assert "Something went wrong on our side" in html and "not of anything you did" in html


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_the_500_page_needs_no_signed_in_user(cast):
    browser = Client(raise_request_exception=False)
    browser.force_login(cast.exporter_officer)
    response = browser.get("/boom/")
    assert response.status_code == 500
    html = branded(response)
    assert "exp_officer" not in html and "Log out" not in html  # rendered without the request's context


@pytest.mark.urls(__name__)
def test_a_crash_under_the_api_answers_json():
    response = Client(raise_request_exception=False).get("/api/v1/boom/")
    assert response.status_code == 500
    assert response.json() == {"detail": "A server error occurred."}
