"""The only write path for notifications. The web pages and the REST API both call these
functions; a rule lives here once.

Every state change is a conditional UPDATE on the old status (and, when the caller sent
one, the old version), in the same transaction as its Event, so two concurrent actions
can never both win. Callers pass ``now``; nothing here reads the clock."""

import math
import re
import secrets
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pgtrigger
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from guardian.shortcuts import assign_perm, remove_perm

from authorities import cas
from authorities.models import Authority, AuthorityKind, Country, Schedule, Substance
from messaging.outbox import emit
from web.dates import for_people, in_range, out_of_range_message

from . import access, risk, timeline
from .clock import arrival_reminder_at, first_chase_at, next_chase_at, reply_deadline
from .models import (
    FINAL_DECISIONS,
    OPEN_STATUSES,
    TRANSITIONS,
    Action,
    Attachment,
    Event,
    EventKind,
    Form,
    Item,
    ModeOfTransport,
    Notification,
    NotificationKind,
    NotificationRead,
    ReferenceCounter,
    Response,
    ResponseKind,
    RiskKind,
    RiskSignal,
    Status,
    Suspension,
    TransitCountry,
    Unit,
)


class Conflict(Exception):
    """The action is not possible in the notification's current state (HTTP 409)."""


class StaleVersion(Exception):
    """The caller's version (If-Match) is not the current one (HTTP 412)."""


@dataclass
class PartyData:
    name: str = ""
    address: str = ""
    licence_number: str = ""


# Every field may be empty: a draft keeps whatever its author has filled in so far (issue
# 18); validate_notification_data(complete=True) says what sending still needs.
@dataclass
class ItemData:
    substance: str = ""  # the substance code
    quantity: Decimal | None = None
    unit: str = ""
    form: str = Form.SUBSTANCE
    trade_name: str = ""
    concentration_percent: Decimal | None = None
    packages: str = ""
    # A chemical outside the catalogue (voluntary notifications): substance left empty.
    chemical_name: str = ""
    cas_number: str = ""


@dataclass
class NotificationData:
    importing_country: str = ""
    exporter: PartyData = field(default_factory=PartyData)
    importer: PartyData = field(default_factory=PartyData)
    items: list[ItemData] = field(default_factory=list)
    point_of_exit: str = ""
    point_of_entry: str = ""
    mode_of_transport: str = ""
    expected_dispatch: date | None = None
    end_use: str = ""
    consignee: PartyData = field(default_factory=PartyData)
    broker: PartyData = field(default_factory=PartyData)
    transit_countries: list[str] = field(default_factory=list)
    carrier: str = ""
    import_authorization_number: str = ""
    national_reference: str = ""
    reply_due: date | None = None
    kind: str = NotificationKind.SCHEDULED
    suspicion: str = ""


# --- validation -------------------------------------------------------------------------


def _blank(value) -> bool:
    return value in (None, "") or (isinstance(value, str) and not value.strip())


def validate_notification_data(
    data: NotificationData, *, exporting_authority: Authority, now: datetime, complete: bool = True
):
    """Every rule about a notification's content, with field-keyed messages that say what
    to fix, all at once. Returns the resolved objects (countries, substances).

    ``complete=False`` is a draft's check (issue 18): what is filled in must be right (a
    country of the portal that is not one's own, a substance of the catalogue, a quantity
    above zero, a date the clock can count with), but anything may still be missing, and
    the rules that age with the calendar (dispatch not past, the reply period) wait for
    sending, so that a draft saved last month can still be saved again. Sending checks
    everything (``submit`` calls this with ``complete=True`` on what the draft holds)."""
    errors: dict[str, list[str]] = {}
    exporting_country = exporting_authority.country

    def require(key, value, message):
        if complete and _blank(value):
            errors.setdefault(key, []).append(message)

    voluntary = data.kind == NotificationKind.VOLUNTARY
    if data.kind not in NotificationKind.values:
        errors["kind"] = [_("Choose the kind: scheduled (Table I or II) or voluntary (a non-scheduled chemical).")]
    if voluntary:
        require(
            "suspicion",
            data.suspicion,
            _("Say why this consignment is suspicious: a voluntary notification is sent for that reason."),
        )

    code = (data.importing_country or "").strip().upper()
    importing = Country.objects.filter(code=code).first() if code else None
    if importing is None:
        if code or complete:
            errors["importing_country"] = [_("Choose the importing country from the list.")]
    elif importing.code == exporting_country.code:
        errors["importing_country"] = [
            _("A pre-export notification goes to another country; %(country)s is your own.")
            % {"country": importing.name}
        ]
    elif not Authority.objects.filter(country=importing, is_focal_point=True).exists():
        errors["importing_country"] = [
            _("%(country)s has no competent authority on the portal yet; notify it by other means.")
            % {"country": importing.name}
        ]

    transit_codes = [code.upper() for code in data.transit_countries if code]
    transits = Country.objects.in_bulk(transit_codes)
    for code in transit_codes:
        if code not in transits:
            errors.setdefault("transit_countries", []).append(_("Unknown country code %(code)s.") % {"code": code})
        elif code in (exporting_country.code, importing.code if importing else None):
            errors.setdefault("transit_countries", []).append(
                _("%(country)s is the exporting or importing country, not a transit country.")
                % {"country": transits[code].name}
            )
    if len(set(transit_codes)) != len(transit_codes):
        errors.setdefault("transit_countries", []).append(_("Each transit country appears once in the route."))

    for key, party in (("exporter", data.exporter), ("importer", data.importer)):
        require(f"{key}.name", party.name, _("Give the name."))
        require(f"{key}.address", party.address, _("Give the address."))
    if data.consignee.name.strip():
        require("consignee.address", data.consignee.address, _("Give the consignee's address."))
    if data.broker.name.strip():
        require("broker.address", data.broker.address, _("Give the broker's address."))

    if not voluntary:
        # What national law requires for scheduled substances (article 12(10)(b)); for a
        # voluntary notification the exporter gives what it knows.
        require("point_of_exit", data.point_of_exit, _("Give the point of exit."))
        require("point_of_entry", data.point_of_entry, _("Give the expected point of entry."))
        require("end_use", data.end_use, _("Declare the end use."))
    if data.mode_of_transport not in ModeOfTransport.values and (data.mode_of_transport or complete):
        errors["mode_of_transport"] = [_("Choose a mode of transport.")]
    if data.expected_dispatch is None:
        require("expected_dispatch", None, _("Give the expected date of dispatch."))
    elif not in_range(data.expected_dispatch):
        errors["expected_dispatch"] = [out_of_range_message()]
    elif complete and data.expected_dispatch < now.date():
        errors["expected_dispatch"] = [_("The expected dispatch date cannot be in the past.")]

    codes = [item.substance for item in data.items if item.substance]
    substances = Substance.objects.in_bulk(codes, field_name="code") if codes else {}
    if not data.items:
        require("items", None, _("Add at least one item."))
    for index, item in enumerate(data.items):
        prefix = f"items.{index}"
        errors.update(_item_kind_errors(prefix, item, substances.get(item.substance), voluntary, complete))
        if (item.quantity is None and complete) or (item.quantity is not None and item.quantity <= 0):
            errors[f"{prefix}.quantity"] = [_("The quantity must be more than zero.")]
        if item.unit not in Unit.values and (item.unit or complete):
            errors[f"{prefix}.unit"] = [_("Choose a unit: kg, g, l or ml.")]
        if item.form not in Form.values:
            errors[f"{prefix}.form"] = [_("Choose substance, preparation or mixture.")]
        if item.form in (Form.PREPARATION, Form.MIXTURE):
            require(f"{prefix}.trade_name", item.trade_name, _("Give the trade name of the preparation or mixture."))
            require(
                f"{prefix}.concentration_percent", item.concentration_percent, _("Give the concentration in per cent.")
            )
        if item.concentration_percent is not None and not (0 < item.concentration_percent <= 100):
            errors[f"{prefix}.concentration_percent"] = [_("The concentration is between 0 and 100 per cent.")]

    # The bound every typed date is held to (web.dates): the clock adds days to these.
    if data.reply_due is not None and not in_range(data.reply_due):
        errors["reply_due"] = [out_of_range_message()]
    elif complete and voluntary and data.reply_due is not None and data.reply_due <= now.date():
        errors["reply_due"] = [_("A reply deadline is a day after today; leave it empty for none.")]
    elif complete and not voluntary and data.reply_due is not None and importing is not None:
        earliest = importing.earliest_reply_due(now.date())
        if data.reply_due < earliest:
            errors["reply_due"] = [
                _(
                    "%(country)s declares a reply period of %(days)d %(kind)s: the reply cannot be due "
                    "before %(earliest)s."
                )
                % {
                    "country": importing.name,
                    "days": importing.reply_period_days,
                    "kind": importing.get_reply_period_kind_display().lower(),
                    "earliest": for_people(earliest),
                }
            ]
    if errors:
        raise ValidationError(errors)
    return importing, [transits[code] for code in transit_codes], substances


