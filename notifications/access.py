"""Who may see which notification, and what they may do with it. The one module that
decides; the web pages and the API both ask it, and never query notifications otherwise.

Rules (docs/domain.md): the exporting authority sees its own notifications,
drafts included; once sent, the importing country's authorities, the transit countries'
authorities (read only), authorities the exporter shared it with (read only, a
django-guardian object permission on the authority's group) and INCB staff (read only)
see it. Anyone else gets the same 404 as for a reference that does not exist.

Of the importing country's authorities only the one the notification is addressed to
(``importing_authority``, the country's focal point when it was sent: the one told by
e-mail and webhook) acts for the country (``Party.IMPORTING``); the others read it
(``Party.IMPORTING_COUNTRY``), like a transit country. What each party sees of the
timeline is ``visible_events``."""

from django.db.models import F, Q, QuerySet
from django.db.models.lookups import In
from django.http import Http404

from authorities.models import Authority, ReplyRegime

from .clock import reply_deadline
from .models import (
    TRANSITIONS,
    Action,
    EventKind,
    Notification,
    NotificationGroupObjectPermission,
    Status,
    TransitCountry,
)

VIEW_PERMISSION = "view_notification"


class Party:
    EXPORTING = "exporting"
    # The importing authority: the one the notification is addressed to. It acts.
    IMPORTING = "importing"
    # Another authority of the importing country: it reads, and does nothing else.
    IMPORTING_COUNTRY = "importing_country"
    TRANSIT = "transit"
    SHARED = "shared"
    INCB = "incb"


def _acting_authority(user):
    if user is None or not user.is_authenticated or not user.is_active or user.authority_id is None:
        return None
    return user.authority


def shared_with(authority) -> QuerySet:
    return NotificationGroupObjectPermission.objects.filter(
        group_id=authority.group_id, permission__codename=VIEW_PERMISSION
    )


def shared_authorities(notification: Notification) -> QuerySet:
    """The authorities the exporter shared ``notification`` with (guardian rows), by
    country and name: the one definition for the page, the API and the services."""
    groups = NotificationGroupObjectPermission.objects.filter(
        content_object=notification, permission__codename=VIEW_PERMISSION
    ).values("group_id")
    return Authority.objects.filter(group_id__in=groups).select_related("country").order_by("country__name", "name")


class _IdIn(In):
    """``id IN (subquery)``, written ``id = ANY(ARRAY(subquery))`` on PostgreSQL.

    Beside the column conditions of visible_notifications, OR-ed, a subquery (EXISTS or
    IN) can only be a filter tested row by row: PostgreSQL then walks a whole index or
    table to fill a page (92 ms for a small importer's page of 50 at a million rows). An
    array computed once is an index condition on the primary key, so every branch is an
    index scan and the planner can combine them (BitmapOr) or still walk an ordering index
    when that is cheaper (2 ms either way; docs/performance.md, tests/test_explain.py)."""

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY(ARRAY{rhs})", (*lhs_params, *rhs_params)


def visible_notifications(user, *, role: str | None = None) -> QuerySet:
    """Every notification ``user`` may see; ``role`` narrows to one way of being a party."""
    authority = _acting_authority(user)
    qs = Notification.objects.all()
    if authority is None:
        return qs.none()
    if authority.is_incb:
        return qs.exclude(status=Status.DRAFT) if role is None else qs.none()

    sent = ~Q(status=Status.DRAFT)
    exporting = Q(exporting_authority_id=authority.pk)
    importing_country = Q(importing_country_id=authority.country_id) & sent
    # The country first, so that its indexes (notif_importing_inbox, notif_inbox_changed)
    # still lead; the addressed authority is a filter on the rows they give.
    addressed = importing_country & Q(importing_authority_id=authority.pk)
    routed = TransitCountry.objects.filter(country_id=authority.country_id).order_by().values("notification_id")
    transit = Q(_IdIn(F("pk"), routed)) & sent
    shared = Q(_IdIn(F("pk"), shared_with(authority).order_by().values("content_object_id"))) & sent
    by_role = {
        Party.EXPORTING: exporting,
        Party.IMPORTING: addressed,
        Party.IMPORTING_COUNTRY: importing_country & ~Q(importing_authority_id=authority.pk),
        Party.TRANSIT: transit,
        Party.SHARED: shared,
    }
    if role is not None:
        if role not in by_role:
            return qs.none()
        return qs.filter(by_role[role])
    return qs.filter(exporting | importing_country | transit | shared)


