"""OpenAPI (drf-spectacular) description of the API's authentication: the OAuth 2.0
client-credentials scheme of accounts.oauth.ApiClientAuthentication, with the scopes each
operation needs (the view's ``required_scopes``). Imported by api.apps when Django
starts, so the extension is registered before the schema is generated."""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiClientAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.oauth.ApiClientAuthentication"
    name = "oauth2"
    # Above accounts.oauth's description of the same class, whose requirement (inherited
    # from the toolkit's extension) looks for TokenHasScope and so names no scope at all.
    priority = 1

    def get_security_requirement(self, auto_schema):
        view = auto_schema.view
        required = getattr(view, "required_scopes", None)
        if isinstance(required, dict):
            required = required.get(getattr(view, "action", None), required.get("default", []))
        return {self.name: list(required or [])}

    def get_security_definition(self, auto_schema):
        return {
            "type": "oauth2",
            "description": (
                "OAuth 2.0 client credentials. A licensing system's client belongs to one authority. "
                "POST /oauth/token/ with grant_type=client_credentials and the client id and secret by HTTP "
                "Basic; send the access token as `Authorization: Bearer <token>`. Tokens are short-lived: "
                "ask for a new one when a request answers 401."
            ),
            "flows": {
                "clientCredentials": {
                    "tokenUrl": "/oauth/token/",
                    "scopes": dict(settings.API_SCOPES),
                }
            },
        }
