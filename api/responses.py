"""What every endpoint shares: the shape check that turns DRF's nested errors into the
services' dotted keys, and the documented error responses (the bodies are made by
api.errors, the handler). One definition here, so that every app's endpoints document
the same errors in the same words."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import exceptions, serializers


def flatten_errors(detail, prefix="") -> dict[str, list[str]]:
    """DRF's nested error structure as the services' flat, dotted keys
    (``{"items": [{}, {"quantity": [...]}]}`` becomes ``{"items.1.quantity": [...]}``)."""
    flat: dict[str, list[str]] = {}

    def merge(more):
        for key, messages in more.items():
            flat.setdefault(key, []).extend(messages)

    if isinstance(detail, dict):
        for key, value in detail.items():
            merge(flatten_errors(value, prefix if key == "non_field_errors" else f"{prefix}{key}."))
    elif isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        for index, item in enumerate(detail):
            if item:
                merge(flatten_errors(item, f"{prefix}{index}."))
    else:
        messages = detail if isinstance(detail, list) else [detail]
        merge({prefix.rstrip(".") or "non_field_errors": [str(message) for message in messages]})
    return flat


class EmptyInputSerializer(serializers.Serializer):
    """No body is needed (an empty JSON object, or none)."""


def validated(serializer_class, data, *, partial=False):
    """Shape check; errors with the same dotted keys as the services' (``items.0.unit``).
    ``partial``: only the fields sent are checked (a PATCH)."""
    serializer = serializer_class(data=data if data is not None else {}, partial=partial)
    if not serializer.is_valid():
        raise exceptions.ValidationError(flatten_errors(serializer.errors))
    return serializer


ERROR_BODY = inline_serializer(
    name="ErrorBody", fields={"detail": serializers.CharField(help_text="What went wrong, in words.")}
)
FIELD_ERRORS = {
    "type": "object",
    "description": "Field errors: each key is a field of the body (nested fields dotted, e.g. `items.0.quantity`, "
    "`exporter.name`, `shipment.expected_dispatch`; `non_field_errors` for the whole body), each value a list "
    "of messages that say what to fix.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
R400 = OpenApiResponse(FIELD_ERRORS, description="The body is not valid; nothing was stored.")
R401 = OpenApiResponse(ERROR_BODY, description="No credentials, or credentials that are not valid (or expired).")
R403 = OpenApiResponse(
    ERROR_BODY,
    description="Your token lacks the scope, or your authority (or role) may not do this to this notification.",
)
R404 = OpenApiResponse(
    ERROR_BODY,
    description="No such notification, or one your authority is not party to: the body is the same "
    '(`{"detail": "Not found."}`), so existence is never revealed.',
)
R409 = OpenApiResponse(
    ERROR_BODY,
    description="Not possible in the notification's current state (e.g. a second final reply), or a request "
    "with the same Idempotency-Key is still in progress.",
)
R412 = OpenApiResponse(ERROR_BODY, description="If-Match does not match the notification's current ETag.")
R413 = OpenApiResponse(ERROR_BODY, description="The file is larger than the portal accepts; nothing was stored.")
R415 = OpenApiResponse(ERROR_BODY, description="The body is not of the media type this operation accepts.")
R428 = OpenApiResponse(
    ERROR_BODY, description="If-Match is missing: send the ETag you last read (GET the notification for it)."
)
R422 = OpenApiResponse(ERROR_BODY, description="The Idempotency-Key was used before with a different request.")

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (a UUID) chosen by the client, 1 to 255 characters. Sent again with the same "
    "body, the first response is returned again (header `Idempotent-Replayed: true`) and nothing is done twice; "
    "with a different body, 422; while the first request is still running, 409. Keys are kept for 24 hours, "
    "per client.",
)
