"""The write path for users, invitations and machine clients.

Every function takes the acting user and checks that they administer the authority in
question, so the web pages, the admin actions and the commands cannot differ."""

import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider.models import AccessToken, Application

from web.dates import for_people

from .models import ApiClient, Invitation, LoginSession, RecoveryCode, Role, SecurityEvent, User, hash_token, roles_for
from .oauth import scopes_authority_may_hold


def _require_admin_of(actor: User, authority) -> None:
    """Only an active administrator of this very authority may manage its members."""
    if authority is None or not (actor.is_authority_admin and actor.authority_id == authority.pk):
        raise PermissionDenied(_("You may only manage users of your own authority."))


def _check_role(authority, role: str) -> None:
    if role not in roles_for(authority):
        raise ValidationError({"role": _("This role does not exist for this authority.")})


@transaction.atomic
def invite_user(*, actor: User, email: str, role: str, now) -> tuple[Invitation, str]:
    """Invite ``email`` to the actor's authority; returns the invitation and the raw token
    (sent by e-mail only; the database keeps its hash).

    The answer never depends on whether the address already has an account, here or in
    any other authority: the administrator sees the same "sent" and the same pending
    invitation either way. Users are officers of other governments' authorities and INCB
    staff; telling an administrator of one authority that an address is a user elsewhere
    would let anyone with that role find out, address by address, who works for which
    authority (account enumeration). So, as a serious system does with a password reset,
    the answer is neutral and only the owner of the address learns the rest: an address
    with an account gets an e-mail saying so, without a link (one address is one account;
    accept_invitation refuses a second one anyway), and the invitation stays pending,
    unusable, until it expires or is revoked."""
    authority = actor.authority
    _require_admin_of(actor, authority)
    _check_role(authority, role)
    return _issue_invitation(actor=actor, email=email.strip().lower(), role=role, now=now)


def _issue_invitation(*, actor: User, email: str, role: str, now, replaces: Invitation | None = None):
    """A new invitation row with a fresh token, and its e-mail sent after the commit."""
    authority = actor.authority
    has_account = User.objects.filter(email__iexact=email).exists()
    raw = Invitation.new_token()
    invitation = Invitation.objects.create(
        authority=authority,
        email=email,
        role=role,
        token_hash=hash_token(raw),
        invited_by=actor,
        expires_at=now + settings.INVITATION_VALID_FOR,
        replaces=replaces,
    )
    if has_account:
        body = _(
            "%(inviter)s invited this e-mail address to act for %(authority)s on the PEN Portal.\n\n"
            "This address already has an account on the PEN Portal, and one address can have only one. "
            "No second account is made: log in with the account you have. If you are to act for "
            "%(authority)s instead, tell %(inviter)s.\n\n"
            "If you did not expect this message, you need not do anything.\n"
        ) % {"inviter": actor, "authority": authority.name}
    else:
        link = settings.SITE_URL + reverse("accounts:accept_invitation", args=[raw])
        body = _(
            "%(inviter)s invited you to act for %(authority)s on the PEN Portal as %(role)s.\n\n"
            "Choose your user name and password here (the link works once, for %(days)d days):\n%(link)s\n"
        ) % {
            "inviter": actor,
            "authority": authority.name,
            "role": Role(role).label,
            "days": settings.INVITATION_VALID_FOR.days,
            "link": link,
        }
    transaction.on_commit(
        lambda: send_mail(_("Your invitation to the PEN Portal"), body, None, [email], fail_silently=False)
    )
    return invitation, raw


def _revoke_pending(*, actor: User, invitation: Invitation, now) -> None:
    """Claim a pending invitation for revocation: a conditional UPDATE on "not accepted,
    not revoked", so that a link being accepted at this very moment either wins (and the
    administrator is told) or no longer works, never both."""
    _require_admin_of(actor, invitation.authority)
    claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=actor
    )
    if claimed != 1:
        invitation.refresh_from_db()
        if invitation.accepted_at is not None:
            raise ValidationError(_("This invitation has been accepted already: the person has an account now."))
        raise ValidationError(_("This invitation was cancelled or sent again already."))
    invitation.refresh_from_db()


