"""An authority administrator manages the people of their own authority, and only them:
other authorities' users are invisible (404), non-administrators are refused (403)."""

import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts import services
from accounts.models import Invitation, LoginSession, Role, User, hash_token
from tests.conftest import PASSWORD

NEW_PASSWORD = "a long and fresh passphrase 9"


@pytest.fixture
def admin_client(client, cast):
    client.force_login(cast.exporter_admin)
    return client


def invitation_link(message) -> str:
    return re.search(r"http://127\.0\.0\.1:8000(/accounts/invitation/[^/\s]+/)", message.body).group(1)


# --- the list ---------------------------------------------------------------------------


def test_the_list_shows_my_authority_and_nobody_else(admin_client, cast):
    response = admin_client.get("/accounts/users/")
    assert response.status_code == 200
    listed = {member.username for member in response.context["members"]}
    assert listed == {"exp_officer", "exp_admin", "exp_viewer"}
    page = response.content.decode()
    assert "exp_officer@example.org" in page
    for stranger in ("imp_officer", "out_admin", "incb_admin", "transit_officer"):
        assert stranger not in page


def test_machine_users_are_not_listed_as_people(admin_client, cast):
    client_row, _client_id, _secret = services.create_api_client(authority=cast.exporter, name="LIS")
    response = admin_client.get("/accounts/users/")
    assert client_row.service_user.username not in response.content.decode()
    assert admin_client.get(f"/accounts/users/{client_row.service_user.pk}/").status_code == 404