def _item_kind_errors(prefix, item: ItemData, substance, voluntary: bool, complete: bool) -> dict:
    """What an item may be in each kind of notification (the contract's "Kinds of
    notification"): a scheduled one's items are Table I or II substances; a voluntary
    one's are special-surveillance substances or chemicals outside the catalogue, named
    with a CAS number whose check digit is right."""
    errors = {}
    named = (item.chemical_name or "").strip()
    cas_number = (item.cas_number or "").strip()
    if item.substance and substance is None:
        errors[f"{prefix}.substance"] = [_("Choose a substance from the catalogue.")]
    elif substance is not None and voluntary and substance.schedule != Schedule.SPECIAL_SURVEILLANCE:
        errors[f"{prefix}.substance"] = [
            _(
                "%(name)s is in %(table)s: a voluntary notification is for chemicals on no table. Send a "
                "scheduled notification for it."
            )
            % {"name": substance.name, "table": substance.get_schedule_display()}
        ]
    elif substance is not None and not voluntary and substance.schedule == Schedule.SPECIAL_SURVEILLANCE:
        errors[f"{prefix}.substance"] = [
            _(
                "%(name)s is on the special surveillance list, not in Table I or II: send a voluntary "
                "notification for it."
            )
            % {"name": substance.name}
        ]
    elif substance is not None and not substance.active:
        errors[f"{prefix}.substance"] = [
            _("%(name)s has been retired from the special surveillance list.") % {"name": substance.name}
        ]
    elif substance is None and named and not voluntary:
        errors[f"{prefix}.chemical_name"] = [
            _(
                "%(name)s is not in Table I or II: a scheduled notification names a substance of the catalogue. Send "
                "a voluntary notification for a chemical on no table."
            )
            % {"name": named}
        ]
    elif substance is None and not named and complete:
        errors[f"{prefix}.substance"] = [
            _("Choose a substance from the catalogue, or name the chemical and give its CAS number.")
            if voluntary
            else _("Choose a substance from the catalogue.")
        ]
    if cas_number and not cas.is_valid(cas_number):
        errors[f"{prefix}.cas_number"] = [
            _("“%(number)s” is not a valid CAS number (NNNNNNN-NN-N, check digit last).") % {"number": cas_number}
        ]
    elif cas_number and substance is not None:
        errors[f"{prefix}.cas_number"] = [_("Give a CAS number only for a chemical outside the catalogue.")]
    return errors


# --- helpers ----------------------------------------------------------------------------


def record_event(notification, kind, *, now, actor=None, detail="", data=None) -> Event:
    """Add one entry to a notification's timeline. Public for the apps that act on a
    notification without changing its status (chasing's follow-ups); the status changes
    here record their own.

    The entry is chained to the notification's last one (notifications.timeline). The
    notification's row is locked first, so a concurrent writer (a colleague's share, the
    sweep) waits for this transaction and then chains to this entry, never to the same
    head: after a transition's conditional UPDATE the lock is already held and this costs
    nothing more; for the actions that change no column (share, attachment, follow-up) it
    is what serialises them."""
    with transaction.atomic(savepoint=False):
        list(Notification.objects.select_for_update().filter(pk=notification.pk).values_list("pk", flat=True))
        event = Event(
            notification=notification,
            kind=kind,
            at=now,
            actor=actor,
            actor_authority_id=getattr(actor, "authority_id", None),
            detail=detail,
            data=data or {},
        )
        timeline.chain([event])
        event.save(force_insert=True)
    return event


def _require_may(actor, notification, action):
    """A party that may not do this gets 403; one that may not even see it, 404."""
    parties = access.parties_of(actor, notification)
    if not parties:
        from django.http import Http404

        raise Http404("No such notification.")
    if not access.may_act_as(actor, notification, action, parties):
        raise PermissionDenied(_("Your authority or role may not do this to this notification."))


def _transition(notification, action, *, now, expected_version=None, where=None, **updates) -> Notification:
    """Apply ``action`` from the transition table with one conditional UPDATE (``where``
    adds conditions). Raises StaleVersion or Conflict when another change came first."""
    from_statuses, target = TRANSITIONS[action]
    query = Notification.objects.filter(pk=notification.pk, status__in=from_statuses, **(where or {}))
    if expected_version is not None:
        query = query.filter(version=expected_version)
    if target is not None:
        updates["status"] = target
    changed = query.update(version=F("version") + 1, updated_at=now, **updates)
    if changed == 1 and target is not None:
        # The items' copy of the status (Item.notification_status), in the same transaction.
        Item.objects.filter(notification_id=notification.pk).update(notification_status=target)
    if changed != 1:
        notification.refresh_from_db()
        if expected_version is not None and notification.version != expected_version:
            raise StaleVersion()
        raise Conflict(
            _("This notification is %(status)s: it cannot be %(action)s now.")
            % {"status": notification.get_status_display().lower(), "action": Action(action).label.lower()}
        )
    notification.refresh_from_db()
    return notification


def _next_reference(country: Country, year: int) -> str:
    counter, _created = ReferenceCounter.objects.get_or_create(country=country, year=year)
    # The UPDATE takes the row lock until commit: concurrent filers queue here.
    ReferenceCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
    counter.refresh_from_db(fields=["last"])
    return f"{country.code}-{year}-{counter.last:06d}"


def _content_fields(data: NotificationData, importing: Country | None) -> dict:
    return {
        "importing_country": importing,
        # A draft may have no destination yet; submit takes the focal point again anyway.
        "importing_authority": (
            Authority.objects.get(country=importing, is_focal_point=True) if importing is not None else None
        ),
        "national_reference": data.national_reference.strip(),
        "exporter_name": data.exporter.name.strip(),
        "exporter_address": data.exporter.address.strip(),
        "exporter_licence_number": data.exporter.licence_number.strip(),
        "importer_name": data.importer.name.strip(),
        "importer_address": data.importer.address.strip(),
        "importer_licence_number": data.importer.licence_number.strip(),
        "consignee_name": data.consignee.name.strip(),
        "consignee_address": data.consignee.address.strip(),
        "consignee_licence_number": data.consignee.licence_number.strip(),
        "broker_name": data.broker.name.strip(),
        "broker_address": data.broker.address.strip(),
        "broker_licence_number": data.broker.licence_number.strip(),
        "point_of_exit": data.point_of_exit.strip(),
        "point_of_entry": data.point_of_entry.strip(),
        "mode_of_transport": data.mode_of_transport,
        "carrier": data.carrier.strip(),
        "expected_dispatch": data.expected_dispatch,
        "import_authorization_number": data.import_authorization_number.strip(),
        "end_use": data.end_use.strip(),
        "reply_due": data.reply_due,
        "kind": data.kind,
        "suspicion": (data.suspicion or "").strip(),
    }