def get_notification_for(user, reference: str, *, queryset: QuerySet | None = None) -> Notification:
    """The notification, if ``user`` may see it; otherwise the same 404 as a missing one."""
    base = visible_notifications(user)
    if queryset is not None:
        base = queryset & base
    notification = base.filter(reference=reference).first()
    if notification is None:
        raise Http404("No such notification.")
    return notification


def parties_of(user, notification: Notification) -> set[str]:
    """How ``user``'s authority is party to ``notification`` (empty: not at all)."""
    authority = _acting_authority(user)
    if authority is None:
        return set()
    if authority.is_incb:
        return {Party.INCB} if notification.status != Status.DRAFT else set()
    parties = set()
    if notification.exporting_authority_id == authority.pk:
        parties.add(Party.EXPORTING)
    if notification.status == Status.DRAFT:
        return parties
    if notification.importing_authority_id == authority.pk:
        parties.add(Party.IMPORTING)
    elif notification.importing_country_id == authority.country_id:
        parties.add(Party.IMPORTING_COUNTRY)
    if notification.transits.filter(country_id=authority.country_id).exists():
        parties.add(Party.TRANSIT)
    if shared_with(authority).filter(content_object_id=notification.pk).exists():
        parties.add(Party.SHARED)
    return parties


# Which party may take which action (with an officer or administrator role). The
# importing side's actions are the addressed authority's only (Party.IMPORTING), never
# another authority of its country (Party.IMPORTING_COUNTRY), which reads.
ACTION_PARTY = {
    Action.SUBMIT: Party.EXPORTING,
    Action.EDIT_DRAFT: Party.EXPORTING,
    Action.DELETE_DRAFT: Party.EXPORTING,
    Action.PROVIDE_INFORMATION: Party.EXPORTING,
    Action.WITHDRAW: Party.EXPORTING,
    Action.SHARE: Party.EXPORTING,
    Action.ATTACH: Party.EXPORTING,
    Action.AMEND: Party.EXPORTING,
    Action.DISPATCH: Party.EXPORTING,
    Action.CONFIRM_ARRIVAL: Party.IMPORTING,
    # Any authority party to the shipment suspends it (CND res. 60/5, para. 9); only the
    # one that suspended it lifts it (shipment_allows).
    Action.SUSPEND: frozenset({Party.EXPORTING, Party.IMPORTING, Party.TRANSIT}),
    Action.LIFT_SUSPENSION: frozenset({Party.EXPORTING, Party.IMPORTING, Party.TRANSIT}),
    Action.ACKNOWLEDGE: Party.IMPORTING,
    Action.REPLY_NO_OBJECTION: Party.IMPORTING,
    Action.REPLY_OBJECTION: Party.IMPORTING,
    Action.REQUEST_INFORMATION: Party.IMPORTING,
}


def may_act_as(user, notification: Notification, action: str, parties: set[str] | None = None) -> bool:
    """Whether the user's role and party allow ``action`` (regardless of status)."""
    if not getattr(user, "can_act", False):
        return False
    parties = parties_of(user, notification) if parties is None else parties
    allowed = ACTION_PARTY[action]
    if action == Action.LIFT_SUSPENSION:
        # Who lifts is a rule about people, not the state: the suspending authority only (403
        # for another party); with none in force, a party is refused for the state (409).
        suspension = suspension_in_force(notification)
        if suspension is not None and suspension.authority_id != user.authority_id:
            return False
    return bool(allowed & parties) if isinstance(allowed, frozenset) else allowed in parties


def tacit_consent_elapsed(notification: Notification, now) -> bool:
    """Under a tacit-consent regime, the reply period has passed without a reply: the
    export may go ahead as if there were no objection (docs/domain.md)."""
    return (
        notification.status == Status.AWAITING_REPLY
        and notification.reply_due is not None
        and notification.importing_country.reply_regime == ReplyRegime.TACIT_CONSENT
        and now >= reply_deadline(notification.reply_due)
    )


