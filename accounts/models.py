"""People and machines that act for an authority."""

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OFFICER = "officer", _("Officer")
    ADMINISTRATOR = "administrator", _("Administrator")
    VIEWER = "viewer", _("Viewer")
    REVIEWER = "reviewer", _("Reviewer (INCB)")


NATIONAL_ROLES = (Role.OFFICER, Role.ADMINISTRATOR, Role.VIEWER)
INCB_ROLES = (Role.REVIEWER, Role.ADMINISTRATOR)


def roles_for(authority):
    """The roles a member of ``authority`` may hold."""
    return INCB_ROLES if authority.is_incb else NATIONAL_ROLES


class User(AbstractUser):
    """A person (or a licensing system's service identity) acting for one authority.

    Operators of the installation (``is_superuser``) may have no authority; they use the
    Django admin and never see notifications through the portal's pages."""

    email = models.EmailField(_("e-mail"), unique=True, null=True, blank=True)
    authority = models.ForeignKey(
        "authorities.Authority",
        verbose_name=_("authority"),
        on_delete=models.PROTECT,
        related_name="members",
        null=True,
        blank=True,
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.VIEWER)
    # The identity a machine client (OAuth2 client credentials) acts as: never logs in.
    is_machine = models.BooleanField(_("machine client"), default=False, editable=False)

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=Q(authority__isnull=False) | Q(is_superuser=True),
                name="user_has_authority_unless_operator",
            ),
        ]

    def __str__(self):
        return self.get_full_name() or self.username

    @property
    def is_incb(self) -> bool:
        return self.authority_id is not None and self.authority.is_incb

    @property
    def is_authority_admin(self) -> bool:
        return self.authority_id is not None and self.role == Role.ADMINISTRATOR and self.is_active

    @property
    def can_act(self) -> bool:
        """Officers (and administrators) of a national authority may file and reply."""
        return (
            self.is_active
            and self.authority_id is not None
            and not self.authority.is_incb
            and self.role in (Role.OFFICER, Role.ADMINISTRATOR)
        )


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class Invitation(models.Model):
    """A one-time link by which an authority administrator invites a colleague.

    Only the SHA-256 of the token is stored, so a database leak yields no usable link."""

    authority = models.ForeignKey("authorities.Authority", on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Who cancelled the link (or replaced it by sending a new one), beside when: the record
    # an administrator or operator reads when asked "why does my invitation not work?".
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Sending an invitation again makes a new one with a fresh link; the old one, revoked,
    # stays as the record of the first sending.
    replaces = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replaced_by", editable=False
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} → {self.authority}"

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)

    def is_usable(self, now) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now


class ApiClient(models.Model):
    """A national licensing system's OAuth 2.0 client (client credentials), bound to one
    authority, with the scopes it may request. It acts as its own machine user, so that
    visibility and permissions are decided by the same rules as for people."""

    application = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.CASCADE, related_name="api_client"
    )
    authority = models.ForeignKey("authorities.Authority", on_delete=models.PROTECT, related_name="api_clients")
    service_user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client")
    name = models.CharField(_("name"), max_length=100)
    scopes = models.CharField(_("scopes"), max_length=300, help_text=_("Space-separated OAuth scopes."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return f"{self.name} ({self.authority.code})"

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class LoginSession(models.Model):
    """Which sessions belong to which user, so deactivating a user can end them all
    (Django's session table is not indexed by user)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="login_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.user} session"


RECOVERY_CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/i/l: read off paper without doubt
RECOVERY_CODE_LENGTH = 10


def normalize_recovery_code(raw: str) -> str:
    """A code as typed (any case, with spaces or the hyphen) in the form it is hashed in."""
    return "".join(ch for ch in raw.lower() if ch.isalnum())


class RecoveryCode(models.Model):
    """A single-use code that stands in for the authenticator when it is lost.

    Only ``HMAC-SHA256(key derived from SECRET_KEY, salt + code)`` is stored, with a random
    salt per code. Not Django's password hashers: a code is 10 random characters (about 50
    bits), not a guessable password, so a slow hash buys little, while checking a typed code
    means trying each of a person's ten rows: ten PBKDF2 runs per attempt would make each
    attempt cost seconds of CPU (a denial of service) for no gain. The key means a copy of
    the database alone yields nothing to guess against; the salt means each code must be
    attacked on its own. Online guessing is what django-otp's throttling stops."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes")
    salt = models.CharField(max_length=32, editable=False)
    code_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.user} recovery code"

    @staticmethod
    def new_code() -> str:
        """A new code in the form it is shown: ``abcde-fghij``."""
        raw = "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _i in range(RECOVERY_CODE_LENGTH))
        return f"{raw[:5]}-{raw[5:]}"

    @staticmethod
    def hash_code(code: str, salt: str, secret: str | None = None) -> str:
        value = salt + normalize_recovery_code(code)
        return salted_hmac("accounts.RecoveryCode", value, secret=secret, algorithm="sha256").hexdigest()

    def matches(self, code: str) -> bool:
        # The current key and any fallback, so that rotating SECRET_KEY does not void the codes.
        for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
            if constant_time_compare(self.hash_code(code, self.salt, secret), self.code_hash):
                return True
        return False


class SecurityEvent(models.Model):
    """A change to how a person signs in, who made it and when: the record an operator or
    the person's administrator reads when something about a login looks wrong."""

    class Kind(models.TextChoices):
        RECOVERY_CODES_ISSUED = "recovery_codes_issued", _("Recovery codes issued")
        RECOVERY_CODE_USED = "recovery_code_used", _("Signed in with a recovery code")
        TWO_FACTOR_RESET = "two_factor_reset", _("Two-factor sign-in reset")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="security_events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=30, choices=Kind.choices)
    at = models.DateTimeField(_("at"))
    detail = models.CharField(_("detail"), max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.user}"