def _write_children(notification, data: NotificationData, transits, substances):
    notification.items.all().delete()
    notification.transits.all().delete()
    Item.objects.bulk_create(
        Item(
            notification=notification,
            position=position,
            substance=substances.get(item.substance),  # None: not chosen yet, or named outside it
            chemical_name="" if substances.get(item.substance) else (item.chemical_name or "").strip(),
            cas_number="" if substances.get(item.substance) else (item.cas_number or "").strip(),
            form=item.form,
            trade_name=item.trade_name.strip(),
            concentration_percent=item.concentration_percent,
            quantity=item.quantity,
            unit=item.unit,
            packages=item.packages.strip(),
            importing_country_id=notification.importing_country_id if notification.submitted_at else None,
            submitted_at=notification.submitted_at,
            notification_status=notification.status,
        )
        for position, item in enumerate(data.items, start=1)
    )
    TransitCountry.objects.bulk_create(
        TransitCountry(notification=notification, country=country, position=position)
        for position, country in enumerate(transits, start=1)
    )


# --- actions ----------------------------------------------------------------------------


def _require_filer(actor):
    if not getattr(actor, "can_act", False) or actor.authority.kind != AuthorityKind.NATIONAL:
        raise PermissionDenied(_("Only officers of a competent national authority may file notifications."))


@transaction.atomic
def file_notification(
    *, actor, data: NotificationData, draft: bool, now: datetime, require_complete: bool = False
) -> Notification:
    """File a notification for the actor's authority: sent at once (it must be complete),
    or saved as a draft with whatever is filled in (issue 18). ``require_complete`` saves a
    draft only when it could be sent as it is: the filing page's "Review before sending"."""
    _require_filer(actor)
    authority = actor.authority
    importing, transits, substances = validate_notification_data(
        data, exporting_authority=authority, now=now, complete=require_complete or not draft
    )
    notification = Notification.objects.create(
        reference=_next_reference(authority.country, now.year),
        status=Status.DRAFT,
        exporting_authority=authority,
        exporting_country=authority.country,
        created_at=now,
        updated_at=now,
        created_by=actor,
        **_content_fields(data, importing),
    )
    _write_children(notification, data, transits, substances)
    record_event(notification, EventKind.CREATED, now=now, actor=actor)
    if not draft:
        # Checked in full above, against what was sent rather than what was stored.
        notification = _send(actor=actor, notification=notification, now=now)
    return notification


@transaction.atomic
def update_draft(
    *,
    actor,
    notification: Notification,
    data: NotificationData,
    now: datetime,
    expected_version=None,
    require_complete: bool = False,
) -> Notification:
    """Replace a draft's content with ``data``, complete or not (``require_complete`` as in
    file_notification)."""
    _require_may(actor, notification, Action.EDIT_DRAFT)
    if notification.status not in TRANSITIONS[Action.EDIT_DRAFT][0]:
        # Before the content is judged: a sent notification is refused for what it is.
        raise Conflict(_("Only a draft can be edited; a sent notification is amended or withdrawn."))
    importing, transits, substances = validate_notification_data(
        data, exporting_authority=notification.exporting_authority, now=now, complete=require_complete
    )
    notification = _transition(
        notification, Action.EDIT_DRAFT, now=now, expected_version=expected_version, **_content_fields(data, importing)
    )
    _write_children(notification, data, transits, substances)
    record_event(notification, EventKind.EDITED, now=now, actor=actor)
    return notification


@transaction.atomic
def delete_draft(*, actor, notification: Notification, now: datetime, expected_version=None) -> None:
    """Discard a draft; with ``expected_version``, only that version of it (StaleVersion
    if it changed meanwhile, Conflict if it is no longer a draft)."""
    _require_may(actor, notification, Action.DELETE_DRAFT)
    if expected_version is not None:
        current = Notification.objects.filter(pk=notification.pk).values_list("status", "version").first()
        if current is not None and current[0] == Status.DRAFT and current[1] != expected_version:
            raise StaleVersion()
    # A draft is its author's to discard, timeline included (nobody else ever saw it): the
    # one deletion of events the services make, so the append-only delete trigger is
    # switched off for this statement only (the cascade of this one draft's rows).
    with pgtrigger.ignore(timeline.NO_DELETE):
        deleted, _rows = Notification.objects.filter(pk=notification.pk, status=Status.DRAFT).delete()
    if not deleted:
        raise Conflict(_("Only a draft can be deleted."))


def stored_data(notification: Notification) -> NotificationData:
    """What a stored notification holds, in the shape the filing page and the API send, so
    that a draft is judged by the same rules when it is sent as when it was typed."""
    items = notification.items.select_related("substance")
    return NotificationData(
        importing_country=notification.importing_country_id or "",
        **{
            key: PartyData(*(getattr(notification, f"{key}_{name}") for name in ("name", "address", "licence_number")))
            for key in ("exporter", "importer", "consignee", "broker")
        },
        items=[
            ItemData(
                substance=item.substance.code if item.substance else "",
                quantity=item.quantity,
                unit=item.unit,
                form=item.form,
                trade_name=item.trade_name,
                concentration_percent=item.concentration_percent,
                packages=item.packages,
                chemical_name=item.chemical_name,
                cas_number=item.cas_number,
            )
            for item in items
        ],
        transit_countries=[transit.country_id for transit in notification.transits.all()],
        point_of_exit=notification.point_of_exit,
        point_of_entry=notification.point_of_entry,
        mode_of_transport=notification.mode_of_transport,
        carrier=notification.carrier,
        expected_dispatch=notification.expected_dispatch,
        import_authorization_number=notification.import_authorization_number,
        end_use=notification.end_use,
        national_reference=notification.national_reference,
        reply_due=notification.reply_due,
        kind=notification.kind,
        suspicion=notification.suspicion,
    )


def sending_problems(notification: Notification, *, now: datetime) -> dict[str, list[str]]:
    """What stops this draft from being sent today, every field at once, keyed as
    validate_notification_data's errors are (``items.0.quantity``, ``exporter.name``);
    empty when it can be sent. A draft may have been saved incomplete, or have aged (its
    dispatch date passed, its reply-due date now too early): submit refuses it with these,
    and the pages show them instead of a button that would be refused."""
    try:
        validate_notification_data(
            stored_data(notification), exporting_authority=notification.exporting_authority, now=now, complete=True
        )
    except ValidationError as error:
        return error.message_dict
    return {}


@transaction.atomic
def _refuse_open_duplicate(notification: Notification) -> None:
    """A second net under idempotency keys (issue 19): a licensing system that lost an
    answer and retried without its key would file the same shipment twice. While a sent
    notification of this authority with the same national reference is still open, sending
    another is a conflict that names it. A genuine second shipment carries its own national
    reference (the licence system's number for that shipment); without one, nothing is checked.
    The authority's row is locked so that two concurrent sends cannot both pass."""
    national = notification.national_reference.strip()
    if not national:
        return
    Authority.objects.select_for_update().filter(pk=notification.exporting_authority_id).exists()
    existing = (
        Notification.objects.filter(
            exporting_authority_id=notification.exporting_authority_id,
            national_reference__iexact=national,
            status__in=OPEN_STATUSES,
        )
        .exclude(pk=notification.pk)
        .values_list("reference", flat=True)
        .first()
    )
    if existing:
        raise Conflict(
            _(
                "%(reference)s, still open, already has your reference %(national)s: this looks like the same "
                "shipment sent twice. Follow %(reference)s, or give this shipment its own reference."
            )
            % {"reference": existing, "national": national}
        )


