"""What the parties to a notification may do, and see of each other (issue 16, findings 4
and 5).

- Only the authority a notification is addressed to (``importing_authority``, the importing
  country's focal point when it was sent) acts for the importing country: it acknowledges
  and replies, by its officers and its machine clients. The country's other authorities
  read it, and nothing more: not on the pages, not through the API, not in the services,
  and their dashboard's "awaiting a reply from us" does not offer it to them.
- INCB's follow-up notes (``followed_up`` events) are INCB's: no party sees them.
- Whom the exporter shared a notification with (``shared`` and ``share_revoked`` events) is
  the exporter's and INCB's: the importing, transit and shared-with authorities see none
  of it.
- The invitation form answers the same whether the address is new, a user of the
  administrator's own authority or of any other authority."""

import json

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, Role, User
from authorities.services import create_authority
from chasing.services import record_follow_up
from notifications import services
from notifications.models import EventKind, Status
from tests.api_helpers import bearer, token_for
from tests.conftest import make_user
from tests.factories import file
from tests.test_notification_pages import text

pytestmark = pytest.mark.django_db

API = "/api/v1/notifications/"
FOLLOW_UP_NOTE = "Phoned the GH desk officer, who promised a reply by Friday"


@pytest.fixture
def second_gh(cast):
    """A second authority of the importing country (GH), not its focal point, with an officer."""
    authority, _created = create_authority(
        code="gh-nacoc", name="Narcotics Control Commission (GH)", email="gh-nacoc@example.org", country_code="GH"
    )
    assert not authority.is_focal_point
    return authority, make_user("nacoc_officer", authority, Role.OFFICER)


@pytest.fixture
def sent(cast):
    now = timezone.now()
    notification = file(cast, now=now)
    assert notification.importing_authority == cast.importer
    return notification


def login(client, user):
    client.logout()
    client.force_login(user)
    return client


def post_api(client, path, body, token):
    return client.post(path, body, content_type="application/json", headers=token)


# --- finding 4: only the addressed authority acts for the importing country -------------------


def test_another_authority_of_the_importing_country_reads_but_cannot_acknowledge_or_reply_on_the_web(
    client, cast, sent, second_gh
):
    _authority, officer = second_gh
    login(client, officer)
    detail = client.get(reverse("notifications:detail", args=[sent.reference]))
    assert detail.status_code == 200
    assert not detail.context["can"].get("acknowledge") and not detail.context["can"]["reply"]
    assert 'action="' + reverse("notifications:acknowledge", args=[sent.reference]) not in detail.content.decode()
    # The page says who replies instead of them.
    assert f"addressed to {cast.importer.name}, your country's focal point, which replies to it" in text(detail)

    acknowledge = client.post(reverse("notifications:acknowledge", args=[sent.reference]), {"version": sent.version})
    reply_page = client.get(reverse("notifications:reply", args=[sent.reference]))
    reply = client.post(
        reverse("notifications:reply", args=[sent.reference]),
        {"version": sent.version, "decision": "no_objection", "comment": "", "confirmed": "1"},
    )
    assert (acknowledge.status_code, reply_page.status_code, reply.status_code) == (403, 403, 403)

    sent.refresh_from_db()
    assert (sent.status, sent.acknowledged_at, sent.replied_at) == (Status.AWAITING_REPLY, None, None)
    assert not sent.events.filter(kind__in=[EventKind.ACKNOWLEDGED, EventKind.REPLIED]).exists()


def test_another_authority_of_the_importing_country_reads_but_cannot_act_through_the_api(client, cast, sent, second_gh):
    authority, _officer = second_gh
    token = bearer(token_for(client, authority))
    detail = client.get(f"{API}{sent.reference}/", headers=token)
    assert detail.status_code == 200
    assert detail.json()["allowed_actions"] == []
    listed = client.get(API, headers=token).json()["results"]
    assert [row["reference"] for row in listed] == [sent.reference]

    acknowledge = post_api(client, f"{API}{sent.reference}/acknowledge/", {}, token)
    respond = post_api(client, f"{API}{sent.reference}/respond/", {"decision": "no_objection", "comment": ""}, token)
    assert (acknowledge.status_code, respond.status_code) == (403, 403)

    sent.refresh_from_db()
    assert (sent.status, sent.acknowledged_at, sent.replied_at) == (Status.AWAITING_REPLY, None, None)
    assert not sent.responses.exists()


def test_the_services_refuse_another_authority_of_the_importing_country(cast, sent, second_gh):
    _authority, officer = second_gh
    with pytest.raises(PermissionDenied):
        services.acknowledge(actor=officer, notification=sent, now=timezone.now())
    with pytest.raises(PermissionDenied):
        services.respond(actor=officer, notification=sent, decision="objection", comment="no", now=timezone.now())
    sent.refresh_from_db()
    assert sent.status == Status.AWAITING_REPLY


