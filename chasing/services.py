"""The one write path for INCB's follow-ups of silent notifications."""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from notifications.models import EventKind, Notification
from notifications.services import record_event

from .models import FollowUp, FollowUpChannel


@transaction.atomic
def record_follow_up(*, actor, notification: Notification, channel: str, note: str, now: datetime):
    """INCB staff record that they followed up a silent notification with the importing
    country (how, and what came of it)."""
    if not (actor.is_active and actor.is_incb):
        raise PermissionDenied(_("Only INCB staff record follow-ups."))
    if channel not in FollowUpChannel.values:
        raise ValidationError({"channel": _("Choose e-mail, phone or note.")})
    note = (note or "").strip()
    if channel == FollowUpChannel.NOTE and not note:
        raise ValidationError({"note": _("Write the note.")})
    follow_up = FollowUp.objects.create(notification=notification, channel=channel, note=note, user=actor, at=now)
    record_event(
        notification,
        EventKind.FOLLOWED_UP,
        now=now,
        actor=actor,
        detail=f"{FollowUpChannel(channel).label}: {note}".strip(": "),
    )
    return follow_up