def submit(*, actor, notification: Notification, now: datetime, expected_version=None) -> Notification:
    """Send a draft to the importing country. Refused with every missing or wrong field at
    once (sending_problems). The reply-due date defaults to the importing country's declared
    period, counted from today, and may not be earlier."""
    _require_may(actor, notification, Action.SUBMIT)
    if notification.status == Status.DRAFT:  # any other status: _transition's Conflict says why
        problems = sending_problems(notification, now=now)
        if problems:
            raise ValidationError(problems)
    return _send(actor=actor, notification=notification, now=now, expected_version=expected_version)


def _send(*, actor, notification: Notification, now: datetime, expected_version=None) -> Notification:
    """The transition of a draft already checked complete (submit, file_notification)."""
    _refuse_open_duplicate(notification)
    importing = notification.importing_country
    # A voluntary notification has a deadline only if the exporter set one: without it, it
    # is never chased and never counted in timeliness (the contract's "Kinds").
    voluntary = notification.kind == NotificationKind.VOLUNTARY
    reply_due = notification.reply_due or (None if voluntary else importing.earliest_reply_due(now.date()))
    # Follow the focal point as it is now, not as it was when the draft was saved.
    focal_point = Authority.objects.filter(country=importing, is_focal_point=True).first()
    if focal_point is None:
        raise ValidationError({"importing_country": _("The importing country has no focal point on the portal.")})
    notification = _transition(
        notification,
        Action.SUBMIT,
        now=now,
        expected_version=expected_version,
        submitted_at=now,
        reply_due=reply_due,
        importing_authority=focal_point,
        next_chase_at=first_chase_at(reply_due) if reply_due else None,
        chase_step=0,
    )
    Item.objects.filter(notification=notification).update(
        importing_country_id=notification.importing_country_id, submitted_at=now
    )
    record_event(
        notification,
        EventKind.SUBMITTED,
        now=now,
        actor=actor,
        # The timeline's text is for people; ``data`` keeps the date for machines.
        detail=_("Reply due %(date)s.") % {"date": for_people(reply_due)}
        if reply_due
        else _("Voluntary notification without a reply deadline: it is not chased."),
        data={"reply_due": reply_due.isoformat() if reply_due else None},
    )
    emit(notification, "notification.received", now=now)
    if notification.transits.exists():
        emit(notification, "notification.transit", now=now, payload={"to": "transit"})
    risk.evaluate(notification, now=now)
    return notification


@transaction.atomic
def acknowledge(*, actor, notification: Notification, now: datetime, expected_version=None) -> Notification:
    """Confirm receipt. Idempotent: a second acknowledgement changes nothing."""
    _require_may(actor, notification, Action.ACKNOWLEDGE)
    if notification.acknowledged_at is not None:
        if expected_version is not None and notification.version != expected_version:
            raise StaleVersion()
        return notification
    try:
        notification = _transition(
            notification,
            Action.ACKNOWLEDGE,
            now=now,
            expected_version=expected_version,
            where={"acknowledged_at__isnull": True},
            acknowledged_at=now,
        )
    except Conflict:
        # Acknowledged by a colleague a moment ago: idempotent, nothing more to do.
        if notification.acknowledged_at is not None:
            return notification
        raise
    record_event(notification, EventKind.ACKNOWLEDGED, now=now, actor=actor)
    emit(notification, "notification.acknowledged", now=now)
    return notification


RESPONSE_ACTIONS = {
    ResponseKind.NO_OBJECTION: Action.REPLY_NO_OBJECTION,
    ResponseKind.OBJECTION: Action.REPLY_OBJECTION,
    ResponseKind.INFORMATION_REQUESTED: Action.REQUEST_INFORMATION,
}


@transaction.atomic
def respond(
    *, actor, notification: Notification, decision: str, comment: str = "", now: datetime, expected_version=None
) -> Notification:
    """The importing authority replies: no objection, objection (with reasons), or a
    request for information (with the question), which stops the reply clock."""
    if decision not in RESPONSE_ACTIONS:
        raise ValidationError({"decision": _("Choose no objection, objection or request for information.")})
    action = RESPONSE_ACTIONS[decision]
    _require_may(actor, notification, action)
    comment = (comment or "").strip()
    if decision == ResponseKind.OBJECTION and not comment:
        raise ValidationError({"comment": _("Give the reasons for the objection.")})
    if decision == ResponseKind.INFORMATION_REQUESTED and not comment:
        raise ValidationError({"comment": _("Write the question the exporting authority must answer.")})
    if notification.status in FINAL_DECISIONS:
        raise Conflict(_("A final reply has already been given."))

    updates = {}
    if notification.first_response_at is None:
        updates["first_response_at"] = now
        # Without a deadline (a voluntary notification) there is no "on time".
        updates["answered_on_time"] = (
            now < reply_deadline(notification.reply_due) if notification.reply_due is not None else None
        )
    if decision == ResponseKind.INFORMATION_REQUESTED:
        updates["information_requested_at"] = now
        # The clock stops: nothing to chase until the exporter answers.
        updates["next_chase_at"] = None
    else:
        updates["replied_at"] = now
        updates["next_chase_at"] = None
    if notification.acknowledged_at is None:
        # A reply is proof of receipt.
        updates["acknowledged_at"] = now
    try:
        with transaction.atomic():
            notification = _transition(notification, action, now=now, expected_version=expected_version, **updates)
            Response.objects.create(
                notification=notification,
                kind=decision,
                comment=comment,
                authority=actor.authority,
                user=actor,
                created_at=now,
            )
    except IntegrityError as error:  # the unique final decision: another reply won
        raise Conflict(_("A final reply has already been given.")) from error
    kind = EventKind.INFORMATION_REQUESTED if decision == ResponseKind.INFORMATION_REQUESTED else EventKind.REPLIED
    record_event(notification, kind, now=now, actor=actor, detail=comment, data={"decision": decision})
    _resolve_silence(notification, now=now)
    emit(
        notification,
        "notification.information_requested"
        if decision == ResponseKind.INFORMATION_REQUESTED
        else "notification.replied",
        now=now,
    )
    return notification


def _resolve_silence(notification, *, now):
    """A late answer resolves the silence signal (the notification stays counted late)."""
    resolved = RiskSignal.objects.filter(
        notification=notification, kind=RiskKind.SILENCE, resolved_at__isnull=True
    ).update(resolved_at=now)
    if resolved:
        record_event(notification, EventKind.SILENCE_RESOLVED, now=now)


@transaction.atomic
def provide_information(
    *, actor, notification: Notification, comment: str, now: datetime, expected_version=None
) -> Notification:
    """The exporter answers a request for information; the reply clock restarts and the
    due date moves by the (whole, rounded up) days the question was open."""
    _require_may(actor, notification, Action.PROVIDE_INFORMATION)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": _("Write the answer to the request for information.")})
    if notification.status != Status.INFORMATION_REQUESTED:
        raise Conflict(_("No request for information is open."))
    open_for = now - notification.information_requested_at
    shift = timedelta(days=math.ceil(open_for / timedelta(days=1)))
    if notification.reply_due is not None and not in_range(notification.reply_due):
        # Only a row written outside the services can hold such a date; refuse, never overflow.
        raise ValidationError({"reply_due": out_of_range_message()})
    new_due = notification.reply_due + shift if notification.reply_due is not None else None
    notification = _transition(
        notification,
        Action.PROVIDE_INFORMATION,
        now=now,
        expected_version=expected_version,
        reply_due=new_due,
        information_requested_at=None,
        # The ladder resumes after the steps already taken, against the new due date:
        # each step still happens once per notification (a reminder is not sent twice).
        next_chase_at=next_chase_at(new_due, notification.chase_step) if new_due else None,
    )
    Response.objects.create(
        notification=notification,
        kind=ResponseKind.INFORMATION_PROVIDED,
        comment=comment,
        authority=actor.authority,
        user=actor,
        created_at=now,
    )
    record_event(
        notification,
        EventKind.INFORMATION_PROVIDED,
        now=now,
        actor=actor,
        detail=comment,
        data={"reply_due": new_due.isoformat() if new_due else None, "clock_stopped_days": shift.days},
    )
    emit(
        notification,
        "notification.received",
        now=now,
        payload={"subject": _("Pre-export notification %(ref)s: the exporting authority answered your question")},
    )
    return notification


