"""The accounts pages: logging in with a second factor, and an authority administrator's
management of the people and machine clients of their own authority.

Thin adapters: check access, call the one service function, render. Members and clients
are only ever fetched through ``_members`` and ``_clients``, which are scoped to the
administrator's own authority, so another authority's id is a plain 404."""

import xml.etree.ElementTree as ET
from base64 import b32encode
from functools import wraps
from urllib.parse import urlencode

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import services
from .forms import (
    AcceptInvitationForm,
    ApiClientForm,
    InviteForm,
    PortalAuthenticationForm,
    PortalPasswordChangeForm,
    RecoveryCodeForm,
    RoleForm,
    TokenForm,
)
from .models import ApiClient, Invitation, User

# --- helpers ---------------------------------------------------------------------------


def _next_url(request) -> str:
    """Where to go after a step of logging in: the ``next`` parameter if it stays on
    this site, otherwise the start page."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _with_next(url_name: str, next_url: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'next': next_url})}"


def _add_errors(form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its fields where they exist."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _confirmed_totp_devices(user):
    return TOTPDevice.objects.devices_for_user(user, confirmed=True)


def authority_admin_required(view):
    """Only an active administrator of an authority; everyone else gets 403 before any
    lookup, so the answer reveals nothing about other authorities."""

    @wraps(view)
    @login_required
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authority_admin:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _members(request):
    """The people of the administrator's own authority (machine users belong to clients)."""
    return User.objects.filter(authority_id=request.user.authority_id, is_machine=False)


def _clients(request):
    return ApiClient.objects.filter(authority_id=request.user.authority_id).select_related("application", "created_by")


# --- logging in ------------------------------------------------------------------------


class PortalLoginView(auth_views.LoginView):
    """Password first; then the second factor when the user has one (or must have one)."""

    template_name = "accounts/login.html"
    authentication_form = PortalAuthenticationForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = self.request.user
        if _confirmed_totp_devices(user).exists():
            return redirect(_with_next("accounts:two_factor_verify", self.get_success_url()))
        if settings.PEN_REQUIRE_2FA:
            return redirect(_with_next("accounts:two_factor_setup", self.get_success_url()))
        return response


class PortalPasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = PortalPasswordChangeForm

    def form_valid(self, form):
        old_key = self.request.session.session_key
        # Django renews the session key here (update_session_auth_hash) without a login.
        response = super().form_valid(form)
        services.remember_renewed_session(
            user=self.request.user, old_key=old_key, new_key=self.request.session.session_key
        )
        return response


def _qr_code_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code (no image request, no third party)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=4)
    svg = image.get_image()
    svg.set("width", "220")
    svg.set("height", "220")
    svg.set("role", "img")
    svg.set("aria-label", _("QR code for your authenticator app"))
    return mark_safe(ET.tostring(svg, encoding="unicode"))  # noqa: S308 (generated by qrcode, no user text)


