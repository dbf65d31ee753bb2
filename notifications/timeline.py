"""The timeline's hash chain (issue 16): the one definition of an event's hash, used by
every writer (``services.record_event``, the chase sweep's bulk insert, the simulator's
COPY), by ``manage.py verify_timeline`` and by the export that lets a third party check a
notification's timeline without the portal.

The canonical form (version 1). An event's ``hash`` is the lowercase hex SHA-256 of the
UTF-8 bytes of this JSON object::

    {"actor": <the acting user's id, or null>,
     "actor_authority": <the acting authority's id, or null>,
     "at": "<the event's instant in UTC: YYYY-MM-DDTHH:MM:SS.ffffffZ, always 6 digits>",
     "data": <the event's data object>,
     "detail": "<the event's detail text>",
     "kind": "<the event's kind, e.g. submitted>",
     "notification": "<the notification's reference, e.g. DE-2026-000042>",
     "previous": "<the hash of the notification's previous event>"}

written with the keys of every object in code-point order, no whitespace (separators ``,``
and ``:``), strings as JSON strings with non-ASCII characters as themselves (only ``"``,
``\\`` and control characters escaped), i.e. Python's ``json.dumps(document,
sort_keys=True, separators=(",", ":"), ensure_ascii=False)``. The data the portal writes
holds strings, integers, booleans, null, lists and objects (never floats), for which these
are the same bytes as RFC 8785 (JCS). ``previous`` is the hash of the notification's
event written just before, in id (insertion) order, not in ``at`` order (the sweep records
a caught-up step at its due instant, after later events); the first event's ``previous``
is ``GENESIS``, 64 zeros.

Chaining needs the previous event to be final: a writer holds the notification's row lock
(``select_for_update``, or the transition's conditional UPDATE, or the sweep's FOR UPDATE)
before it reads the head, so two events of one notification never chain to the same one.

What the chain shows: a changed event (its own link breaks), a removed or inserted one (the
next link breaks), a notification whose events are all gone. What it cannot show alone: the
last events removed (the tail); an exported head, kept by INCB or a party, shows that."""

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Exists, Max, OuterRef

from .models import Event, Notification

GENESIS = "0" * 64
# The append-only triggers (Event.Meta.triggers), for pgtrigger.ignore(...).
NO_UPDATE = "notifications.Event:event_no_update"
NO_DELETE = "notifications.Event:event_no_delete"

FORM = (
    "pen-timeline-1: hash = lowercase hex SHA-256 of the UTF-8 bytes of the canonical JSON object "
    '{"actor", "actor_authority", "at", "data", "detail", "kind", "notification", "previous"} '
    "(keys of every object in code-point order, no whitespace, separators ',' and ':', non-ASCII "
    "characters unescaped: RFC 8785 for these values), where at is the UTC instant as "
    "YYYY-MM-DDTHH:MM:SS.ffffffZ, notification the reference, and previous the hash of the event "
    "before it in id order (genesis for the first)"
)


def instant(at: datetime) -> str:
    """The event's instant as hashed: UTC, microseconds, ``Z``."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def content(*, reference, kind, at, actor_id, actor_authority_id, detail, data) -> dict:
    """An event's hashed fields, by their names in the canonical form. ``data`` goes through
    JSON once, so that what is hashed when writing is what the database gives back."""
    return {
        "notification": reference,
        "kind": str(kind),
        "at": instant(at),
        "actor": actor_id,
        "actor_authority": actor_authority_id,
        "detail": detail,
        "data": json.loads(json.dumps(data)) if data else {},
    }


# json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False), built once
# (the simulator hashes millions of events).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link_hash(previous: str, fields: dict) -> str:
    """The hash of an event whose hashed fields are ``fields`` (see ``content``)."""
    document = {**fields, "previous": previous}
    return hashlib.sha256(_CANONICAL.encode(document).encode("utf-8")).hexdigest()


def content_of(event: Event, reference: str) -> dict:
    return content(
        reference=reference,
        kind=event.kind,
        at=event.at,
        actor_id=event.actor_id,
        actor_authority_id=event.actor_authority_id,
        detail=event.detail,
        data=event.data,
    )


def heads(notification_ids: Iterable[int]) -> dict[int, str]:
    """The hash of each notification's last event (absent: no event yet), in one query."""
    last = (
        Event.objects.filter(notification_id__in=list(notification_ids))
        .order_by()
        .values("notification_id")
        .annotate(last=Max("id"))
        .values("last")
    )
    return dict(Event.objects.filter(id__in=last).order_by().values_list("notification_id", "hash"))