@transaction.atomic
def withdraw(*, actor, notification: Notification, reason: str, now: datetime, expected_version=None) -> Notification:
    _require_may(actor, notification, Action.WITHDRAW)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for withdrawing the notification.")})
    if notification.status in FINAL_DECISIONS:
        raise Conflict(_("A final reply has been given: the notification can no longer be withdrawn."))
    notification = _transition(
        notification,
        Action.WITHDRAW,
        now=now,
        expected_version=expected_version,
        withdrawn_at=now,
        next_chase_at=None,
    )
    record_event(notification, EventKind.WITHDRAWN, now=now, actor=actor, detail=reason)
    emit(notification, "notification.withdrawn", now=now)
    return notification


# --- amendment of a sent notification (issue 14; the contract's "Amendment") ----------------

# What an amendment may change, by the services' field keys; anything else (a party, the
# destination, the end use, a substance, an item added or removed, a higher quantity)
# is another shipment: a new notification.
AMENDABLE = {
    "mode_of_transport": gettext_lazy("Mode of transport"),
    "point_of_exit": gettext_lazy("Point of exit"),
    "point_of_entry": gettext_lazy("Point of entry"),
    "expected_dispatch": gettext_lazy("Expected dispatch"),
    "carrier": gettext_lazy("Carrier"),
    "transit_countries": gettext_lazy("Transit countries"),
    "import_authorization_number": gettext_lazy("Import authorization number"),
    "national_reference": gettext_lazy("National reference"),
}
ITEM_AMENDABLE = {"quantity": gettext_lazy("quantity"), "packages": gettext_lazy("packages")}
_ITEM_LOCKED = ("substance", "unit", "form", "trade_name", "concentration_percent")


def amendment_label(key: str) -> str:
    """A changed field's name for people: "Point of entry", "Item 2: quantity"."""
    if key.startswith("items."):
        _items, index, name = key.split(".")
        label = ITEM_AMENDABLE.get(name, name)
        return _("Item %(position)d: %(field)s") % {"position": int(index) + 1, "field": label}
    return str(AMENDABLE.get(key, key))


def _comparable(data: NotificationData) -> dict:
    """The notification's content by field key, stripped as it is stored."""
    text = {
        "importing_country": (data.importing_country or "").upper(),
        "mode_of_transport": data.mode_of_transport,
        "expected_dispatch": data.expected_dispatch,
        "transit_countries": [code.upper() for code in data.transit_countries if code],
        "reply_due": data.reply_due,
    }
    for key in ("point_of_exit", "point_of_entry", "carrier", "import_authorization_number", "national_reference"):
        text[key] = getattr(data, key).strip()
    text["end_use"] = data.end_use.strip()
    for party in ("exporter", "importer", "consignee", "broker"):
        for name in ("name", "address", "licence_number"):
            text[f"{party}.{name}"] = getattr(getattr(data, party), name).strip()
    return text


def _as_json(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.3f}"
    return value


def amendment_value(value) -> str:
    """A value of an amendment's before or after, for people (the timeline, the page)."""
    if isinstance(value, date):
        return for_people(value)
    if isinstance(value, list):
        return ", ".join(value) or "—"
    return str(_as_json(value) or "—")


def amendment_changes(stored: NotificationData, proposed: NotificationData) -> dict[str, tuple]:
    """What ``proposed`` changes in ``stored``, by field key: ``{key: (old, new)}``. A
    change that needs a new notification is a ValidationError on its field, all at once,
    that says so."""
    new_notification = _("This cannot be amended: withdraw this notification and file a new one.")
    before, after = _comparable(stored), _comparable(proposed)
    changes, errors = {}, {}
    for key, old in before.items():
        if after[key] == old:
            continue
        if key in AMENDABLE:
            changes[key] = (old, after[key])
        elif key == "reply_due":
            errors[key] = [_("The reply-due date is not amended: an amendment never restarts the reply clock.")]
        else:
            errors[key] = [new_notification]
    if len(proposed.items) != len(stored.items):
        errors["items"] = [_("Items cannot be added or removed by an amendment: file a new notification.")]
    else:
        for index, (old, new) in enumerate(zip(stored.items, proposed.items, strict=True)):
            prefix = f"items.{index}"
            for name in _ITEM_LOCKED:
                if (getattr(new, name) or "") != (getattr(old, name) or ""):
                    errors[f"{prefix}.{name}"] = [new_notification]
            if new.quantity != old.quantity:
                if new.quantity is None or new.quantity > old.quantity:
                    errors[f"{prefix}.quantity"] = [
                        _("An amendment may only lower a quantity; more than %(quantity)s needs a new notification.")
                        % {"quantity": _as_json(old.quantity)}
                    ]
                else:
                    changes[f"{prefix}.quantity"] = (old.quantity, new.quantity)
            if new.packages.strip() != old.packages.strip():
                changes[f"{prefix}.packages"] = (old.packages.strip(), new.packages.strip())
    if errors:
        raise ValidationError(errors)
    return changes


def check_amendment(notification: Notification, data: NotificationData, *, now: datetime) -> dict[str, tuple]:
    """What amending ``notification`` to ``data`` would change (``{key: (old, new)}``),
    or the ValidationError amend would raise; writes nothing (the page's review step)."""
    changes = amendment_changes(stored_data(notification), data)
    if not changes:
        return changes
    # The new values are held to the filing's rules, but only where they changed: a
    # dispatch date that has passed meanwhile does not block amending the carrier.
    try:
        validate_notification_data(
            replace(data, reply_due=None), exporting_authority=notification.exporting_authority, now=now
        )
    except ValidationError as error:
        relevant = {key: messages for key, messages in error.message_dict.items() if key in changes}
        if relevant:
            raise ValidationError(relevant) from error
    return changes


@transaction.atomic
def amend(
    *, actor, notification: Notification, data: NotificationData, now: datetime, expected_version=None
) -> Notification:
    """Amend a sent notification still awaiting its reply: the shipment's details, the
    route, the import authorization and national references, an item's packages or a
    lower quantity. Kept in the timeline with its before and after, told to the importing
    and transit authorities; the reply clock runs on (reply_due and the chase are untouched).
    Sending nothing new changes nothing (no event, no version)."""
    _require_may(actor, notification, Action.AMEND)
    if notification.status not in TRANSITIONS[Action.AMEND][0]:
        raise Conflict(
            _("Only a notification awaiting its reply can be amended; this one is “%(status)s”.")
            % {"status": notification.get_status_display()}
        )
    if expected_version is not None and notification.version != expected_version:
        raise StaleVersion()
    changes = check_amendment(notification, data, now=now)
    if not changes:
        return notification
    updates = {
        key: new.strip() if isinstance(new, str) else new for key, (_old, new) in changes.items() if key in AMENDABLE
    }
    updates.pop("transit_countries", None)
    notification = _transition(notification, Action.AMEND, now=now, expected_version=expected_version, **updates)
    if "national_reference" in changes:
        _refuse_open_duplicate(notification)
    if "transit_countries" in changes:
        route = changes["transit_countries"][1]
        notification.transits.all().delete()
        TransitCountry.objects.bulk_create(
            TransitCountry(notification=notification, country_id=code, position=position)
            for position, code in enumerate(route, start=1)
        )
    for index, item in enumerate(data.items, start=1):
        if f"items.{index - 1}.quantity" in changes or f"items.{index - 1}.packages" in changes:
            Item.objects.filter(notification=notification, position=index).update(
                quantity=item.quantity, packages=item.packages.strip()
            )
    record_event(
        notification,
        EventKind.AMENDED,
        now=now,
        actor=actor,
        detail="; ".join(
            f"{amendment_label(key)}: {amendment_value(old)} → {amendment_value(new)}"
            for key, (old, new) in changes.items()
        ),
        data={"changes": {key: [_as_json(old), _as_json(new)] for key, (old, new) in changes.items()}},
    )
    emit(notification, "notification.amended", now=now)
    risk.evaluate(notification, now=now)  # what was changed may raise or resolve a flag
    return notification


