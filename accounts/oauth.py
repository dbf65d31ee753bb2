"""OAuth 2.0 client credentials for national licensing systems (django-oauth-toolkit).

A token is issued to an ``oauth2_provider.Application``; ``ApiClient`` binds it to one
authority, its scopes, and a machine user, so the API's permission and visibility rules
are the ones people are held to."""

from django.conf import settings
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.scopes import BaseScopes

from .models import ApiClient

INCB_SCOPES = ("notifications:read", "statistics:read")


def scopes_authority_may_hold(authority) -> list[str]:
    if authority.is_incb:
        return list(INCB_SCOPES)
    return list(settings.API_SCOPES)


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
