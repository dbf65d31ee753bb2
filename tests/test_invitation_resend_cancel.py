"""Issue 18, defect 6: a pending invitation can be sent again (a fresh link; the old one
stops working) or cancelled (after a confirmation step; its link then shows the
invalid-invitation page). Both go through accounts.services, are recorded with who did
it and when, and stay inside the administrator's own authority."""

import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts import services
from accounts.models import Invitation, Role

pytestmark = pytest.mark.django_db

INVALID = "This invitation link does not work"


def link_in(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/invitation/[^/\s]+/)", message.body).group(1)


@pytest.fixture
def invited(cast, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, _raw = services.invite_user(
            actor=cast.exporter_admin, email="k.neumann@example.org", role=Role.OFFICER, now=timezone.now()
        )
    old_link = link_in(mail.outbox[-1])
    mail.outbox.clear()
    return invitation, old_link


@pytest.fixture
def admin(client, cast):
    client.force_login(cast.exporter_admin)
    return client


def test_sending_again_mails_a_fresh_link_and_the_old_one_stops_working(
    admin, client, cast, invited, django_capture_on_commit_callbacks
):
    invitation, old_link = invited
    page = admin.get("/accounts/users/").content.decode()
    assert f"/accounts/users/invitations/{invitation.pk}/resend/" in page  # the button is on the list

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/accounts/users/invitations/{invitation.pk}/resend/", follow=True)
    assert response.status_code == 200
    assert "A new invitation was sent to k.neumann@example.org" in response.content.decode()

    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["k.neumann@example.org"]
    new_link = link_in(mail.outbox[0])
    assert new_link != old_link
    # Recorded: the old one revoked by the administrator, the new one replacing it.
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None and invitation.revoked_by == cast.exporter_admin
    fresh = Invitation.objects.get(replaces=invitation)
    assert (fresh.email, fresh.role, fresh.invited_by, fresh.revoked_at) == (
        "k.neumann@example.org",
        Role.OFFICER,
        cast.exporter_admin,
        None,
    )
    assert list(response.context["pending"]) == [fresh]  # one pending row, not two

    client.logout()
    old = client.get(old_link)
    assert old.status_code == 404 and INVALID in old.content.decode()
    assert client.get(new_link).status_code == 200


def test_sending_again_is_a_button_not_a_page(admin, invited):
    invitation, _old_link = invited
    response = admin.get(f"/accounts/users/invitations/{invitation.pk}/resend/")
    assert response.status_code == 405
    invitation.refresh_from_db()
    assert invitation.revoked_at is None and not mail.outbox


def test_cancelling_asks_first_then_the_link_shows_the_invalid_invitation_page(admin, client, cast, invited):
    invitation, link = invited
    url = f"/accounts/users/invitations/{invitation.pk}/cancel/"
    assert url in admin.get("/accounts/users/").content.decode()

    confirm = admin.get(url)
    assert confirm.status_code == 200
    assert "Cancel the invitation to k.neumann@example.org?" in confirm.content.decode()
    # Without the confirmation, the same question again and nothing done.
    again = admin.post(url)
    assert again.status_code == 200 and "Yes, cancel the invitation" in again.content.decode()
    invitation.refresh_from_db()
    assert invitation.revoked_at is None

    done = admin.post(url, {"confirm": "yes"}, follow=True)
    assert "The invitation to k.neumann@example.org is cancelled" in done.content.decode()
    assert list(done.context["pending"]) == []
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None and invitation.revoked_by == cast.exporter_admin
    assert not mail.outbox

    client.logout()
    page = client.get(link)
    assert page.status_code == 404 and INVALID in page.content.decode()


def test_an_accepted_invitation_can_be_neither_sent_again_nor_cancelled(admin, cast, invited):
    invitation, link = invited
    token = link.rstrip("/").rsplit("/", 1)[1]
    services.accept_invitation(
        raw_token=token,
        username="kneumann",
        password="a long passphrase 77",
        first_name="",
        last_name="",
        now=timezone.now(),
    )
    resend = admin.post(f"/accounts/users/invitations/{invitation.pk}/resend/", follow=True)
    assert "has been accepted already" in resend.content.decode()
    cancel = admin.post(f"/accounts/users/invitations/{invitation.pk}/cancel/", {"confirm": "yes"}, follow=True)
    assert "not pending any more" in cancel.content.decode()
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    assert not Invitation.objects.filter(replaces=invitation).exists() and not mail.outbox


def test_another_authoritys_administrator_finds_nothing_and_an_officer_is_refused(client, cast, invited):
    invitation, _link = invited
    client.force_login(cast.importer_admin)
    assert client.post(f"/accounts/users/invitations/{invitation.pk}/resend/").status_code == 404
    assert client.post(f"/accounts/users/invitations/{invitation.pk}/cancel/", {"confirm": "yes"}).status_code == 404
    client.force_login(cast.exporter_officer)
    assert client.post(f"/accounts/users/invitations/{invitation.pk}/resend/").status_code == 403
    assert client.get(f"/accounts/users/invitations/{invitation.pk}/cancel/").status_code == 403
    invitation.refresh_from_db()
    assert invitation.revoked_at is None and not mail.outbox


def test_the_services_check_the_actor_too(cast, invited):
    invitation, _link = invited
    with pytest.raises(PermissionDenied):
        services.cancel_invitation(actor=cast.importer_admin, invitation=invitation, now=timezone.now())
    with pytest.raises(PermissionDenied):
        services.resend_invitation(actor=cast.exporter_officer, invitation=invitation, now=timezone.now())
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
