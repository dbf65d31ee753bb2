"""``Idempotency-Key`` for every POST of the REST API.

A key belongs to the caller that sent it (a person, or a licensing system's machine user)
and is kept for at least ``IDEMPOTENCY_RETENTION`` (24 hours). The protocol:

1. Claim: INSERT a record ``in_progress`` in its own transaction. The unique constraint on
   (user, key) lets exactly one of several concurrent requests win; the others read the
   existing row: another body (method, path or JSON) is 422, still in progress is 409,
   done replays the stored response and creates nothing.
2. Work and store in one transaction: the service call and the UPDATE that stores the
   response commit together, so a ``done`` record always matches what exists, and a crash
   in between leaves the record ``in_progress`` with nothing created. Such a record is
   taken over by a retry once its lease has run out; the stale holder's final UPDATE is
   conditional on its lease, so if it was only slow, its transaction rolls back instead
   of creating a second notification.

Responses below 500 are stored and replayed (a key names one attempt at one request, and
its answer is final). After a server error the key is released so the request may be retried.
"""

import hashlib
import json
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .errors import Conflict, UnprocessableIdempotencyKey
from .models import IdempotencyRecord, IdempotencyStatus

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# Response headers worth replaying with the body.
REPLAYED_HEADERS = ("ETag", "Location")


def retention() -> timedelta:
    return getattr(settings, "IDEMPOTENCY_RETENTION", timedelta(hours=24))


def lease() -> timedelta:
    """How long a claimed key is held before a retry may take it over (a crashed request)."""
    return getattr(settings, "IDEMPOTENCY_LEASE", timedelta(minutes=5))


class _LostLease(Exception):
    """Our claim was taken over while we worked: roll our work back."""


def _file_digest(upload) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def fingerprint(request) -> str:
    """SHA-256 of method, path and the body as canonical JSON (key order and whitespace
    do not matter; values do). An uploaded file counts by its content, not its name: the
    same key with another file is another request (422), never a replay of the first."""
    data = request.data
    if hasattr(data, "lists"):  # a QueryDict from a form or multipart post
        files = request.FILES
        data = {key: values for key, values in data.lists() if key not in files}
        data["__files__"] = {
            name: [[upload.name, _file_digest(upload)] for upload in files.getlist(name)] for name in files
        }
    body = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    text = f"{request.method}\n{request.path}\n{body}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _key_of(request) -> str | None:
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise exceptions.ValidationError(
            {HEADER: [f"An Idempotency-Key is 1 to {MAX_KEY_LENGTH} printable characters."]}
        )
    return key


def _claim(request, key: str, request_hash: str, now):
    """Returns ``(record, None)`` if this request does the work, ``(None, response)`` to
    replay; raises 409/422."""
    for _round in range(3):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=request.user,
                    key=key,
                    request_hash=request_hash,
                    method=request.method,
                    path=request.path[:300],
                    status=IdempotencyStatus.IN_PROGRESS,
                    locked_until=now + lease(),
                    created_at=now,
                )
            return record, None
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(user=request.user, key=key).first()
            if existing is None:
                continue  # released (after a server error) or purged meanwhile: claim again
        if existing.request_hash != request_hash:
            raise UnprocessableIdempotencyKey()
        if existing.status == IdempotencyStatus.DONE:
            return None, replay(existing)
        if existing.locked_until is not None and existing.locked_until < now:
            # The request holding it died (or is very slow): take it over.
            taken = IdempotencyRecord.objects.filter(
                pk=existing.pk, status=IdempotencyStatus.IN_PROGRESS, locked_until=existing.locked_until
            ).update(locked_until=now + lease())
            if taken == 1:
                existing.refresh_from_db()
                return existing, None
        raise Conflict("A request with this Idempotency-Key is still in progress; retry later.")
    raise Conflict("A request with this Idempotency-Key is still in progress; retry later.")


def replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body, status=record.response_status)
    for name, value in (record.response_headers or {}).items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def _body_of(response) -> object:
    if response.data is None:
        return None
    return json.loads(JSONRenderer().render(response.data))


def run(view, request, work) -> Response:
    """Run ``work()`` (which returns a Response, or raises what the view's exception
    handler turns into one) at most once per (caller, Idempotency-Key)."""
    key = _key_of(request)
    if key is None:
        return work()
    now = timezone.now()
    record, stored = _claim(request, key, fingerprint(request), now)
    if stored is not None:
        return stored
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():  # a failed service call rolls back alone
                    response = work()
            except Exception as exc:  # noqa: BLE001 - the view's handler decides, re-raising the unknown
                response = view.handle_exception(exc)
            if response.status_code >= 500:
                raise _Release(response)
            stored_headers = {name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)}
            finished = IdempotencyRecord.objects.filter(
                pk=record.pk, status=IdempotencyStatus.IN_PROGRESS, locked_until=record.locked_until
            ).update(
                status=IdempotencyStatus.DONE,
                response_status=response.status_code,
                response_body=_body_of(response),
                response_headers=stored_headers,
                completed_at=timezone.now(),
                locked_until=None,
            )
            if finished != 1:
                raise _LostLease()
        return response
    except _Release as release:
        _release(record)
        return release.response
    except _LostLease:
        raise Conflict("A request with this Idempotency-Key is still in progress; retry later.") from None
    except Exception:
        _release(record)
        raise


class _Release(Exception):
    def __init__(self, response):
        super().__init__("server error")
        self.response = response


def _release(record):
    """Free the key after a server error, so that the client's retry is not refused."""
    IdempotencyRecord.objects.filter(
        pk=record.pk, status=IdempotencyStatus.IN_PROGRESS, locked_until=record.locked_until
    ).delete()


def purge(*, now) -> int:
    """Delete records older than the retention period (the periodic cleanup)."""
    deleted, _counts = IdempotencyRecord.objects.filter(created_at__lt=now - retention()).delete()
    return deleted


@shared_task(name="api.purge_idempotency_records", acks_late=True, reject_on_worker_lost=True)
def purge_idempotency_records() -> int:
    """Periodic: forget Idempotency-Keys older than the retention period (24 hours)."""
    return purge(now=timezone.now())