# --- the shipment after the reply: dispatch and arrival (issue 14) -------------------------------

# A received quantity further than this from the dispatched one is diversion in transit
# until explained (the contract's quantity_discrepancy).
DISCREPANCY_TOLERANCE = Decimal("0.01")


@dataclass
class ShippedQuantity:
    """A quantity per item, by the item's position (1, 2, ...), as the API and page send it."""

    position: int | None
    quantity: Decimal | None


def _quantities_by_item(notification, quantities: list[ShippedQuantity], *, ceiling: str | None):
    """{item: quantity} for every item of ``notification``, or the field errors keyed by
    the index in ``quantities`` (``items.0.quantity``) naming the item. ``ceiling``: the
    item attribute a quantity may not exceed (the notified one, for a dispatch)."""
    items = {item.position: item for item in notification.items.select_related("substance")}
    errors, chosen = {}, {}
    for index, row in enumerate(quantities):
        key = f"items.{index}"
        item = items.get(row.position)
        if item is None:
            errors[f"{key}.position"] = [_("This notification has no item %(position)s.") % {"position": row.position}]
            continue
        if item in chosen:
            errors[f"{key}.position"] = [_("Item %(position)s is given twice.") % {"position": row.position}]
            continue
        if row.quantity is None:
            errors[f"{key}.quantity"] = [_("Give the quantity of item %(position)s.") % {"position": row.position}]
            continue
        if row.quantity < 0:
            errors[f"{key}.quantity"] = [_("A quantity cannot be negative.")]
            continue
        limit = getattr(item, ceiling) if ceiling else None
        if limit is not None and row.quantity > limit:
            errors[f"{key}.quantity"] = [
                _(
                    "Item %(position)s (%(substance)s): %(quantity)s %(unit)s is more than the %(limit)s %(unit)s "
                    "notified. Ship at most what was notified; a larger shipment needs a new notification."
                )
                % {
                    "position": item.position,
                    "substance": item.name or "—",
                    "quantity": f"{row.quantity:.3f}",
                    "limit": f"{limit:.3f}",
                    "unit": item.unit,
                }
            ]
            continue
        chosen[item] = row.quantity
    missing = [position for position, item in items.items() if item not in chosen and not errors]
    if missing:
        errors["items"] = [
            _("Give a quantity for every item (0 for one not shipped): item %(positions)s is missing.")
            % {"positions": ", ".join(str(p) for p in missing)}
        ]
    return chosen, errors


def _check_shipment_date(errors, key, value, *, now, not_before=None, not_before_message=""):
    if value is None:
        errors[key] = [_("Give the date.")]
    elif not in_range(value):
        errors[key] = [out_of_range_message()]
    elif value > now.date():
        errors[key] = [_("The date cannot be in the future.")]
    elif not_before is not None and value < not_before:
        errors[key] = [not_before_message]


@transaction.atomic
def dispatch(
    *,
    actor,
    notification: Notification,
    dispatched_on: date | None,
    quantities: list[ShippedQuantity],
    now: datetime,
    expected_version=None,
) -> Notification:
    """The exporting authority records that the consignment left: the date and the
    quantity shipped of every item, never above the notified one. After no objection, or
    under tacit consent once the reply period has passed; once. The importing authority is
    told, and the arrival ladder starts (chasing.arrival)."""
    _require_may(actor, notification, Action.DISPATCH)
    in_force = Suspension.objects.filter(notification=notification, lifted_at__isnull=True).first()
    if in_force is not None:
        raise Conflict(
            _("%(authority)s suspended this consignment pending verification: it must not be shipped until lifted.")
            % {"authority": in_force.authority.name}
        )
    if notification.dispatched_on is not None:
        raise Conflict(
            _("The dispatch was recorded already, on %(date)s.") % {"date": for_people(notification.dispatched_on)}
        )
    if notification.status not in TRANSITIONS[Action.DISPATCH][0] or not access.shipment_allows(
        notification, Action.DISPATCH, now
    ):
        raise Conflict(
            _(
                "The dispatch is recorded after the importing country's no objection (or, under tacit consent, once "
                "the reply period has passed); this notification is “%(status)s”."
            )
            % {"status": notification.get_status_display()}
        )
    errors = {}
    sent_on = notification.submitted_at.date() if notification.submitted_at else None
    _check_shipment_date(
        errors,
        "dispatched_on",
        dispatched_on,
        now=now,
        not_before=sent_on,
        not_before_message=_("The dispatch cannot be before the notification was sent (%(date)s).")
        % {"date": for_people(sent_on) if sent_on else ""},
    )
    chosen, item_errors = _quantities_by_item(notification, quantities, ceiling="quantity")
    errors.update(item_errors)
    if errors:
        raise ValidationError(errors)
    notification = _transition(
        notification,
        Action.DISPATCH,
        now=now,
        expected_version=expected_version,
        where={"dispatched_on__isnull": True},
        dispatched_on=dispatched_on,
        dispatch_recorded_at=now,
        arrival_check_at=arrival_reminder_at(dispatched_on),
    )
    for item, quantity in chosen.items():
        Item.objects.filter(pk=item.pk).update(shipped_quantity=quantity)
    record_event(
        notification,
        EventKind.DISPATCHED,
        now=now,
        actor=actor,
        detail=_("Dispatched on %(date)s: %(items)s.")
        % {"date": for_people(dispatched_on), "items": _quantities_text(chosen)},
        data={
            "dispatched_on": dispatched_on.isoformat(),
            "items": {str(item.position): f"{quantity:.3f}" for item, quantity in chosen.items()},
        },
    )
    emit(notification, "notification.dispatched", now=now)
    return notification


def _quantities_text(chosen) -> str:
    return "; ".join(
        _("item %(position)d %(quantity)s %(unit)s")
        % {"position": item.position, "quantity": f"{q:.3f}", "unit": item.unit}
        for item, q in sorted(chosen.items(), key=lambda pair: pair[0].position)
    )


def differs(shipped: Decimal | None, received: Decimal | None) -> bool:
    """Whether a received quantity is more than 1 % away from the dispatched one: the one
    rule for the flag and for the arrival page's warning before it is recorded."""
    if shipped is None or received is None or shipped == received:
        return False
    return abs(received - shipped) > shipped * DISCREPANCY_TOLERANCE if shipped else received > 0


