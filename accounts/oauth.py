"""OAuth 2.0 client credentials for national licensing systems (django-oauth-toolkit).

A token is issued to an ``oauth2_provider.Application``; ``ApiClient`` binds it to one
authority, its scopes, and a machine user, so the API's permission and visibility rules
are the ones people are held to."""

import base64
import binascii
import hashlib

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.scopes import BaseScopes
from oauth2_provider.views import TokenView

from .models import ApiClient

INCB_SCOPES = ("notifications:read", "statistics:read", "incidents:read", "estimates:write")
# What INCB alone maintains (the estimates, the special surveillance list).
INCB_ONLY_SCOPES = ("estimates:write",)


def scopes_authority_may_hold(authority) -> list[str]:
    if authority.is_incb:
        return list(INCB_SCOPES)
    return [scope for scope in settings.API_SCOPES if scope not in INCB_ONLY_SCOPES]


class ApiClientScopes(BaseScopes):
    """A client may request only the scopes recorded on its ApiClient row."""

    def get_all_scopes(self):
        return dict(settings.API_SCOPES)

    def _client_scopes(self, application):
        client = ApiClient.objects.filter(application=application, revoked_at__isnull=True).first()
        return client.scope_list if client else []

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        return self._client_scopes(application) if application is not None else []

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return self.get_available_scopes(application, request)


class ApiClientAuthentication(OAuth2Authentication):
    """Bearer tokens act as the client's machine user; a revoked client's tokens fail."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        _user, token = result
        client = (
            ApiClient.objects.select_related("service_user__authority", "authority")
            .filter(application_id=token.application_id, revoked_at__isnull=True)
            .first()
        )
        if client is None or not client.service_user.is_active:
            return None
        return client.service_user, token


class ThrottledTokenView(TokenView):
    """The token endpoint, with a bound on failed requests per client id and address: a
    client secret cannot be guessed at the speed of the network. Successful requests are
    not counted; past TOKEN_FAILURE_LIMIT failures in TOKEN_FAILURE_WINDOW_SECONDS the
    endpoint answers 429 (with Retry-After) until the window has passed. Keyed by address
    too, so that guessing from one place does not lock the real system out elsewhere.
    The address is the one django-axes uses for sign-in lockout (one definition)."""

    def post(self, request, *args, **kwargs):
        key = self._key(request)
        window = settings.TOKEN_FAILURE_WINDOW_SECONDS
        if cache.get(key, 0) >= settings.TOKEN_FAILURE_LIMIT:
            response = JsonResponse(
                {
                    "error": "invalid_request",
                    "error_description": "Too many failed token requests; try again later.",
                },
                status=429,
            )
            response["Retry-After"] = str(window)
            return response
        response = super().post(request, *args, **kwargs)
        if response.status_code in (400, 401):
            # add() starts the window at the first failure; incr() counts within it.
            if not cache.add(key, 1, timeout=window):
                try:
                    cache.incr(key)
                except ValueError:  # expired between the two calls
                    cache.add(key, 1, timeout=window)
        return response

    @staticmethod
    def _key(request) -> str:
        client_id = request.POST.get("client_id", "")
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("basic "):
            try:
                client_id = base64.b64decode(header[6:]).decode("utf-8", "replace").split(":", 1)[0]
            except (ValueError, binascii.Error):
                client_id = "?"
        digest = hashlib.sha256(f"{client_id}|{get_client_ip_address(request)}".encode()).hexdigest()
        return f"token-failures:{digest}"