@transaction.atomic
def resend_invitation(*, actor: User, invitation: Invitation, now) -> tuple[Invitation, str]:
    """Send a pending (or expired) invitation again: a new invitation with a fresh link,
    valid for the full period again, replacing the old one, whose link stops working at
    once (a link forwarded or mistyped stays useless). The old row keeps who revoked it and
    when, the new one who sent it: the record of both sendings. Same address, same role,
    and the same neutral e-mail as ``invite_user``."""
    _revoke_pending(actor=actor, invitation=invitation, now=now)
    _check_role(invitation.authority, invitation.role)
    return _issue_invitation(actor=actor, email=invitation.email, role=invitation.role, now=now, replaces=invitation)


@transaction.atomic
def cancel_invitation(*, actor: User, invitation: Invitation, now) -> Invitation:
    """Withdraw an invitation not yet accepted: its link then shows the invalid-invitation
    page, like a used or expired one. Recorded with who cancelled it and when."""
    _revoke_pending(actor=actor, invitation=invitation, now=now)
    return invitation


def find_invitation(raw_token: str, *, now) -> Invitation | None:
    invitation = Invitation.objects.select_related("authority").filter(token_hash=hash_token(raw_token)).first()
    if invitation is None or not invitation.is_usable(now):
        return None
    return invitation


@transaction.atomic
def accept_invitation(*, raw_token: str, username: str, password: str, first_name: str, last_name: str, now) -> User:
    # The conditional update claims the invitation, so a link used twice at once makes one user.
    invitation = find_invitation(raw_token, now=now)
    if invitation is None:
        raise ValidationError(_("This invitation link is not valid any more. Ask your administrator for a new one."))
    claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(accepted_at=now)
    if claimed != 1:
        raise ValidationError(_("This invitation has already been used."))
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This user name is taken.")})
    # Someone may have been given an account with this address since the invitation was sent.
    if User.objects.filter(email__iexact=invitation.email).exists():
        raise ValidationError(_("A user with this e-mail address already exists. Ask your administrator."))
    user = User(
        username=username,
        email=invitation.email,
        first_name=first_name,
        last_name=last_name,
        authority=invitation.authority,
        role=invitation.role,
    )
    user.set_password(password)
    user.save()
    Invitation.objects.filter(pk=invitation.pk).update(accepted_user=user)
    return user


@transaction.atomic
def change_role(*, actor: User, user: User, role: str) -> User:
    _require_admin_of(actor, user.authority)
    _check_role(user.authority, role)
    if user.pk == actor.pk and role != Role.ADMINISTRATOR:
        raise ValidationError(_("You cannot remove your own administrator role; ask another administrator."))
    user.role = role
    user.save(update_fields=["role"])
    return user