def _readable_secret(device: TOTPDevice) -> str:
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    user = request.user
    next_url = _next_url(request)
    if _confirmed_totp_devices(user).exists() and not user.is_verified():
        # Whoever holds only the password may not replace the second factor.
        return redirect(_with_next("accounts:two_factor_verify", next_url))
    device = services.begin_totp_enrolment(user=user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        confirmed = services.confirm_totp_enrolment(user=user, device=device, token=form.cleaned_data["token"])
        if confirmed is not None:
            django_otp.login(request, confirmed)
            messages.success(request, _("Two-factor authentication is on. You will be asked for a code at each login."))
            return redirect(_with_next("accounts:two_factor_recovery_codes_new", next_url))
        form.add_error("token", _wrong_code_message(device))
    context = {
        "form": form,
        "next": next_url,
        "qr_svg": _qr_code_svg(device.config_url),
        "secret": _readable_secret(device),
        "replacing": _confirmed_totp_devices(user).exists(),
    }
    return render(request, "accounts/two_factor_setup.html", context)


def _wrong_code_message(device: TOTPDevice) -> str:
    device.refresh_from_db()
    allowed, _info = device.verify_is_allowed()
    if not allowed:
        return _("Too many wrong codes. Wait a minute, then enter the newest code.")
    return _("That code is not right. Enter the newest code, and check that your phone shows the right time.")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    user = request.user
    next_url = _next_url(request)
    if user.is_verified():
        return redirect(next_url)
    devices = list(_confirmed_totp_devices(user))
    if not devices:
        if settings.PEN_REQUIRE_2FA:
            return redirect(_with_next("accounts:two_factor_setup", next_url))
        return redirect(next_url)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in devices:
            verified = django_otp.verify_token(user, device.persistent_id, form.cleaned_data["token"])
            if verified is not None:
                django_otp.login(request, verified)
                return redirect(next_url)
        form.add_error("token", _wrong_code_message(devices[0]))
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": next_url})


def _show_recovery_codes(request, codes: list[str], next_url: str):
    """The only time the codes exist outside the person's keeping: this response, never
    cached (the views calling it are ``never_cache``)."""
    return render(request, "accounts/two_factor_recovery_codes.html", {"codes": codes, "next": next_url})


@never_cache
@sensitive_post_parameters("code")
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_recovery(request):
    """The second option of the verify page: a recovery code instead of the app's code."""
    user = request.user
    next_url = _next_url(request)
    if user.is_verified():
        return redirect(next_url)
    if not _confirmed_totp_devices(user).exists():
        return redirect(_with_next("accounts:two_factor_verify", next_url))
    form = RecoveryCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        attempt = services.use_recovery_code(user=user, code=form.cleaned_data["code"], now=timezone.now())
        if attempt.device is not None:
            django_otp.login(request, attempt.device)
            left = ngettext("%(count)d recovery code left.", "%(count)d recovery codes left.", attempt.remaining) % {
                "count": attempt.remaining
            }
            messages.warning(
                request,
                _(
                    "You signed in with a recovery code, which now no longer works: %(left)s If your phone is lost, "
                    "set up a new authenticator app; you will get new recovery codes with it."
                )
                % {"left": left},
            )
            return redirect(next_url)
        if attempt.throttled:
            form.add_error("code", _("Too many wrong codes. Wait a minute, then try again."))
        else:
            form.add_error("code", _("That recovery code is not right, or it has been used already."))
    return render(request, "accounts/two_factor_recovery.html", {"form": form, "next": next_url})


@never_cache
@login_required
@require_http_methods(["GET"])
def two_factor_recovery_codes_new(request):
    """The page after confirming an authenticator: its recovery codes, issued and shown once."""
    user = request.user
    next_url = _next_url(request)
    if not _confirmed_totp_devices(user).exists():
        return redirect(_with_next("accounts:two_factor_setup", next_url))
    if not user.is_verified():
        return redirect(_with_next("accounts:two_factor_verify", next_url))
    codes = services.issue_first_recovery_codes(user=user, now=timezone.now())
    if codes is None:
        messages.info(request, _("Your recovery codes were shown once already. If you need new ones, make a new set."))
        return redirect("accounts:two_factor_recovery_codes")
    return _show_recovery_codes(request, codes, next_url)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def two_factor_recovery_codes(request):
    """New recovery codes, after a current code from the authenticator app."""
    user = request.user
    devices = list(_confirmed_totp_devices(user))
    if not devices:
        return redirect("accounts:two_factor_setup")
    if not user.is_verified():
        return redirect(_with_next("accounts:two_factor_verify", request.get_full_path()))
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = services.regenerate_recovery_codes(user=user, token=form.cleaned_data["token"], now=timezone.now())
        if codes is not None:
            return _show_recovery_codes(request, codes, resolve_url(settings.LOGIN_REDIRECT_URL))
        form.add_error("token", _wrong_code_message(devices[0]))
    context = {"form": form, "remaining": services.remaining_recovery_codes(user)}
    return render(request, "accounts/two_factor_regenerate.html", context)


# --- invitations -----------------------------------------------------------------------


@never_cache
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def accept_invitation(request, token):
    now = timezone.now()
    invitation = services.find_invitation(token, now=now)
    if invitation is None:
        # Unknown, used, revoked and expired links look the same.
        return render(request, "accounts/invitation_invalid.html", status=404)
    form = AcceptInvitationForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.accept_invitation(
                raw_token=token,
                username=data["username"],
                password=data["password1"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                now=now,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("Welcome to the PEN Portal. Your account is ready."))
            return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation})


# --- the members of my authority ---------------------------------------------------------


def _invitations(request):
    """The invitations of the administrator's own authority (another's id is a plain 404).
    One already accepted or cancelled is still found, so that a second click from a page
    left open is told what happened rather than shown "not found"."""
    return Invitation.objects.filter(authority_id=request.user.authority_id).select_related("invited_by", "authority")


def _pending_invitations(request):
    """Those still waiting for their person."""
    return _invitations(request).filter(
        accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


@authority_admin_required
def user_list(request):
    members = _members(request).order_by("-is_active", "last_name", "first_name", "username")
    pending = _pending_invitations(request)
    return render(request, "accounts/user_list.html", {"members": members, "pending": pending})


@authority_admin_required
@require_http_methods(["POST"])
def invitation_resend(request, pk):
    """A button, not a page: it sends a fresh link at once (the old one stops working)."""
    invitation = get_object_or_404(_invitations(request), pk=pk)
    try:
        services.resend_invitation(actor=request.user, invitation=invitation, now=timezone.now())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("A new invitation was sent to %(email)s. The link sent before no longer works.")
            % {"email": invitation.email},
        )
    return redirect("accounts:users")


@authority_admin_required
@require_http_methods(["GET", "POST"])
def invitation_cancel(request, pk):
    # Cancelling cannot be undone (the link is dead for good): a second, explicit step.
    invitation = get_object_or_404(_invitations(request), pk=pk)
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        messages.info(request, _("This invitation is not pending any more: it was accepted, cancelled or sent again."))
        return redirect("accounts:users")
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            services.cancel_invitation(actor=request.user, invitation=invitation, now=timezone.now())
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("The invitation to %(email)s is cancelled; its link no longer works.") % {"email": invitation.email},
            )
        return redirect("accounts:users")
    return render(request, "accounts/invitation_cancel.html", {"invitation": invitation})