def chain(events: list[Event]) -> list[Event]:
    """Set ``hash`` on new events, in the order they will be inserted (one query for the
    heads, the rest in Python). The caller holds the row lock of every notification among
    them, in the transaction that inserts them; ``event.notification`` has its reference."""
    if not events:
        return events
    latest = heads({event.notification_id for event in events})
    for event in events:
        previous = latest.get(event.notification_id, GENESIS)
        event.hash = link_hash(previous, content_of(event, event.notification.reference))
        latest[event.notification_id] = event.hash
    return events


# --- verifying and exporting --------------------------------------------------------------

COLUMNS = ("id", "notification_id", "notification__reference", "kind", "at", "actor_id", "actor_authority_id")
COLUMNS += ("detail", "data", "hash")


def _fields(row) -> dict:
    """The hashed fields of a row of ``COLUMNS``."""
    _pk, _notification_id, reference, kind, at, actor_id, actor_authority_id, detail, data, _hash = row
    return content(
        reference=reference,
        kind=kind,
        at=at,
        actor_id=actor_id,
        actor_authority_id=actor_authority_id,
        detail=detail,
        data=data,
    )


@dataclass(frozen=True)
class BrokenLink:
    reference: str
    event_id: int | None  # None: the notification has no event at all
    expected: str
    stored: str


class Verifier:
    """Recomputes every link, streaming (one server-side cursor over the events in
    (notification, id) order: memory stays flat whatever their number). Each link is
    checked against the stored hash of the event before it, so every broken link is named
    once, not every event after it."""

    def __init__(self, reference: str | None = None):
        self.reference = reference
        self.events = 0
        self.notifications = 0

    def broken_links(self) -> Iterator[BrokenLink]:
        events = Event.objects.order_by("notification_id", "id")
        notifications = Notification.objects.order_by("pk")
        if self.reference is not None:
            events = events.filter(notification__reference=self.reference)
            notifications = notifications.filter(reference=self.reference)
        current, previous = None, GENESIS
        for row in events.values_list(*COLUMNS).iterator(chunk_size=2000):
            pk, notification_id, reference, stored = row[0], row[1], row[2], row[-1]
            if notification_id != current:
                current, previous = notification_id, GENESIS
                self.notifications += 1
            self.events += 1
            expected = link_hash(previous, _fields(row))
            if expected != stored:
                yield BrokenLink(reference, pk, expected, stored)
            previous = stored
        # Every notification is created with an event: none left means they were removed.
        empty = notifications.filter(~Exists(Event.objects.filter(notification=OuterRef("pk"))))
        for reference in empty.values_list("reference", flat=True).iterator(chunk_size=2000):
            self.notifications += 1
            yield BrokenLink(reference, None, "a chain from its 'created' event", "no events")


def export(notification: Notification, may_see=lambda kind: True) -> dict:
    """One notification's timeline with every hash and the chain's head, in the canonical
    form's own field names, so that a third party can recompute each link (``FORM``).

    An event the reader may not see (``may_see(kind)`` false: INCB's follow-ups, the
    exporter's shares, access.may_see_event) is exported as its id, ``previous`` and
    ``hash`` only, with ``"redacted": true``: its content stays hidden, and the chain still
    shows that nothing was removed or reordered (the next event's ``previous`` is its hash)."""
    events, previous = [], GENESIS
    rows = notification.events.order_by("id").values_list(*COLUMNS)
    for row in rows:
        if may_see(row[3]):
            events.append({"id": row[0], **_fields(row), "previous": previous, "hash": row[-1]})
        else:
            events.append({"id": row[0], "redacted": True, "previous": previous, "hash": row[-1]})
        previous = row[-1]
    return {
        "reference": notification.reference,
        "canonical_form": FORM,
        "algorithm": "sha256",
        "genesis": GENESIS,
        "head": previous,
        "events": events,
    }
