"""Two-factor authentication is required of every human user when PEN_REQUIRE_2FA is on
(the production default). Until a user has verified a TOTP device in this session, the
only pages open to them are the ones to set one up, verify it, and log out."""

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

OPEN_PREFIXES = ("/static/", "/oauth/", "/api/")


class RequireTwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.PEN_REQUIRE_2FA and self._needs_verification(request):
            allowed = {
                reverse("accounts:two_factor_setup"),
                reverse("accounts:two_factor_verify"),
                reverse("accounts:logout"),
            }
            if request.path not in allowed:
                return redirect("accounts:two_factor_verify")
        return self.get_response(request)

    @staticmethod
    def _needs_verification(request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or getattr(user, "is_machine", False):
            return False
        if request.path.startswith(OPEN_PREFIXES):
            # The API authenticates sessions too; an unverified session there is refused
            # by the API's own permission check (accounts.permissions).
            return False
        return not user.is_verified()
