"""The ``incident_party`` risk flag: a sent or open notification that names a party of
an incident visible to its parties (the exporting, importing and transit countries'
authorities) carries it, with the incidents' references in its detail.

Two moments raise it: the notification's own sending or amendment (``assess``,
registered with notifications.risk, after ``index_notification`` has recorded the
notification's normalised party names that backtracking searches), and a new or amended
incident (``flag_open_notifications``, in the background, once: the incident's
``notifications_flagged_at`` says it was done, set in the same transaction as the flags)."""

from celery import shared_task
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications import risk
from notifications.models import OPEN_STATUSES, Notification, RiskKind

from . import access
from .backtracking import incidents_naming, index_party_names, party_names_matching
from .models import Incident, IncidentEvent, IncidentEventKind, NotificationPartyName


def _party_countries(notification: Notification) -> list[str]:
    return [
        notification.exporting_country_id,
        notification.importing_country_id,
        *notification.transits.values_list("country_id", flat=True),
    ]


def assess(notification: Notification, *, now) -> risk.Finding | None:
    """The ``incident_party`` finding: the visible incidents that name a party of the
    notification (its registered assessor; writes nothing, so the filing page can show it)."""
    if notification.importing_country_id is None:
        return None
    incidents = access.visible_to_countries(_party_countries(notification))
    found = incidents_naming(notification, incidents)
    if not found:
        return None
    named: dict[str, list[str]] = {}
    for _score, party, role in found:
        named.setdefault(party.incident.reference, []).append(f"{role} “{party.name}”")
    detail = " ".join(
        _("Named in incident %(ref)s: %(parties)s.") % {"ref": ref, "parties": ", ".join(dict.fromkeys(parties))}
        for ref, parties in sorted(named.items())
    )
    return risk.Finding(RiskKind.INCIDENT_PARTY, detail, {"incidents": sorted(named)})


def raise_or_resolve(notification: Notification, *, now) -> bool:
    """Set the flag from what the incidents say now; True if it is raised."""
    return risk.reassess(notification, RiskKind.INCIDENT_PARTY, now=now)


def index_notification(notification: Notification, *, now) -> None:
    """The evaluator notifications.risk runs first when a notification is sent or
    amended: its normalised party names, which backtracking and the assessors search."""
    index_party_names(notification)


@transaction.atomic
def flag_open_notifications(incident_id: int, *, now) -> int | None:
    """Flag the open notifications that name a party of the incident, once: the incident
    row is locked and marked in this transaction, so a repeated or concurrent run finds it
    done and does nothing (None). Returns how many notifications carry the flag."""
    incident = (
        Incident.objects.select_for_update().filter(pk=incident_id, notifications_flagged_at__isnull=True).first()
    )
    if incident is None:
        return None
    open_rows = NotificationPartyName.objects.filter(
        notification__in=Notification.objects.filter(status__in=OPEN_STATUSES).order_by().values("pk")
    )
    names = list(incident.parties.values_list("normalised_name", flat=True))
    ids = sorted({row.notification_id for _s, _n, row in party_names_matching(names, open_rows)})
    flagged = [
        reference
        for notification in Notification.objects.filter(pk__in=ids).order_by("pk")
        if raise_or_resolve(notification, now=now) and (reference := notification.reference)
    ]
    Incident.objects.filter(pk=incident.pk).update(notifications_flagged_at=now)
    IncidentEvent.objects.create(
        incident=incident,
        kind=IncidentEventKind.NOTIFICATIONS_FLAGGED,
        at=now,
        detail=_("%(count)s open notification(s) flagged.") % {"count": len(flagged)},
        data={"notifications": flagged},
    )
    return len(flagged)


@shared_task(name="incidents.flag_open_notifications", acks_late=True, reject_on_worker_lost=True)
def flag_open_notifications_task(incident_id: int) -> int | None:
    return flag_open_notifications(incident_id, now=timezone.now())


@shared_task(name="incidents.flag_pending", acks_late=True, reject_on_worker_lost=True)
def flag_pending() -> int:
    """The relay: incidents whose flagging was never done (a lost enqueue, a crash)."""
    pending = list(Incident.objects.filter(notifications_flagged_at__isnull=True).values_list("pk", flat=True)[:100])
    for pk in pending:
        flag_open_notifications(pk, now=timezone.now())
    return len(pending)
