"""One place where errors become JSON responses for the REST API.

Services raise Django's ValidationError for broken domain rules; it becomes a 400 with
field-level messages here, never a 500 (HackSoft styleguide's handler)."""

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

NOT_FOUND_BODY = {"detail": "Not found."}


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This conflicts with the current state."
    default_code = "conflict"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "If-Match does not match the current version."
    default_code = "precondition_failed"


class PreconditionRequired(exceptions.APIException):
    # RFC 6585: a change to a notification must name the version it was made against.
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = "Send If-Match with the ETag you last read: this change needs it."
    default_code = "precondition_required"


class UnprocessableIdempotencyKey(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used with a different request body."
    default_code = "idempotency_key_reused"


def validation_error_detail(error: DjangoValidationError):
    if hasattr(error, "error_dict"):
        return {field: [str(m) for m in messages] for field, messages in error.message_dict.items()}
    return {"non_field_errors": [str(m) for m in error.messages]}


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        # Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE while DRF reads it (even
        # during authentication); without this it becomes Django's HTML 400 page.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
        return Response(
            {"detail": f"The request body is larger than {limit:g} MB, the most the API accepts."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(validation_error_detail(exc))
    elif isinstance(exc, Http404):
        # One body for "missing" and "not yours": existence is never revealed.
        return Response(NOT_FOUND_BODY, status=status.HTTP_404_NOT_FOUND)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, exceptions.ParseError):
        # A body that is not JSON is bad input like any other: the same shape as field
        # errors, so clients parse one 400 format (found by schemathesis).
        exc = exceptions.ValidationError({"non_field_errors": [str(exc.detail)]})
    return drf_exception_handler(exc, context)