def discrepancies(items) -> list[str]:
    """What differs by more than 1 % between the dispatched and received quantities, item
    by item, in words with the numbers (the flag's detail)."""
    found = []
    for item in items:
        shipped, received = item.shipped_quantity, item.received_quantity
        if not differs(shipped, received):
            continue
        change = f"{(received - shipped) / shipped * 100:+.1f} %" if shipped else "+∞"
        found.append(
            _(
                "Item %(position)d (%(substance)s): %(shipped)s %(unit)s dispatched, "
                "%(received)s %(unit)s received (%(change)s)."
            )
            % {
                "position": item.position,
                "substance": item.name or "—",
                "shipped": f"{shipped:.3f}",
                "received": f"{received:.3f}",
                "unit": item.unit,
                "change": change,
            }
        )
    return found


@transaction.atomic
def confirm_arrival(
    *,
    actor,
    notification: Notification,
    arrived_on: date | None,
    quantities: list[ShippedQuantity],
    comment: str = "",
    now: datetime,
    expected_version=None,
) -> Notification:
    """The importing authority confirms the arrival: the date and the quantity received of
    every item. A difference over 1 % from the dispatched quantity raises
    ``quantity_discrepancy``; the confirmation resolves ``arrival_unconfirmed``. Once."""
    _require_may(actor, notification, Action.CONFIRM_ARRIVAL)
    if notification.status not in TRANSITIONS[Action.CONFIRM_ARRIVAL][0]:
        raise Conflict(
            _("No consignment leaves under a notification that is “%(status)s”.")
            % {"status": notification.get_status_display()}
        )
    if notification.dispatched_on is None:
        # The rule: an arrival before the dispatch is bad input (400), like one dated before it.
        raise ValidationError(
            {
                "arrived_on": _(
                    "The exporting authority has not recorded the dispatch yet: confirm the arrival after it."
                )
            }
        )
    if notification.arrived_on is not None:
        raise Conflict(
            _("The arrival was confirmed already, on %(date)s.") % {"date": for_people(notification.arrived_on)}
        )
    errors = {}
    _check_shipment_date(
        errors,
        "arrived_on",
        arrived_on,
        now=now,
        not_before=notification.dispatched_on,
        not_before_message=_("The arrival cannot be before the dispatch on %(date)s.")
        % {"date": for_people(notification.dispatched_on)},
    )
    chosen, item_errors = _quantities_by_item(notification, quantities, ceiling=None)
    errors.update(item_errors)
    if errors:
        raise ValidationError(errors)
    notification = _transition(
        notification,
        Action.CONFIRM_ARRIVAL,
        now=now,
        expected_version=expected_version,
        where={"arrived_on__isnull": True, "dispatched_on__isnull": False},
        arrived_on=arrived_on,
        arrival_recorded_at=now,
        arrival_comment=comment.strip(),
        arrival_check_at=None,
    )
    for item, quantity in chosen.items():
        Item.objects.filter(pk=item.pk).update(received_quantity=quantity)
    record_event(
        notification,
        EventKind.ARRIVED,
        now=now,
        actor=actor,
        detail=_("Arrived on %(date)s: %(items)s.")
        % {"date": for_people(arrived_on), "items": _quantities_text(chosen)}
        + (f"\n{comment.strip()}" if comment.strip() else ""),
        data={
            "arrived_on": arrived_on.isoformat(),
            "items": {str(item.position): f"{quantity:.3f}" for item, quantity in chosen.items()},
        },
    )
    RiskSignal.objects.filter(
        notification=notification, kind=RiskKind.ARRIVAL_UNCONFIRMED, resolved_at__isnull=True
    ).update(resolved_at=now)
    found = discrepancies(notification.items.select_related("substance"))
    if found:
        RiskSignal.objects.update_or_create(
            notification=notification,
            kind=RiskKind.QUANTITY_DISCREPANCY,
            defaults={"raised_at": now, "resolved_at": None, "detail": " ".join(found)},
        )
    emit(notification, "notification.arrived", now=now)
    return notification


@transaction.atomic
def explain_discrepancy(*, actor, notification: Notification, comment: str, now: datetime) -> Notification:
    """The importing or exporting authority explains a quantity difference (a spill, a
    weighing error, a customs sample): the flag is resolved, the explanation kept in the
    timeline. Without an open discrepancy, a Conflict."""
    parties = access.parties_of(actor, notification)
    if not getattr(actor, "can_act", False) or not parties & {access.Party.IMPORTING, access.Party.EXPORTING}:
        raise PermissionDenied
    if not comment.strip():
        raise ValidationError({"comment": _("Say what explains the difference.")})
    resolved = RiskSignal.objects.filter(
        notification=notification, kind=RiskKind.QUANTITY_DISCREPANCY, resolved_at__isnull=True
    ).update(resolved_at=now)
    if not resolved:
        raise Conflict(_("There is no unexplained quantity difference on this notification."))
    record_event(notification, EventKind.DISCREPANCY_EXPLAINED, now=now, actor=actor, detail=comment.strip())
    return notification


# --- suspension of a consignment (issue 12; CND resolution 60/5, para. 9) ------------------------


@transaction.atomic
def suspend(*, actor, notification: Notification, reason: str, now: datetime) -> Suspension:
    """Suspend the consignment pending verification: any authority party to the shipment
    (exporting, importing, transit), with a reason. Every party and INCB is told at once;
    the exporter's pages say it must not be shipped; the reply status does not change.
    One suspension in force at a time (a second is a Conflict, also under a race: the
    database's partial unique constraint decides)."""
    _require_may(actor, notification, Action.SUSPEND)
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the consignment is suspended.")})
    current = Suspension.objects.filter(notification=notification, lifted_at__isnull=True).first()
    if current is not None:
        raise Conflict(
            _("%(authority)s suspended this consignment already, on %(date)s.")
            % {"authority": current.authority.name, "date": for_people(current.at.date())}
        )
    notification = _transition(notification, Action.SUSPEND, now=now)
    try:
        with transaction.atomic():
            suspension = Suspension.objects.create(
                notification=notification,
                authority=actor.authority,
                country_id=actor.authority.country_id,
                reason=reason.strip(),
                at=now,
                by=actor,
            )
    except IntegrityError as error:
        raise Conflict(_("Another authority suspended this consignment a moment ago.")) from error
    record_event(
        notification,
        EventKind.SUSPENDED,
        now=now,
        actor=actor,
        detail=reason.strip(),
        data={"authority": actor.authority.code, "country": actor.authority.country_id},
    )
    emit(notification, "notification.suspended", now=now)
    return suspension


@transaction.atomic
def lift_suspension(*, actor, notification: Notification, comment: str, now: datetime) -> Suspension:
    """Lift the suspension in force: only the authority that suspended it, with a comment.
    The suspension stays in the notification's history."""
    _require_may(actor, notification, Action.LIFT_SUSPENSION)
    current = Suspension.objects.select_for_update().filter(notification=notification, lifted_at__isnull=True).first()
    if current is None:
        raise Conflict(_("No suspension of this consignment is in force."))
    if current.authority_id != actor.authority_id:
        raise PermissionDenied(
            _("Only %(authority)s, which suspended it, lifts the suspension.") % {"authority": current.authority.name}
        )
    if not comment.strip():
        raise ValidationError({"comment": _("Say what the verification found.")})
    _transition(notification, Action.LIFT_SUSPENSION, now=now)
    Suspension.objects.filter(pk=current.pk).update(lifted_at=now, lifted_by=actor, lift_comment=comment.strip())
    record_event(notification, EventKind.SUSPENSION_LIFTED, now=now, actor=actor, detail=comment.strip())
    emit(notification, "notification.suspension_lifted", now=now)
    current.refresh_from_db()
    return current