@authority_admin_required
@require_http_methods(["GET", "POST"])
def invite(request):
    authority = request.user.authority
    form = InviteForm(request.POST or None, authority=authority)
    if request.method == "POST" and form.is_valid():
        try:
            services.invite_user(
                actor=request.user, email=form.cleaned_data["email"], role=form.cleaned_data["role"], now=timezone.now()
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("An invitation was sent to %(email)s.") % {"email": form.cleaned_data["email"]})
            return redirect("accounts:users")
    return render(request, "accounts/user_invite.html", {"form": form})


@authority_admin_required
@require_http_methods(["GET", "POST"])
def user_edit(request, pk):
    member = get_object_or_404(_members(request), pk=pk)
    authority = request.user.authority
    role_form = RoleForm(authority=authority, initial={"role": member.role})
    errors = []
    if request.method == "GET" and request.GET.get("confirm") == "deactivate" and member.is_active:
        return render(request, "accounts/user_deactivate.html", {"member": member})
    if request.method == "GET" and request.GET.get("confirm") == "reset_two_factor" and member.pk != request.user.pk:
        return render(request, "accounts/user_two_factor_reset.html", {"member": member})
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "role":
                role_form = RoleForm(request.POST, authority=authority)
                if role_form.is_valid():
                    services.change_role(actor=request.user, user=member, role=role_form.cleaned_data["role"])
                    messages.success(request, _("%(user)s is now %(role)s.") % _describe(member))
                    return redirect("accounts:user_edit", pk=member.pk)
            elif action == "deactivate":
                # Deactivating ends the person's sessions at once: it needs a second, explicit step.
                if request.POST.get("confirm") != "yes":
                    return render(request, "accounts/user_deactivate.html", {"member": member})
                services.deactivate_user(actor=request.user, user=member)
                messages.success(request, _("%(user)s is deactivated and has been logged out.") % _describe(member))
                return redirect("accounts:user_edit", pk=member.pk)
            elif action == "reset_two_factor":
                # Like deactivating, it ends the person's sessions and cannot be undone: a second step.
                if request.POST.get("confirm") != "yes":
                    return render(request, "accounts/user_two_factor_reset.html", {"member": member})
                services.reset_two_factor(actor=request.user, user=member, now=timezone.now())
                messages.success(
                    request,
                    _(
                        "%(user)s's two-factor sign-in is reset: they have been logged out, told by e-mail, "
                        "and will set up a new authenticator at their next login."
                    )
                    % _describe(member),
                )
                return redirect("accounts:user_edit", pk=member.pk)
            elif action == "reactivate":
                services.reactivate_user(actor=request.user, user=member)
                messages.success(request, _("%(user)s can log in again.") % _describe(member))
                return redirect("accounts:user_edit", pk=member.pk)
            else:
                errors.append(_("Choose what to do."))
        except ValidationError as error:
            if action == "role":
                _add_errors(role_form, error)
            else:
                errors.extend(error.messages)
        member.refresh_from_db()
    context = {
        "member": member,
        "role_form": role_form,
        "errors": errors,
        "is_self": member.pk == request.user.pk,
        "has_two_factor": user_has_device(member, confirmed=True),
    }
    return render(request, "accounts/user_edit.html", context, status=400 if errors else 200)


def _describe(member: User) -> dict:
    return {"user": member, "role": member.get_role_display()}


# --- machine clients -------------------------------------------------------------------------


@authority_admin_required
def client_list(request):
    return render(request, "accounts/client_list.html", {"clients": _clients(request)})


@never_cache
@authority_admin_required
@require_http_methods(["GET", "POST"])
def client_create(request):
    authority = request.user.authority
    form = ApiClientForm(request.POST or None, authority=authority)
    if request.method == "POST" and form.is_valid():
        try:
            client, client_id, secret = services.create_api_client(
                authority=authority,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                actor=request.user,
            )
        except ValidationError as error:
            _add_errors(form, error)
        else:
            # The only time the secret exists outside the client: this response, never cached.
            context = {"client": client, "client_id": client_id, "client_secret": secret}
            return render(request, "accounts/client_created.html", context)
    return render(request, "accounts/client_form.html", {"form": form})


@authority_admin_required
@require_http_methods(["GET", "POST"])
def client_revoke(request, pk):
    client = get_object_or_404(_clients(request), pk=pk)
    if not client.is_active:
        messages.info(request, _("This client was already revoked."))
        return redirect("accounts:clients")
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        services.revoke_api_client(client=client, now=timezone.now(), actor=request.user)
        messages.success(request, _("%(name)s is revoked; its tokens no longer work.") % {"name": client.name})
        return redirect("accounts:clients")
    return render(request, "accounts/client_revoke.html", {"client": client})
