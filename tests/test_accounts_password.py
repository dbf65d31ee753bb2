"""Password change for a logged-in user, and password reset by e-mail."""

import re

import pytest
from django.core import mail

from accounts.models import LoginSession
from tests.conftest import PASSWORD

NEW_PASSWORD = "a fresh and long passphrase 7"


@pytest.fixture
def officer_client(client, cast):
    client.force_login(cast.exporter_officer)
    return client


def test_a_user_changes_their_password(officer_client, cast):
    response = officer_client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/change/done/"
    cast.exporter_officer.refresh_from_db()
    assert cast.exporter_officer.check_password(NEW_PASSWORD)
    # Still logged in, and the renewed session is still known, so deactivation can end it.
    assert officer_client.get("/accounts/password/change/done/").status_code == 200
    session_key = officer_client.session.session_key
    assert LoginSession.objects.filter(user=cast.exporter_officer, session_key=session_key).exists()
    assert LoginSession.objects.filter(user=cast.exporter_officer).count() == 1


def test_a_wrong_current_password_changes_nothing(officer_client, cast):
    response = officer_client.post(
        "/accounts/password/change/",
        {"old_password": "not it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    cast.exporter_officer.refresh_from_db()
    assert cast.exporter_officer.check_password(PASSWORD)


def test_a_weak_new_password_is_refused(officer_client, cast):
    response = officer_client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    assert response.status_code == 200
    cast.exporter_officer.refresh_from_db()
    assert cast.exporter_officer.check_password(PASSWORD)


def test_password_change_needs_login(client, cast):
    response = client.get("/accounts/password/change/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_password_reset_by_email(client, cast):
    assert client.get("/accounts/password/reset/").status_code == 200
    response = client.post("/accounts/password/reset/", {"email": "exp_officer@example.org"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["exp_officer@example.org"]
    assert message.subject == "Reset your PEN Portal password"
    assert "exp_officer" in message.body
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/\S+/)", message.body).group(1)

    response = client.get(link)  # Django swaps the token for a session marker and redirects
    assert response.status_code == 302
    set_password_url = response["Location"]
    response = client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/complete/"
    cast.exporter_officer.refresh_from_db()
    assert cast.exporter_officer.check_password(NEW_PASSWORD)

    # The link works once.
    response = client.get(link, follow=True)
    assert "This link does not work any more" in response.content.decode()


def test_password_reset_for_an_unknown_address_sends_nothing_and_reveals_nothing(client, cast):
    response = client.post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []


def test_logout_is_a_post(officer_client):
    response = officer_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert officer_client.get("/notifications/").status_code == 302