@pytest.mark.parametrize("username", ["exp_officer", "exp_viewer"])
def test_non_administrators_are_refused(client, cast, username):
    client.force_login(User.objects.get(username=username))
    assert client.get("/accounts/users/").status_code == 403
    assert client.get("/accounts/users/invite/").status_code == 403
    assert client.get(f"/accounts/users/{cast.exporter_viewer.pk}/").status_code == 403
    response = client.post(f"/accounts/users/{cast.exporter_viewer.pk}/", {"action": "role", "role": Role.OFFICER})
    assert response.status_code == 403
    cast.exporter_viewer.refresh_from_db()
    assert cast.exporter_viewer.role == Role.VIEWER
    response = client.post("/accounts/users/invite/", {"email": "new@example.org", "role": Role.OFFICER})
    assert response.status_code == 403
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_anonymous_visitors_are_sent_to_login(client, cast):
    response = client.get("/accounts/users/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- other authorities ----------------------------------------------------------------


def test_another_authoritys_user_is_not_found(admin_client, cast):
    target = cast.importer_officer
    assert admin_client.get(f"/accounts/users/{target.pk}/").status_code == 404
    assert admin_client.get(f"/accounts/users/{target.pk}/?confirm=deactivate").status_code == 404
    # Same answer as for an id that does not exist.
    assert admin_client.get("/accounts/users/999999/").status_code == 404


def test_posts_about_another_authoritys_user_change_nothing(admin_client, cast):
    target = cast.importer_officer
    for data in (
        {"action": "role", "role": Role.ADMINISTRATOR},
        {"action": "deactivate", "confirm": "yes"},
        {"action": "reactivate"},
    ):
        assert admin_client.post(f"/accounts/users/{target.pk}/", data).status_code == 404
    target.refresh_from_db()
    assert target.role == Role.OFFICER
    assert target.is_active is True


def test_an_invitation_always_goes_into_my_own_authority(admin_client, cast):
    # The form has no authority field; a forged one is ignored.
    response = admin_client.post(
        "/accounts/users/invite/", {"email": "new@example.org", "role": Role.OFFICER, "authority": cast.importer.pk}
    )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert invitation.authority == cast.exporter
    assert not Invitation.objects.filter(authority=cast.importer).exists()


# --- invitations ----------------------------------------------------------------------


def test_invite_sends_one_email_with_a_one_time_link(admin_client, cast, django_capture_on_commit_callbacks):
    assert admin_client.get("/accounts/users/invite/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/accounts/users/invite/", {"email": "New.Officer@Example.org", "role": "officer"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/users/"
    invitation = Invitation.objects.get()
    assert (invitation.authority, invitation.email, invitation.role) == (
        cast.exporter,
        "new.officer@example.org",
        "officer",
    )
    assert invitation.invited_by == cast.exporter_admin
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.officer@example.org"]
    link = invitation_link(message)
    # Only the hash is stored.
    raw = link.rstrip("/").rsplit("/", 1)[1]
    assert invitation.token_hash == hash_token(raw) != raw
    # The pending invitation is listed.
    assert "new.officer@example.org" in admin_client.get("/accounts/users/").content.decode()

    newcomer = Client()
    response = newcomer.get(link)
    assert response.status_code == 200
    assert "Federal Opium Agency (DE)" in response.content.decode()
    response = newcomer.post(
        link,
        {
            "username": "new_officer",
            "first_name": "Nadia",
            "last_name": "Neumann",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="new_officer")
    assert (user.authority, user.role, user.email) == (cast.exporter, Role.OFFICER, "new.officer@example.org")
    assert user.check_password(NEW_PASSWORD)
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None and invitation.accepted_user == user
    # Logged in straight away, and the session is recorded.
    assert newcomer.get("/notifications/").status_code == 200
    assert LoginSession.objects.filter(user=user).count() == 1

    # The link works once.
    again = Client()
    assert again.get(link).status_code == 404
    response = again.post(link, {"username": "second_try", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 404
    assert not User.objects.filter(username="second_try").exists()
    assert len(mail.outbox) == 1


def test_an_expired_link_is_refused(client, cast):
    _invitation, raw = services.invite_user(
        actor=cast.exporter_admin, email="late@example.org", role=Role.VIEWER, now=timezone.now() - timedelta(days=8)
    )
    link = f"/accounts/invitation/{raw}/"
    assert client.get(link).status_code == 404
    response = client.post(link, {"username": "late", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 404
    assert "does not work" in response.content.decode()
    assert not User.objects.filter(username="late").exists()


def test_an_unknown_link_is_refused(client, cast):
    assert client.get("/accounts/invitation/not-a-token/").status_code == 404


def test_accepting_checks_the_password_validators(client, cast):
    _invitation, raw = services.invite_user(
        actor=cast.exporter_admin, email="weak@example.org", role=Role.VIEWER, now=timezone.now()
    )
    link = f"/accounts/invitation/{raw}/"
    for password in ("short", "weakuser12345", "123456789012345"):
        response = client.post(link, {"username": "weakuser", "password1": password, "password2": password})
        assert response.status_code == 200
        assert "There is a problem" in response.content.decode()
    response = client.post(link, {"username": "weakuser", "password1": NEW_PASSWORD, "password2": "different one!"})
    assert response.status_code == 200
    assert not User.objects.filter(username="weakuser").exists()
    # A taken user name is refused and the link still works afterwards.
    response = client.post(link, {"username": "EXP_OFFICER", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 200
    assert "This user name is taken." in response.content.decode()
    assert client.get(link).status_code == 200


def test_inviting_a_foreign_role_is_refused(admin_client, cast):
    # (An address that already has an account is no longer refused on the form, which told
    # any administrator who works where: tests/test_party_boundaries.py, issue 16.)
    response = admin_client.post("/accounts/users/invite/", {"email": "x@example.org", "role": Role.REVIEWER})
    assert response.status_code == 200
    assert not Invitation.objects.exists()
    assert mail.outbox == []


# --- role, deactivation ---------------------------------------------------------------


def test_the_admin_changes_a_role(admin_client, cast):
    assert admin_client.get(f"/accounts/users/{cast.exporter_viewer.pk}/").status_code == 200
    response = admin_client.post(f"/accounts/users/{cast.exporter_viewer.pk}/", {"action": "role", "role": "officer"})
    assert response.status_code == 302
    cast.exporter_viewer.refresh_from_db()
    assert cast.exporter_viewer.role == Role.OFFICER


def test_the_admin_cannot_demote_themself(admin_client, cast):
    response = admin_client.post(f"/accounts/users/{cast.exporter_admin.pk}/", {"action": "role", "role": "viewer"})
    assert response.status_code == 200
    cast.exporter_admin.refresh_from_db()
    assert cast.exporter_admin.role == Role.ADMINISTRATOR


def test_deactivation_needs_a_confirmation_step(admin_client, cast):
    target = cast.exporter_officer
    response = admin_client.get(f"/accounts/users/{target.pk}/?confirm=deactivate")
    assert response.status_code == 200
    assert "Yes, deactivate" in response.content.decode()
    response = admin_client.post(f"/accounts/users/{target.pk}/", {"action": "deactivate"})
    assert response.status_code == 200
    assert "Yes, deactivate" in response.content.decode()
    target.refresh_from_db()
    assert target.is_active is True


def test_deactivating_a_user_ends_their_sessions_and_reactivating_lets_them_back(admin_client, cast):
    target = cast.exporter_officer
    theirs = Client()
    assert theirs.login(username="exp_officer", password=PASSWORD)
    session_key = theirs.session.session_key
    assert theirs.get("/notifications/").status_code == 200
    assert LoginSession.objects.filter(user=target, session_key=session_key).exists()

    response = admin_client.post(f"/accounts/users/{target.pk}/", {"action": "deactivate", "confirm": "yes"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.is_active is False
    assert not LoginSession.objects.filter(user=target).exists()
    assert not Session.objects.filter(session_key=session_key).exists()
    response = theirs.get("/notifications/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not theirs.login(username="exp_officer", password=PASSWORD)

    response = admin_client.post(f"/accounts/users/{target.pk}/", {"action": "reactivate"})
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.is_active is True
    assert theirs.login(username="exp_officer", password=PASSWORD)


def test_the_admin_cannot_deactivate_themself(admin_client, cast):
    response = admin_client.post(
        f"/accounts/users/{cast.exporter_admin.pk}/", {"action": "deactivate", "confirm": "yes"}
    )
    assert response.status_code == 400
    cast.exporter_admin.refresh_from_db()
    assert cast.exporter_admin.is_active is True


def test_a_deactivated_administrator_can_manage_nothing(client, cast):
    client.force_login(cast.exporter_admin)
    User.objects.filter(pk=cast.exporter_admin.pk).update(is_active=False)
    response = client.get("/accounts/users/")
    assert response.status_code == 302  # logged out: inactive users are not authenticated


def test_incb_administrators_manage_incb_staff_with_incb_roles(client, cast):
    client.force_login(cast.incb_admin)
    response = client.get("/accounts/users/")
    assert {m.username for m in response.context["members"]} == {"incb_reviewer", "incb_admin"}
    response = client.post(f"/accounts/users/{cast.incb_reviewer.pk}/", {"action": "role", "role": Role.OFFICER})
    assert response.status_code == 200
    cast.incb_reviewer.refresh_from_db()
    assert cast.incb_reviewer.role == Role.REVIEWER