def test_the_addressed_authority_still_acknowledges_and_replies(client, cast, sent, second_gh):
    login(client, cast.importer_officer)
    detail = client.get(reverse("notifications:detail", args=[sent.reference]))
    assert detail.context["can"].get("acknowledge") and detail.context["can"]["reply"]
    response = client.post(reverse("notifications:acknowledge", args=[sent.reference]), {"version": sent.version})
    assert response.status_code == 302
    sent.refresh_from_db()
    assert sent.acknowledged_at is not None

    token = bearer(token_for(client, cast.importer))
    respond = post_api(client, f"{API}{sent.reference}/respond/", {"decision": "no_objection", "comment": ""}, token)
    assert respond.status_code == 200, respond.content
    sent.refresh_from_db()
    assert sent.status == Status.NO_OBJECTION


def test_the_addressed_authority_keeps_acting_after_the_focal_point_moves(client, cast, sent, second_gh):
    """Addressed when sent: moving the focal point afterwards moves no one's right to reply."""
    from authorities.services import set_focal_point

    authority, officer = second_gh
    set_focal_point(authority=authority)
    with pytest.raises(PermissionDenied):
        services.acknowledge(actor=officer, notification=sent, now=timezone.now())
    services.acknowledge(actor=cast.importer_officer, notification=sent, now=timezone.now())
    sent.refresh_from_db()
    assert sent.acknowledged_at is not None


def test_the_dashboard_does_not_offer_another_authority_s_notifications_as_awaiting_our_reply(
    client, cast, sent, second_gh
):
    _authority, officer = second_gh
    login(client, officer)
    dashboard = client.get(reverse("notifications:dashboard"))
    assert dashboard.status_code == 200
    assert dashboard.context["incoming"]["rows"] == []
    # It still reads it: the list of everything it is party to has it.
    listing = client.get(reverse("notifications:list"))
    assert sent.reference in text(listing)

    login(client, cast.importer_officer)
    dashboard = client.get(reverse("notifications:dashboard"))
    assert [n.reference for n in dashboard.context["incoming"]["rows"]] == [sent.reference]


# --- finding 5: what the parties see of each other in the timeline ---------------------------


def _page_timeline(client, user, notification):
    login(client, user)
    response = client.get(reverse("notifications:detail", args=[notification.reference]))
    assert response.status_code == 200
    return {event.kind for event in response.context["events"]}, text(response)


def _api_timeline(client, authority, notification):
    response = client.get(f"{API}{notification.reference}/", headers=bearer(token_for(client, authority)))
    assert response.status_code == 200
    body = response.json()
    return {event["kind"] for event in body["events"]}, response.content.decode()


def _shared_and_followed_up(cast):
    now = timezone.now()
    notification = file(cast, now=now)
    services.share(actor=cast.exporter_officer, notification=notification, authority=cast.shared, now=now)
    services.share(actor=cast.exporter_officer, notification=notification, authority=cast.outsider, now=now)
    services.revoke_share(actor=cast.exporter_officer, notification=notification, authority=cast.outsider, now=now)
    record_follow_up(actor=cast.incb_reviewer, notification=notification, channel="phone", note=FOLLOW_UP_NOTE, now=now)
    return notification


SHARE_KINDS = {EventKind.SHARED, EventKind.SHARE_REVOKED}


@pytest.mark.parametrize(
    ("who", "sees_follow_ups", "sees_shares"),
    [
        ("exporter", False, True),
        ("importer", False, False),
        ("transit", False, False),
        ("shared", False, False),
        ("incb", True, True),
    ],
)
def test_the_page_timeline_shows_follow_ups_to_incb_and_shares_to_the_exporter_and_incb(
    client, cast, who, sees_follow_ups, sees_shares
):
    notification = _shared_and_followed_up(cast)
    user = {
        "exporter": cast.exporter_officer,
        "importer": cast.importer_officer,
        "transit": cast.transit_officer,
        "shared": cast.shared_officer,
        "incb": cast.incb_reviewer,
    }[who]
    kinds, text = _page_timeline(client, user, notification)
    assert EventKind.SUBMITTED in kinds
    assert (EventKind.FOLLOWED_UP in kinds) == sees_follow_ups
    assert (FOLLOW_UP_NOTE in text) == sees_follow_ups
    assert bool(kinds & SHARE_KINDS) == sees_shares
    assert kinds >= SHARE_KINDS if sees_shares else not kinds & SHARE_KINDS
    # The authorities it was shared with are named to nobody else (the revoked one included).
    assert ("ANSM (FR)" in text) == sees_shares