def end_sessions(user: User) -> int:
    keys = list(LoginSession.objects.filter(user=user).values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    deleted, _counts = LoginSession.objects.filter(user=user).delete()
    return deleted


def remember_renewed_session(*, user: User, old_key: str | None, new_key: str | None) -> None:
    """Follow a session whose key was renewed without a new login (a password change
    cycles the key), so that ``end_sessions`` still finds it."""
    if not new_key:
        return
    if old_key:
        LoginSession.objects.filter(session_key=old_key).delete()
    LoginSession.objects.get_or_create(session_key=new_key, defaults={"user": user})


@transaction.atomic
def deactivate_user(*, actor: User, user: User) -> User:
    _require_admin_of(actor, user.authority)
    if user.pk == actor.pk:
        raise ValidationError(_("You cannot deactivate yourself."))
    user.is_active = False
    user.save(update_fields=["is_active"])
    end_sessions(user)
    return user


@transaction.atomic
def reactivate_user(*, actor: User, user: User) -> User:
    _require_admin_of(actor, user.authority)
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user


def begin_totp_enrolment(*, user: User) -> TOTPDevice:
    """The authenticator the user is setting up: an unconfirmed TOTP device, reused while
    the setup page is reloaded so the QR code stays the same."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)
    return device


@transaction.atomic
def confirm_totp_enrolment(*, user: User, device: TOTPDevice, token: str) -> TOTPDevice | None:
    """Confirm the device with a code from the app; it then replaces any earlier one
    (one authenticator per person) and its recovery codes are voided (see
    ``issue_first_recovery_codes``). Returns None for a wrong (or throttled) code."""
    device = TOTPDevice.objects.select_for_update().filter(pk=device.pk, user=user, confirmed=False).first()
    if device is None or not device.verify_token(token):
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    # The old authenticator's recovery codes go with it; the new ones are issued on the next page.
    RecoveryCode.objects.filter(user=user).delete()
    return device


RECOVERY_CODE_COUNT = 10


@dataclass(frozen=True)
class RecoveryAttempt:
    """What came of a recovery code: the device the session is now verified with (None if
    refused), how many unused codes are left, and whether it was refused for too many wrong
    codes (then the code was not even looked at)."""

    device: TOTPDevice | None
    remaining: int
    throttled: bool = False


def _unused_recovery_codes(user: User):
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True)


def remaining_recovery_codes(user: User) -> int:
    return _unused_recovery_codes(user).count()


@transaction.atomic
def issue_recovery_codes(*, user: User, now, actor: User | None = None) -> list[str]:
    """Replace the user's recovery codes with new ones; returns them, the only time they
    exist in plain text (the database keeps salted, keyed hashes)."""
    RecoveryCode.objects.filter(user=user).delete()
    codes = [RecoveryCode.new_code() for _i in range(RECOVERY_CODE_COUNT)]
    rows = []
    for code in codes:
        salt = secrets.token_hex(16)
        rows.append(RecoveryCode(user=user, salt=salt, code_hash=RecoveryCode.hash_code(code, salt), created_at=now))
    RecoveryCode.objects.bulk_create(rows)
    SecurityEvent.objects.create(user=user, actor=actor or user, kind=SecurityEvent.Kind.RECOVERY_CODES_ISSUED, at=now)
    return codes


@transaction.atomic
def issue_first_recovery_codes(*, user: User, now) -> list[str] | None:
    """The codes owed to a person who has just confirmed an authenticator (which removed the
    old authenticator's codes), or who had none yet: issued once, on the page after the
    confirmation. None when they already have codes, so reloading that page shows nothing
    again. The device row is locked, so two loads at once issue one set."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk").first()
    if device is None or RecoveryCode.objects.filter(user=user).exists():
        return None
    return issue_recovery_codes(user=user, now=now)


@transaction.atomic
def use_recovery_code(*, user: User, code: str, now) -> RecoveryAttempt:
    """Verify the second factor with a recovery code instead of the authenticator.

    Wrong codes count on the authenticator's own django-otp throttle (the same counter and
    growing wait as wrong six-digit codes), so a recovery code is no way round the lockout.
    The device row is locked for the attempt, and the code is claimed by a conditional
    UPDATE on its unused row: two requests with one code cannot both succeed."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk").first()
    if device is None:
        return RecoveryAttempt(device=None, remaining=0)
    allowed, _info = device.verify_is_allowed()
    if not allowed:
        return RecoveryAttempt(device=None, remaining=remaining_recovery_codes(user), throttled=True)
    for candidate in _unused_recovery_codes(user):
        if candidate.matches(code):
            claimed = RecoveryCode.objects.filter(pk=candidate.pk, used_at__isnull=True).update(used_at=now)
            if claimed == 1:
                device.throttle_reset()
                SecurityEvent.objects.create(user=user, actor=user, kind=SecurityEvent.Kind.RECOVERY_CODE_USED, at=now)
                return RecoveryAttempt(device=device, remaining=remaining_recovery_codes(user))
            break
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=F("throttling_failure_count") + 1, throttling_failure_timestamp=now
    )
    return RecoveryAttempt(device=None, remaining=remaining_recovery_codes(user))


@transaction.atomic
def regenerate_recovery_codes(*, user: User, token: str, now) -> list[str] | None:
    """New recovery codes (the old ones stop working) after a current code from the
    authenticator; None for a wrong or throttled code (django-otp counts it)."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk").first()
    if device is None or not device.verify_token(token):
        return None
    return issue_recovery_codes(user=user, now=now)


