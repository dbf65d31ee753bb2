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


# --- what every operation shares, added once (issue 19) -----------------------------------
# The views document the errors of their own rules (400 field errors, 404, 409, 412, 422);
# these come from the framework around them and can answer any operation, so they are
# listed here rather than on each view, where one would be forgotten.
_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string", "description": "What went wrong, in words."}},
    "required": ["detail"],
}
_FIELD_ERRORS_SCHEMA = {
    "type": "object",
    "description": "Field errors: each key is a field of the body (nested fields dotted, e.g. `items.0.quantity`; "
    "`non_field_errors` for the whole body, e.g. a body that is not JSON), each value a list of messages.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before asking again."}}


def _error(description, schema=_ERROR_REF, example=None, headers=None):
    content = {"schema": schema}
    if example is not None:
        content["example"] = example
    response = {"description": description, "content": {"application/json": content}}
    if headers:
        response["headers"] = headers
    return response


COMMON_ERRORS = {
    "401": _error(
        "No credentials, or credentials that are not valid (or expired): ask /oauth/token/ for a new token.",
        example={"detail": "Authentication credentials were not provided."},
    ),
    "403": _error(
        "Your token lacks the scope, or your authority (or role) may not do this.",
        example={"detail": "You do not have permission to perform this action."},
    ),
    "406": _error(
        "The Accept header asks for something other than JSON.",
        example={"detail": "Could not satisfy the request Accept header."},
    ),
    "429": _error(
        "Too many requests from this client (API_RATE_PER_CLIENT per minute); wait Retry-After seconds.",
        example={"detail": "Request was throttled. Expected available in 12 seconds."},
        headers=_RETRY_AFTER,
    ),
}
BODY_ERRORS = {
    "400": _error(
        "The body is not valid (or not JSON); nothing was stored.",
        schema=_FIELD_ERRORS_SCHEMA,
        example={"non_field_errors": ["JSON parse error - Expecting value: line 1 column 1 (char 0)"]},
    ),
    "413": _error(
        "The body is larger than the API accepts; nothing was stored.",
        example={"detail": "The request body is larger than 2.5 MB, the most the API accepts."},
    ),
    "415": _error(
        "The body is not `application/json` (the API takes no form encodings).",
        example={"detail": 'Unsupported media type "multipart/form-data" in request.'},
    ),
}
CURSOR_ERRORS = {
    "404": _error(
        "The `cursor` is not one the API gave (follow `next` as given).", example={"detail": "Invalid cursor"}
    ),
}
PAGE_ERRORS = {"404": _error("There is no such page.", example={"detail": "Invalid page."})}
PATH_ERRORS = {
    "404": _error(
        "No such object, or one your authority may not see: the body is the same, so existence is never revealed.",
        example={"detail": "Not found."},
    )
}
QUERY_ERRORS = {
    "400": _error(
        "A query parameter or header is not valid (e.g. an unknown choice, a malformed date, an empty "
        "Idempotency-Key); each key names one.",
        schema=_FIELD_ERRORS_SCHEMA,
        example={"status": ["Select a valid choice. sent is not one of the available choices."]},
    )
}

TOKEN_ERROR = {
    "type": "object",
    "properties": {
        "error": {
            "type": "string",
            "enum": [
                "invalid_request",
                "invalid_client",
                "invalid_grant",
                "unauthorized_client",
                "unsupported_grant_type",
                "invalid_scope",
            ],
            "description": "The OAuth 2.0 error code (RFC 6749, section 5.2).",
        },
        "error_description": {"type": "string"},
    },
    "required": ["error"],
}
TOKEN_PATH = {
    "post": {
        "operationId": "oauth_token_create",
        "summary": "Get an access token",
        "description": "OAuth 2.0 client credentials (RFC 6749, section 4.4). Send the client id and secret by "
        "HTTP Basic, and the form below (this one endpoint is form-encoded, as the OAuth standard requires). "
        "Ask for the scopes the client needs, or none to get all it was granted. The token is short-lived "
        "(`expires_in` seconds): ask again when a request answers 401. Repeated failures from one client and "
        "address are refused with 429 for a while.",
        "tags": ["authentication"],
        "security": [{"clientSecretBasic": []}],
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "grant_type": {"type": "string", "enum": ["client_credentials"]},
                            "scope": {
                                "type": "string",
                                "description": "Space-separated scopes, e.g. `notifications:read notifications:write`.",
                            },
                        },
                        "required": ["grant_type"],
                    }
                }
            },
        },
        "responses": {
            "200": {
                "description": "A bearer token.",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "access_token": {"type": "string"},
                                "token_type": {"type": "string", "enum": ["Bearer"]},
                                "expires_in": {"type": "integer"},
                                "scope": {"type": "string"},
                            },
                            "required": ["access_token", "token_type", "expires_in", "scope"],
                        },
                        "example": {
                            "access_token": "q8mX0cWd2C5Xj1mJ5o2Yc3R2mD0yZk",
                            "token_type": "Bearer",
                            "expires_in": 3600,
                            "scope": "notifications:read notifications:write",
                        },
                    }
                },
            },
            "400": _error(
                "The form is not a client-credentials request, or asks for a scope the client lacks.",
                schema={"$ref": "#/components/schemas/TokenError"},
                example={"error": "invalid_scope"},
            ),
            "401": _error(
                "Unknown client, wrong secret, or a revoked client.",
                schema={"$ref": "#/components/schemas/TokenError"},
                example={"error": "invalid_client"},
            ),
            "429": _error(
                "Too many failed requests from this client and address.",
                schema={"$ref": "#/components/schemas/TokenError"},
                example={
                    "error": "invalid_request",
                    "error_description": "Too many failed token requests; try again later.",
                },
                headers=_RETRY_AFTER,
            ),
        },
    }
}

TAGS = [
    {"name": "authentication", "description": "OAuth 2.0 client credentials: the token every request carries."},
    {"name": "notifications", "description": "Pre-export notifications: file, reply, and follow their life."},
    {"name": "reference data", "description": "Countries, authorities and the substance catalogue."},
    {"name": "timeliness", "description": "How promptly each country answers what it receives."},
    {"name": "webhooks", "description": "Endpoints of yours that the portal calls when something happens."},
]


def complete_schema(result, generator, request, public):
    """drf-spectacular postprocessing hook: the shared errors on every operation, the token
    endpoint, the servers and the tags (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ErrorBody", _ERROR_SCHEMA)
    schemas["TokenError"] = TOKEN_ERROR
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            shared = dict(COMMON_ERRORS)
            if "requestBody" in operation:
                shared.update(BODY_ERRORS)
            parameters = operation.get("parameters", [])
            if "{" in path:
                shared.update(PATH_ERRORS)
            if any(p.get("in") in ("query", "header") for p in parameters):
                shared.update(QUERY_ERRORS)
            if any(p.get("name") == "cursor" for p in parameters):
                shared.update(CURSOR_ERRORS)
            if any(p.get("name") == "page" for p in parameters):
                shared.update(PAGE_ERRORS)
            for code, response in shared.items():
                responses.setdefault(code, response)
    result["paths"]["/oauth/token/"] = TOKEN_PATH
    result["components"].setdefault("securitySchemes", {})["clientSecretBasic"] = {
        "type": "http",
        "scheme": "basic",
        "description": "The API client's id as user name and its secret as password (token endpoint only).",
    }
    result["servers"] = [{"url": settings.SITE_URL, "description": "This installation"}]
    result["tags"] = TAGS
    return result
