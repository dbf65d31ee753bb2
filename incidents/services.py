"""The one write path of incidents: report and amend (the page and the API call these).

Every check runs before anything is written, and all the problems of a body come back at
once, one message per field (``substances.0.cas_number``, ``parties.1.name``, ``route``,
``occurred_on``): a ValidationError, so nothing is stored. The alerts (e-mail and webhook
``incident.reported`` to the concerned focal points) are outbox rows written in the same
transaction, with a dedup key so that they exist once; the background flagging of the open
notifications the incident matches is enqueued after commit (incidents.flags)."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from authorities import cas
from authorities.models import Authority, Country, Substance
from messaging.outbox import emit
from notifications import access as notification_access

from . import access
from .flags import flag_open_notifications_task
from .matching import normalise
from .models import (
    Incident,
    IncidentCounter,
    IncidentEvent,
    IncidentEventKind,
    IncidentKind,
    IncidentParty,
    IncidentSubstance,
    PartyRole,
    RouteStop,
    Unit,
    Visibility,
)

REPORTED_TOPIC = "incident.reported"


class StaleVersion(Exception):
    """The incident changed since the version the caller named (If-Match)."""


@dataclass
class SubstanceData:
    substance: str | None = None  # a catalogue code, or None for a named chemical
    chemical_name: str = ""
    cas_number: str = ""
    quantity: Decimal | None = None
    unit: str = ""


@dataclass
class PartyData:
    role: str = PartyRole.OTHER
    name: str = ""
    address: str = ""
    country: str | None = None


@dataclass
class IncidentData:
    kind: str = ""
    occurred_on: date | None = None
    country: str | None = None  # the reporting country: the reporter's own (default)
    description: str = ""
    modus_operandi: str = ""
    substances: list[SubstanceData] = field(default_factory=list)
    parties: list[PartyData] = field(default_factory=list)
    route: list[str] = field(default_factory=list)
    related_notifications: list[str] = field(default_factory=list)
    visibility: str = Visibility.CONCERNED
    shared_with: list[str] = field(default_factory=list)


def cas_is_valid(number: str) -> bool:
    """A CAS registry number NNNNNNN-NN-N whose check digit is right (authorities.cas)."""
    return cas.is_valid(number)


# --- validation -----------------------------------------------------------------------


def _countries(codes) -> dict[str, Country]:
    wanted = {str(code).strip().upper() for code in codes if code}
    return {c.code: c for c in Country.objects.filter(code__in=wanted)}


def _clean(actor, data: IncidentData, *, now: datetime) -> dict:
    """Everything checked; the resolved rows to write, or a ValidationError with every
    problem (one message per field)."""
    errors: dict[str, str] = {}
    authority = actor.authority
    codes = [data.country, *data.route, *data.shared_with, *(p.country for p in data.parties)]
    countries = _countries(codes)

    if data.kind not in IncidentKind.values:
        errors["kind"] = _("Choose one of: %(kinds)s.") % {"kinds": ", ".join(IncidentKind.values)}
    if data.occurred_on is None:
        errors["occurred_on"] = _("Give the date of the incident.")
    elif data.occurred_on > now.date():
        errors["occurred_on"] = _("The date is in the future: give the day it happened.")
    elif data.occurred_on.year < 2000:
        errors["occurred_on"] = _("Give a date from 2000 on.")
    country = (data.country or authority.country_id or "").strip().upper()
    if country != authority.country_id:
        errors["country"] = _("You report incidents for your own country (%(code)s).") % {"code": authority.country_id}
    if not data.description.strip():
        errors["description"] = _("Say what happened.")
    if data.visibility not in Visibility.values:
        errors["visibility"] = _("Choose “concerned” or “all”.")

    route = [str(code).strip().upper() for code in data.route]
    unknown = [code for code in route if code not in countries]
    if unknown:
        errors["route"] = _("Unknown country: %(codes)s.") % {"codes": ", ".join(unknown)}
    else:
        repeated = [b for a, b in zip(route, route[1:], strict=False) if a == b]
        if repeated:
            errors["route"] = _("%(code)s comes twice in a row: name each country once per leg.") % {
                "code": repeated[0]
            }
    shared = [str(code).strip().upper() for code in data.shared_with]
    unknown = [code for code in shared if code not in countries]
    if unknown:
        errors["shared_with"] = _("Unknown country: %(codes)s.") % {"codes": ", ".join(unknown)}

    catalogue = {
        s.code: s for s in Substance.objects.filter(code__in=[s.substance for s in data.substances if s.substance])
    }
    substances = []
    for i, item in enumerate(data.substances):
        key = f"substances.{i}"
        substance = None
        if item.substance:
            substance = catalogue.get(item.substance)
            if substance is None:
                errors[f"{key}.substance"] = _("Unknown substance “%(code)s”.") % {"code": item.substance}
        elif not item.chemical_name.strip():
            errors[f"{key}.substance"] = _("Choose a substance, or name the chemical and give its CAS number.")
        elif not item.cas_number.strip():
            errors[f"{key}.cas_number"] = _("Give the CAS number of %(name)s.") % {"name": item.chemical_name.strip()}
        elif not cas_is_valid(item.cas_number):
            errors[f"{key}.cas_number"] = _(
                "“%(number)s” is not a valid CAS number (NNNNNNN-NN-N, check digit last)."
            ) % {"number": item.cas_number.strip()}
        if item.quantity is not None and item.quantity <= 0:
            errors[f"{key}.quantity"] = _("Give a quantity above zero, or none.")
        if item.quantity is not None and item.unit not in Unit.values:
            errors[f"{key}.unit"] = _("Choose a unit: %(units)s.") % {"units": ", ".join(Unit.values)}
        substances.append((item, substance))

    parties = []
    for i, party in enumerate(data.parties):
        key = f"parties.{i}"
        if not party.name.strip():
            errors[f"{key}.name"] = _("Give the party's name.")
        if party.role not in PartyRole.values:
            errors[f"{key}.role"] = _("Choose one of: %(roles)s.") % {"roles": ", ".join(PartyRole.values)}
        party_country = None
        if party.country:
            party_country = countries.get(str(party.country).strip().upper())
            if party_country is None:
                errors[f"{key}.country"] = _("Unknown country “%(code)s”.") % {"code": party.country}
        parties.append((party, party_country))

    # A notification the reporter may not see is the same error as one that does not exist.
    references = list(dict.fromkeys(ref.strip() for ref in data.related_notifications if ref.strip()))
    visible = {
        n.reference: n for n in notification_access.visible_notifications(actor).filter(reference__in=references)
    }
    missing = [ref for ref in references if ref not in visible]
    if missing:
        errors["related_notifications"] = _("No such notification: %(refs)s.") % {"refs": ", ".join(missing)}

    if errors:
        raise ValidationError({key: [message] for key, message in errors.items()})
    return {
        "fields": {
            "kind": data.kind,
            "occurred_on": data.occurred_on,
            "description": data.description.strip(),
            "modus_operandi": data.modus_operandi.strip(),
            "visibility": data.visibility,
        },
        "route": [countries[code] for code in route],
        "shared_with": [countries[code] for code in dict.fromkeys(shared)],
        "substances": substances,
        "parties": parties,
        "related": [visible[ref] for ref in references],
    }


# --- writing --------------------------------------------------------------------------


def _next_reference(year: int) -> str:
    # get_or_create survives a concurrent first of the year (it re-reads after the unique
    # constraint refuses the second insert); the UPDATE then locks the row until commit.
    counter, _created = IncidentCounter.objects.get_or_create(year=year)
    IncidentCounter.objects.filter(pk=counter.pk).update(last=F("last") + 1)
    counter.refresh_from_db(fields=["last"])
    return f"INC-{year}-{counter.last:06d}"


def _write_children(incident: Incident, cleaned: dict) -> None:
    RouteStop.objects.bulk_create(
        [RouteStop(incident=incident, position=i, country=c) for i, c in enumerate(cleaned["route"], 1)]
    )
    IncidentSubstance.objects.bulk_create(
        [
            IncidentSubstance(
                incident=incident,
                position=i,
                substance=substance,
                chemical_name="" if substance else item.chemical_name.strip(),
                cas_number="" if substance else item.cas_number.strip(),
                quantity=item.quantity,
                unit=item.unit if item.quantity is not None else "",
            )
            for i, (item, substance) in enumerate(cleaned["substances"], 1)
        ]
    )
    IncidentParty.objects.bulk_create(
        [
            IncidentParty(
                incident=incident,
                position=i,
                role=party.role,
                name=party.name.strip(),
                address=party.address.strip(),
                country=country,
                normalised_name=normalise(party.name),
            )
            for i, (party, country) in enumerate(cleaned["parties"], 1)
        ]
    )
    incident.shared_with.set(cleaned["shared_with"])
    incident.related_notifications.set(cleaned["related"])


def record_event(incident, kind, *, now, actor=None, detail="", data=None) -> IncidentEvent:
    return IncidentEvent.objects.create(
        incident=incident,
        kind=kind,
        at=now,
        actor=actor,
        actor_authority_id=getattr(actor, "authority_id", None),
        detail=detail,
        data=data or {},
    )


def focal_points_concerned(incident: Incident) -> list[Authority]:
    """Who is alerted: the focal points of the concerned countries and INCB, never the
    reporting authority itself."""
    countries = access.concerned_countries(incident)
    return list(
        Authority.objects.filter(Q(is_focal_point=True, country_id__in=countries) | Q(kind="incb"))
        .exclude(pk=incident.authority_id)
        .order_by("pk")
    )


def _alert(incident: Incident, *, now) -> None:
    authorities = [a.pk for a in focal_points_concerned(incident)]
    emit(
        None,
        REPORTED_TOPIC,
        now=now,
        payload={
            # Messaging names an incident message's subject by these (it never imports incidents).
            "reference": incident.reference,
            "path": incident.get_absolute_url(),
            "api_path": reverse("incident-detail", kwargs={"reference": incident.reference}),
            "authorities": authorities,
            "subject": _("Incident %(ref)s was reported to your authority"),
        },
        dedup_key=f"{REPORTED_TOPIC}:{incident.reference}",
    )


@transaction.atomic
def report(*, actor, data: IncidentData, now: datetime) -> Incident:
    """Record an incident for the actor's authority, alert the concerned focal points,
    and have the open notifications it matches flagged in the background."""
    if not access.may_report(actor):
        raise PermissionDenied
    cleaned = _clean(actor, data, now=now)
    incident = Incident.objects.create(
        reference=_next_reference(now.year),
        country_id=actor.authority.country_id,
        authority=actor.authority,
        created_at=now,
        updated_at=now,
        created_by=actor,
        **cleaned["fields"],
    )
    _write_children(incident, cleaned)
    record_event(incident, IncidentEventKind.REPORTED, now=now, actor=actor)
    _alert(incident, now=now)
    transaction.on_commit(lambda: flag_open_notifications_task.delay(incident.pk))
    return incident


def stored_data(incident: Incident) -> IncidentData:
    """The incident as it is, in the shape report and amend take (a PATCH merges onto it)."""
    return IncidentData(
        kind=incident.kind,
        occurred_on=incident.occurred_on,
        country=incident.country_id,
        description=incident.description,
        modus_operandi=incident.modus_operandi,
        substances=[
            SubstanceData(
                substance=s.substance.code if s.substance_id else None,
                chemical_name=s.chemical_name,
                cas_number=s.cas_number,
                quantity=s.quantity,
                unit=s.unit,
            )
            for s in incident.substances.select_related("substance")
        ],
        parties=[
            PartyData(role=p.role, name=p.name, address=p.address, country=p.country_id) for p in incident.parties.all()
        ],
        route=list(incident.route_stops.values_list("country_id", flat=True)),
        related_notifications=list(
            incident.related_notifications.order_by("reference").values_list("reference", flat=True)
        ),
        visibility=incident.visibility,
        shared_with=sorted(incident.shared_with.values_list("code", flat=True)),
    )


def _comparable(data: IncidentData) -> dict:
    return {
        "kind": data.kind,
        "occurred_on": data.occurred_on.isoformat() if data.occurred_on else None,
        "description": data.description.strip(),
        "modus_operandi": data.modus_operandi.strip(),
        "visibility": data.visibility,
        "route": [c.strip().upper() for c in data.route],
        "shared_with": sorted({c.strip().upper() for c in data.shared_with}),
        "related_notifications": sorted({r.strip() for r in data.related_notifications}),
        "substances": [
            {
                "substance": s.substance,
                "chemical_name": s.chemical_name.strip(),
                "cas_number": s.cas_number.strip(),
                "quantity": None if s.quantity is None else f"{Decimal(s.quantity):.3f}",
                "unit": s.unit if s.quantity is not None else "",
            }
            for s in data.substances
        ],
        "parties": [
            {"role": p.role, "name": p.name.strip(), "address": p.address.strip(), "country": p.country}
            for p in data.parties
        ],
    }


@transaction.atomic
def amend(*, actor, incident: Incident, data: IncidentData, now: datetime, expected_version=None) -> Incident:
    """The reporting authority changes its incident: the history keeps each change
    (before and after). Sending the same values changes nothing. A new party or country
    has the open notifications it matches flagged in the background again."""
    if not access.may_amend(actor, incident):
        raise PermissionDenied
    locked = Incident.objects.select_for_update().get(pk=incident.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion
    cleaned = _clean(actor, data, now=now)
    before, after = _comparable(stored_data(locked)), _comparable(data)
    changes = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if not changes:
        return locked
    Incident.objects.filter(pk=locked.pk).update(
        **cleaned["fields"], updated_at=now, version=F("version") + 1, notifications_flagged_at=None
    )
    locked.refresh_from_db()
    RouteStop.objects.filter(incident=locked).delete()
    IncidentSubstance.objects.filter(incident=locked).delete()
    IncidentParty.objects.filter(incident=locked).delete()
    _write_children(locked, cleaned)
    record_event(
        locked,
        IncidentEventKind.AMENDED,
        now=now,
        actor=actor,
        detail=_("Changed: %(fields)s.") % {"fields": ", ".join(changes)},
        data={"changes": changes},
    )
    transaction.on_commit(lambda: flag_open_notifications_task.delay(locked.pk))
    return locked
