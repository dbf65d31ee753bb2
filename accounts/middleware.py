"""Two-factor authentication (django-otp TOTP).

A person must verify a TOTP code in each session when PEN_REQUIRE_2FA is on (the
production default), and also whenever they have set up a device, even in the demo.
Until then the only pages open to them are those to set one up, verify it (with the app's
code or a recovery code), and log out; the API refuses such a session with 403 (machine
clients use bearer tokens instead)."""

from urllib.parse import urlencode

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import user_has_device

OPEN_PREFIXES = ("/static/", "/oauth/")


class RequireTwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._needs_verification(request):
            allowed = {
                reverse("accounts:two_factor_setup"),
                reverse("accounts:two_factor_verify"),
                reverse("accounts:two_factor_recovery"),
                reverse("accounts:logout"),
            }
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "Two-factor verification is required for this session."}, status=403)
            if request.path not in allowed:
                return redirect(
                    f"{reverse('accounts:two_factor_verify')}?{urlencode({'next': request.get_full_path()})}"
                )
        return self.get_response(request)

    @staticmethod
    def _needs_verification(request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or getattr(user, "is_machine", False):
            return False
        if request.path.startswith(OPEN_PREFIXES) or user.is_verified():
            return False
        return settings.PEN_REQUIRE_2FA or user_has_device(user, confirmed=True)