@pytest.mark.parametrize(
    ("who", "sees_follow_ups", "sees_shares"),
    [
        ("exporter", False, True),
        ("importer", False, False),
        ("transit", False, False),
        ("shared", False, False),
        ("incb", True, True),
    ],
)
def test_the_api_timeline_shows_follow_ups_to_incb_and_shares_to_the_exporter_and_incb(
    client, cast, who, sees_follow_ups, sees_shares
):
    notification = _shared_and_followed_up(cast)
    authority = {
        "exporter": cast.exporter,
        "importer": cast.importer,
        "transit": cast.transit,
        "shared": cast.shared,
        "incb": cast.incb,
    }[who]
    kinds, body = _api_timeline(client, authority, notification)
    assert EventKind.SUBMITTED in kinds
    assert (EventKind.FOLLOWED_UP in kinds) == sees_follow_ups
    assert (FOLLOW_UP_NOTE in body) == sees_follow_ups
    assert kinds >= SHARE_KINDS if sees_shares else not kinds & SHARE_KINDS
    assert ("fr-ansm" in body or "ANSM (FR)" in body) == sees_shares


def test_another_authority_of_the_importing_country_sees_neither(client, cast, second_gh):
    notification = _shared_and_followed_up(cast)
    authority, officer = second_gh
    kinds, text = _page_timeline(client, officer, notification)
    assert not kinds & {*SHARE_KINDS, EventKind.FOLLOWED_UP}
    assert FOLLOW_UP_NOTE not in text and "ANSM (FR)" not in text and "FAGG (BE)" not in text
    kinds, body = _api_timeline(client, authority, notification)
    assert not kinds & {*SHARE_KINDS, EventKind.FOLLOWED_UP}


# --- finding 5: the invitation form tells nobody who has an account elsewhere ----------------


def _invite(client, email):
    mail.outbox.clear()
    response = client.post("/accounts/users/invite/", {"email": email, "role": Role.OFFICER})
    shown = [str(message).replace(email, "<address>") for message in get_messages(response.wsgi_request)]
    page = text(response).replace(email, "<address>")
    if response.status_code == 302:
        client.get(response["Location"])  # shows (and so consumes) the message
    return response.status_code, response.get("Location"), shown, page


@pytest.mark.parametrize(
    "taken",
    [
        "imp_officer@example.org",  # a user of another authority (GH)
        "incb_reviewer@example.org",  # of the INCB secretariat
        "exp_viewer@example.org",  # of the administrator's own authority
    ],
)
def test_the_invitation_form_answers_the_same_whether_the_address_has_an_account_or_not(
    client, cast, django_capture_on_commit_callbacks, taken
):
    login(client, cast.exporter_admin)
    with django_capture_on_commit_callbacks(execute=True):
        fresh = _invite(client, "fresh.person@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        existing = _invite(client, taken)
    assert existing == fresh
    assert fresh[0] == 302
    # The pending invitations look alike too: the list does not tell them apart.
    listed = {invitation.email for invitation in client.get("/accounts/users/").context["pending"]}
    assert listed == {"fresh.person@example.org", taken}
    # The existing account is untouched, and its owner is told, without a link to a second account.
    owner = User.objects.get(email=taken)
    assert owner.authority_id in {cast.importer.pk, cast.incb.pk, cast.exporter.pk}
    assert User.objects.filter(email__iexact=taken).count() == 1
    [message] = mail.outbox
    assert message.to == [taken]
    assert "/accounts/invitation/" not in message.body
    assert Invitation.objects.filter(email=taken).count() == 1


def test_the_api_role_filter_tells_addressed_from_the_country_s_other_authorities(client, cast, sent, second_gh):
    authority, _officer = second_gh
    other = bearer(token_for(client, authority, name="NACOC system"))
    addressed = bearer(token_for(client, cast.importer, name="FDA system"))

    def refs(token, role):
        response = client.get("/api/v1/notifications/", {"role": role}, headers=token)
        assert response.status_code == 200, response.content
        return [row["reference"] for row in response.json()["results"]]

    assert refs(addressed, "importing") == [sent.reference]
    assert refs(other, "importing") == []
    assert refs(other, "importing_country") == [sent.reference]


@pytest.mark.parametrize(
    ("user", "hidden_kinds"),
    [
        ("exporter_officer", {EventKind.FOLLOWED_UP}),
        ("importer_officer", {EventKind.FOLLOWED_UP, *SHARE_KINDS}),
        ("incb_reviewer", set()),
    ],
)
def test_the_timeline_export_redacts_what_the_reader_may_not_see_and_keeps_the_chain(client, cast, user, hidden_kinds):
    notification = _shared_and_followed_up(cast)
    login(client, getattr(cast, user))
    body = client.get(reverse("notifications:timeline_export", args=[notification.reference])).json()
    kinds = dict(notification.events.values_list("id", "kind"))
    redacted = {e["id"] for e in body["events"] if e.get("redacted")}
    assert redacted == {pk for pk, kind in kinds.items() if kind in hidden_kinds}
    for event in body["events"]:
        if event.get("redacted"):
            assert set(event) == {"id", "redacted", "previous", "hash"}
    assert FOLLOW_UP_NOTE not in json.dumps(body) or user == "incb_reviewer"
    # Nothing removed or reordered: each link's previous is the hash before it.
    hashes = [e["hash"] for e in body["events"]]
    assert [e["previous"] for e in body["events"]][1:] == hashes[:-1] and body["head"] == hashes[-1]