def suspension_in_force(notification: Notification):
    """The suspension in force, or None (from the prefetched rows when there are some)."""
    return next((s for s in notification.suspensions.all() if s.lifted_at is None), None)


def shipment_allows(notification: Notification, action: str, now, user=None) -> bool:
    """The shipment's own stage, beyond the status (TRANSITIONS): a dispatch once, after
    clearance, never while suspended; an arrival once, after the dispatch; one suspension
    in force at a time, lifted by the authority that made it (``user``'s)."""
    if action == Action.SUSPEND:
        return suspension_in_force(notification) is None
    if action == Action.LIFT_SUSPENSION:
        suspension = suspension_in_force(notification)
        return suspension is not None and user is not None and suspension.authority_id == user.authority_id
    if action == Action.DISPATCH:
        if notification.dispatched_on is not None or suspension_in_force(notification) is not None:
            return False
        return notification.status == Status.NO_OBJECTION or tacit_consent_elapsed(notification, now)
    if action == Action.CONFIRM_ARRIVAL:
        return notification.dispatched_on is not None and notification.arrived_on is None
    return True


def allowed_actions(user, notification: Notification, now=None) -> list[str]:
    """The actions ``user`` may take on ``notification`` now (party, role, status and the
    shipment's stage). ``now`` decides a tacit consent; the request's instant if omitted."""
    if now is None:
        from django.utils import timezone

        now = timezone.now()
    parties = parties_of(user, notification)
    actions = []
    for action, (from_statuses, _target) in TRANSITIONS.items():
        if notification.status in from_statuses and may_act_as(user, notification, action, parties):
            if action == Action.ACKNOWLEDGE and notification.acknowledged_at is not None:
                continue
            if not shipment_allows(notification, action, now, user):
                continue
            actions.append(action)
    return actions


# Timeline events that belong to some parties only (every other kind is the record of the
# notification, seen by every party that may read it):
# - INCB's follow-ups are INCB's own record of chasing the importing country: INCB only.
# - Whom the exporter shared the notification with (or stopped sharing it with) is the
#   exporter's decision, and INCB's to review: the exporting authority and INCB only. The
#   shared-with authority does not see even the event of its own share (the safest
#   reading: one rule by kind, never by the event's data, so no other share can slip
#   through); that it may read the notification is all it needs, and its page says so.
EVENT_AUDIENCE = {
    EventKind.FOLLOWED_UP: frozenset({Party.INCB}),
    EventKind.SHARED: frozenset({Party.EXPORTING, Party.INCB}),
    EventKind.SHARE_REVOKED: frozenset({Party.EXPORTING, Party.INCB}),
}


def may_see_event(parties: set[str], kind: str) -> bool:
    """Whether a user party to the notification as ``parties`` (parties_of) may see an
    event of ``kind``: the rule of EVENT_AUDIENCE, for one event."""
    audience = EVENT_AUDIENCE.get(kind)
    return audience is None or bool(audience & set(parties))


def visible_events(parties: set[str], events):
    """The timeline events a user party to a notification as ``parties`` (parties_of) may
    see: the one rule for the page and the API (may_see_event, event by event).

    ``events``: a queryset (returned narrowed, still lazy: one query, whatever the
    number of events) or already fetched events, e.g. from a prefetch (returned as a
    list, in their order, with no query). No parties: only the events everyone sees."""
    hidden = [kind for kind in EVENT_AUDIENCE if not may_see_event(parties, kind)]
    if isinstance(events, QuerySet):
        return events.exclude(kind__in=hidden) if hidden else events
    return [event for event in events if event.kind not in hidden]


def follow_up_queue(user, *, today):
    """INCB's follow-up queue: notifications awaiting a reply after their due date.
    Followed-up ones stay until they are answered. Empty for anyone but INCB staff."""
    authority = _acting_authority(user)
    if authority is None or not authority.is_incb:
        return Notification.objects.none()
    return visible_notifications(user).filter(status=Status.AWAITING_REPLY, reply_due__lt=today)