@transaction.atomic
def share(*, actor, notification: Notification, authority: Authority, now: datetime) -> Notification:
    """Let another competent authority read the notification (a guardian object permission
    on the authority's group). Read only; revocable."""
    _require_may(actor, notification, Action.SHARE)
    if notification.status == Status.DRAFT:
        raise Conflict(_("Send the notification before sharing it."))
    if authority.is_incb:
        raise ValidationError({"authority": _("INCB sees every notification already.")})
    if authority.pk == notification.exporting_authority_id:
        raise ValidationError({"authority": _("This is your own authority.")})
    if access.shared_authorities(notification).filter(pk=authority.pk).exists():
        raise Conflict(_("%(authority)s can already read this notification.") % {"authority": authority.name})
    assign_perm(access.VIEW_PERMISSION, authority.group, notification)
    record_event(
        notification,
        EventKind.SHARED,
        now=now,
        actor=actor,
        detail=authority.name,
        data={"authority": authority.code},
    )
    return notification


@transaction.atomic
def revoke_share(*, actor, notification: Notification, authority: Authority, now: datetime) -> Notification:
    """Stop sharing; an authority it was not shared with is a Conflict (nothing recorded)."""
    _require_may(actor, notification, Action.SHARE)
    if not access.shared_authorities(notification).filter(pk=authority.pk).exists():
        raise Conflict(_("%(authority)s was not given this notification.") % {"authority": authority.name})
    remove_perm(access.VIEW_PERMISSION, authority.group, notification)
    record_event(
        notification,
        EventKind.SHARE_REVOKED,
        now=now,
        actor=actor,
        detail=authority.name,
        data={"authority": authority.code},
    )
    return notification


ALLOWED_ATTACHMENT_TYPES = {
    b"%PDF-": ("application/pdf", "pdf"),
    b"\x89PNG\r\n\x1a\n": ("image/png", "png"),
    b"\xff\xd8\xff": ("image/jpeg", "jpg"),
}


def sniff_attachment_type(head: bytes):
    """The content type from the file's first bytes, never from its name."""
    for magic, kind in ALLOWED_ATTACHMENT_TYPES.items():
        if head.startswith(magic):
            return kind
    return None


ATTACHMENT_NAME_MAX_LENGTH = 120  # characters, extension included (the column holds 200)
ATTACHMENT_FALLBACK_NAME = "attachment"
# Unicode categories never kept in a name (whitespace among them becomes a space):
# control (NUL, ESC...), format (the bidi overrides such as U+202E, zero-width characters,
# the BOM), surrogate, private use, unassigned.
_DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}
_RESERVED_CHARACTERS = re.compile(r'[<>:"|?*]')  # refused in a file name on Windows
# A last extension: a dot and 1 to 10 ASCII letters and digits, one of them a letter.
_EXTENSION = re.compile(r"\.(?=[A-Za-z0-9]{1,10}\Z)[0-9]*[A-Za-z][A-Za-z0-9]*\Z")


def attachment_name(uploaded_name: str | None, extension: str) -> str:
    """The name an attachment is stored and served under: the uploader's base name,
    cleaned, with the ``extension`` of the type sniffed from the content.

    - Only the last path part is kept; ``/`` and ``\\`` both separate.
    - Unicode is NFC. Whitespace (tab, CR, LF...) becomes a space and runs of spaces one;
      the characters of ``_DROPPED_CATEGORIES`` are removed; ``<>:"|?*`` become ``_``.
    - The last extension, when there is one (a dot and up to 10 ASCII letters and digits,
      one a letter), is replaced; otherwise the extension is added. Earlier dots are part
      of the base name, harmless once the last extension is the true one: ``Report.html``
      is ``Report.pdf``, ``scan.PDF.exe`` is ``scan.PDF.pdf``, ``photo.jpeg`` is
      ``photo.jpg``, ``permit v1.2`` is ``permit v1.2.pdf``.
    - Dots and spaces are trimmed from the end of the name (``Report.html.`` is
      ``Report.pdf``) and from both ends of the base name (never a hidden file:
      ``.hidden.html`` is ``hidden.pdf``); an empty one is ``attachment``.
    - The base name is cut so that the whole is at most ATTACHMENT_NAME_MAX_LENGTH."""
    name = re.split(r"[/\\]", uploaded_name or "")[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(
        " " if char.isspace() else char
        for char in name
        if char.isspace() or unicodedata.category(char) not in _DROPPED_CATEGORIES
    )
    name = _RESERVED_CHARACTERS.sub("_", re.sub(r" {2,}", " ", name)).rstrip(". ")
    name = _EXTENSION.sub("", name)
    suffix = f".{extension}"
    stem = name.strip(". ")[: ATTACHMENT_NAME_MAX_LENGTH - len(suffix)].rstrip(". ")
    return (stem or ATTACHMENT_FALLBACK_NAME) + suffix


def attachment_too_large(max_bytes: int) -> ValidationError:
    """The refusal of a file over ``max_bytes``, beside the file field: add_attachment's,
    and the page's when the upload is cut off while it arrives (web.uploads)."""
    return ValidationError({"file": _("The file is larger than %(mb)d MB.") % {"mb": max_bytes // (1024 * 1024)}})


def served_attachment(attachment: Attachment) -> tuple[str, str]:
    """The name and content type a stored attachment is served with: its sniffed type, and
    its name by attachment_name with that type's extension (also for a row stored before
    names were cleaned). A type that is not one of ours (never stored) is served as
    ``application/octet-stream``."""
    extensions = dict(ALLOWED_ATTACHMENT_TYPES.values())
    if attachment.content_type not in extensions:
        return attachment_name(attachment.original_name, "bin"), "application/octet-stream"
    return attachment_name(attachment.original_name, extensions[attachment.content_type]), attachment.content_type


@transaction.atomic
def add_attachment(*, actor, notification: Notification, upload, now: datetime, max_bytes: int) -> Attachment:
    """Store ``upload`` (at most ``max_bytes``; a PDF, PNG or JPEG by its first bytes) under
    attachment_name: the uploader's base name, cleaned, with the sniffed type's extension."""
    _require_may(actor, notification, Action.ATTACH)
    if notification.status not in TRANSITIONS[Action.ATTACH][0]:
        raise Conflict(_("The notification has been withdrawn."))
    if upload.size > max_bytes:
        raise attachment_too_large(max_bytes)
    head = upload.read(16)
    upload.seek(0)
    kind = sniff_attachment_type(head)
    if kind is None:
        raise ValidationError({"file": _("Attach a PDF, PNG or JPEG file.")})
    content_type, extension = kind
    attachment = Attachment(
        notification=notification,
        token=secrets.token_hex(16),
        original_name=attachment_name(upload.name, extension),
        content_type=content_type,
        size=upload.size,
        uploaded_by=actor,
        uploaded_at=now,
    )
    attachment.file.save(attachment.token, upload, save=False)
    attachment.save()
    record_event(notification, EventKind.ATTACHMENT_ADDED, now=now, actor=actor, detail=attachment.original_name)
    return attachment


# --- who has opened what ---------------------------------------------------------------------


def record_opened(*, actor, notification: Notification, now: datetime, parties: set[str] | None = None) -> None:
    """Note that someone of ``actor``'s authority opened the notification's page: from now on
    it is no longer "new" to that authority. Only the first opening is kept (who, when); the
    later ones change nothing. One statement, INSERT ... ON CONFLICT DO NOTHING, so that two
    colleagues opening it at once cannot fail, and no lock is taken on the notification.

    Not a timeline event: reading changes nothing of the notification, and the timeline is
    the record every party sees. ``parties`` (access.parties_of), when the caller has them,
    saves asking again; someone who is no party to it records nothing."""
    if actor.authority_id is None:
        return  # an operator of the installation reads for no authority
    parties = access.parties_of(actor, notification) if parties is None else parties
    if not parties:
        return
    NotificationRead.objects.bulk_create(
        [NotificationRead(notification=notification, authority_id=actor.authority_id, first_opened_at=now, by=actor)],
        ignore_conflicts=True,
    )