@transaction.atomic
def reset_two_factor(*, actor: User, user: User, now) -> SecurityEvent:
    """An administrator's reset of a member's lost authenticator: every device and recovery
    code goes, every session ends, and the member sets up a new authenticator at the next
    login. Recorded, and the member is told by e-mail. Nobody resets their own: someone
    who holds only a password could otherwise drop the second factor."""
    _require_admin_of(actor, user.authority)
    if user.pk == actor.pk:
        raise ValidationError(
            _("You cannot reset your own two-factor sign-in. Ask another administrator of your authority or INCB.")
        )
    for device in devices_for_user(user, confirmed=None):
        device.delete()
    RecoveryCode.objects.filter(user=user).delete()
    end_sessions(user)
    event = SecurityEvent.objects.create(
        user=user,
        actor=actor,
        kind=SecurityEvent.Kind.TWO_FACTOR_RESET,
        at=now,
        detail=_("Reset by %(actor)s (%(authority)s)") % {"actor": actor, "authority": actor.authority.name},
    )
    if user.email:
        body = _(
            "%(actor)s, an administrator of %(authority)s, reset your two-factor sign-in to the PEN Portal "
            "on %(when)s.\n\n"
            "Your authenticator app and your recovery codes no longer work, and you have been logged out. "
            "At your next login, after your password, you will set up an authenticator app again and receive "
            "new recovery codes.\n\n"
            "If you did not ask for this, tell %(actor)s or the INCB secretariat at once.\n"
        ) % {"actor": actor, "authority": actor.authority.name, "when": for_people(now)}
        address = user.email
        transaction.on_commit(
            lambda: send_mail(
                _("Your two-factor sign-in to the PEN Portal was reset"), body, None, [address], fail_silently=False
            )
        )
    return event


@transaction.atomic
def create_api_client(*, authority, name: str, scopes: list[str] | None = None, actor: User | None = None):
    """Create a licensing system's client; returns (client, client_id, plain secret).

    The secret is returned once: the toolkit stores only its hash. ``scopes`` None (the
    command without ``--scopes``) grants every scope the authority may hold; an empty list
    is refused, never read as "all" (the page's form sends one when nothing is ticked)."""
    if actor is not None:
        _require_admin_of(actor, authority)
    allowed = scopes_authority_may_hold(authority)
    if scopes is not None and not list(scopes):
        raise ValidationError(
            {"scopes": _("Choose at least one scope: what the system may do. A client without one could do nothing.")}
        )
    scopes = list(scopes) if scopes is not None else allowed
    unknown = [s for s in scopes if s not in allowed]
    if unknown:
        raise ValidationError({"scopes": _("Scopes not available to this authority: %s") % ", ".join(unknown)})
    if not name.strip():
        raise ValidationError({"name": _("Give the client a name.")})
    secret = secrets.token_urlsafe(40)
    service_user = User(
        username=f"client-{authority.code}-{secrets.token_hex(4)}",
        authority=authority,
        role=Role.OFFICER if not authority.is_incb else Role.REVIEWER,
        is_machine=True,
    )
    service_user.set_unusable_password()
    service_user.save()
    application = Application.objects.create(
        name=f"{authority.code}: {name}",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        user=None,
    )
    client = ApiClient.objects.create(
        application=application,
        authority=authority,
        service_user=service_user,
        name=name.strip(),
        scopes=" ".join(scopes),
        created_by=actor,
    )
    return client, application.client_id, secret


@transaction.atomic
def revoke_api_client(*, client: ApiClient, now, actor: User | None = None) -> ApiClient:
    if actor is not None:
        _require_admin_of(actor, client.authority)
    ApiClient.objects.filter(pk=client.pk, revoked_at__isnull=True).update(revoked_at=now)
    AccessToken.objects.filter(application_id=client.application_id).delete()
    # Replace the secret with one nobody knows (only its hash is stored), so the token
    # endpoint refuses the client outright instead of issuing tokens that then fail.
    application = client.application
    application.client_secret = secrets.token_urlsafe(40)
    application.save(update_fields=["client_secret"])
    User.objects.filter(pk=client.service_user_id).update(is_active=False)
    client.refresh_from_db()
    return client
