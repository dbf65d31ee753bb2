"""The write path for reference data and authorities."""

import csv
import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pycountry
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from web.dates import for_people, in_range, out_of_range_message

from .models import Authority, AuthorityKind, Closure, Country, Schedule, Substance, SubstanceChange
from .working_days import SATURDAY, public_holidays

logger = logging.getLogger(__name__)

SUBSTANCES_CSV = Path(__file__).resolve().parent / "data" / "substances.csv"


@dataclass
class LoadReport:
    countries_created: int = 0
    countries_updated: int = 0
    substances_created: int = 0
    substances_updated: int = 0

    @property
    def changed(self) -> bool:
        return any((self.countries_created, self.countries_updated, self.substances_created, self.substances_updated))


def _sync(model, key_field: str, rows: dict[str, dict]) -> tuple[int, int]:
    """Make ``model`` hold ``rows`` (key -> field values): insert missing rows, update
    changed ones, leave the rest alone. Returns (created, updated). A few queries in all,
    so the test suite can load reference data for every test."""
    existing = model.objects.in_bulk(list(rows), field_name=key_field)
    to_create, to_update, fields_changed = [], [], set()
    for key, values in rows.items():
        obj = existing.get(key)
        if obj is None:
            to_create.append(model(**{key_field: key}, **values))
            continue
        dirty = [field for field, value in values.items() if getattr(obj, field) != value]
        if dirty:
            for field in dirty:
                setattr(obj, field, values[field])
            fields_changed.update(dirty)
            to_update.append(obj)
    model.objects.bulk_create(to_create)
    if to_update:
        model.objects.bulk_update(to_update, sorted(fields_changed))
    return len(to_create), len(to_update)


@transaction.atomic
def load_reference_data() -> LoadReport:
    """Countries from pycountry (ISO 3166-1) and the substance catalogue from the CSV.

    Idempotent: a second run changes nothing. Declared policies are edited by INCB staff
    and never overwritten here; new countries start with the default policy."""
    countries = {
        entry.alpha_2: {
            "alpha3": entry.alpha_3,
            "numeric": entry.numeric,
            "name": getattr(entry, "common_name", None) or entry.name,
        }
        for entry in pycountry.countries
    }
    substances = {}
    with SUBSTANCES_CSV.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["schedule"] not in Schedule.values:
                raise ValidationError(_("Unknown schedule %(s)s for %(c)s") % {"s": row["schedule"], "c": row["code"]})
            substances[row["code"]] = {
                "name": row["name"],
                "schedule": row["schedule"],
                "cas_number": row["cas_number"].strip(),
                "hs_code": row["hs_code"].strip(),
                "alr_applicable": row["alr_applicable"].strip().lower() == "yes",
                "added": row["added"].strip(),
                "notes": row["notes"].strip(),
            }
    # The special surveillance list is INCB's once it maintains an entry on the portal
    # (authorities.surveillance): the catalogue adds the public examples, but never
    # rewrites an entry INCB has changed since.
    maintained = set(
        SubstanceChange.objects.filter(substance__schedule=Schedule.SPECIAL_SURVEILLANCE)
        .values_list("substance__code", flat=True)
        .distinct()
    )
    substances = {code: values for code, values in substances.items() if code not in maintained}
    report = LoadReport()
    report.countries_created, report.countries_updated = _sync(Country, "code", countries)
    report.substances_created, report.substances_updated = _sync(Substance, "code", substances)
    return report


@transaction.atomic
def create_authority(
    *,
    code: str,
    name: str,
    email: str,
    country_code: str | None = None,
    incb: bool = False,
    address: str = "",
    phone: str = "",
) -> tuple[Authority, bool]:
    """Create an authority, or return the existing one with this code (idempotent).

    The first authority of a country becomes its focal point, so that every country with
    an authority has exactly one. An existing code with another country is an error."""
    if bool(incb) == bool(country_code):
        raise ValidationError(_("Give either a country or --incb, not both and not neither."))
    country = None
    if country_code:
        # Locking the country row serialises concurrent creations in one country, so they
        # agree on which one becomes the focal point (there may be no authority row to lock).
        country = Country.objects.select_for_update().filter(code=country_code.upper()).first()
        if country is None:
            raise ValidationError(
                {"country": _("Unknown country code %(code)s (load reference data first?)") % {"code": country_code}}
            )
    kind = AuthorityKind.INCB if incb else AuthorityKind.NATIONAL

    existing = Authority.objects.order_by().select_for_update().filter(code=code).first()
    if existing is not None:
        if existing.kind != kind or existing.country_id != (country.code if country else None):
            raise ValidationError(
                {
                    "code": _("Authority %(code)s already exists for %(where)s.")
                    % {"code": code, "where": existing.country or _("the INCB")}
                }
            )
        return existing, False

    group, _created = Group.objects.get_or_create(name=f"authority:{code}")
    authority = Authority(
        code=code,
        name=name,
        email=email,
        kind=kind,
        country=country,
        address=address,
        phone=phone,
        group=group,
    )
    if country is not None:
        authority.is_focal_point = not Authority.objects.filter(country=country).exists()
    authority.full_clean(exclude=["group"])
    authority.save()
    return authority, True


@transaction.atomic
def set_focal_point(*, authority: Authority) -> Authority:
    """Make ``authority`` its country's focal point, moving the role from the previous one."""
    if authority.is_incb:
        raise ValidationError(_("The INCB secretariat cannot be a country's focal point."))
    # Serialise focal-point moves within the country (see create_authority): without the
    # lock, two concurrent moves would both clear the old one and collide on the constraint.
    Country.objects.select_for_update().filter(pk=authority.country_id).first()
    Authority.objects.filter(country_id=authority.country_id, is_focal_point=True).exclude(pk=authority.pk).update(
        is_focal_point=False
    )
    Authority.objects.filter(pk=authority.pk).update(is_focal_point=True)
    authority.refresh_from_db()
    return authority


POLICY_FIELDS = ("reply_regime", "reply_period_days", "reply_period_kind", "article_12_10a_tables")


@transaction.atomic
def update_country_policy(*, country: Country, **policy) -> Country:
    """Record the policy a country declared (INCB staff, through the policy page or the admin).

    The change is validated on a fresh, locked copy of the row: a rejected change leaves the
    caller's ``country`` as it was (a form shown again must not display the rejected values
    as the current policy), and the row's other fields are never written."""
    unknown = set(policy) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown policy fields: %s") % ", ".join(sorted(unknown)))
    current = Country.objects.select_for_update().get(pk=country.pk)
    for field, value in policy.items():
        setattr(current, field, value)
    current.policy_updated_at = timezone.now()
    current.full_clean()
    updated = [*policy, "policy_updated_at"]
    current.save(update_fields=updated)
    for field in updated:
        setattr(country, field, getattr(current, field))
    return country


# --- Declared closures ---------------------------------------------------------------------

CLOSURE_REASON_MAX_LENGTH = Closure._meta.get_field("reason").max_length


def may_manage_closures(user, country: Country) -> bool:
    """INCB staff, and the administrators of the country's own authorities, declare and
    withdraw its closures (the people who answer for its calendar); nobody else."""
    if user is None or not user.is_authenticated or not user.is_active or user.authority_id is None:
        return False
    if user.is_incb:
        return True
    return user.is_authority_admin and user.authority.country_id == country.code


def _require_may_manage_closures(actor, country: Country) -> None:
    if not may_manage_closures(actor, country):
        raise PermissionDenied(
            _("Only INCB staff and the administrators of %(country)s's authorities may do this.")
            % {"country": country.name}
        )


@transaction.atomic
def declare_closure(*, actor, country: Country, day: date | None, reason: str, now: datetime) -> Closure:
    """Declare that ``country``'s authorities do not work on ``day``: from now on, reply
    periods in working days skip it. Refused, with nothing stored, for a day that is not
    after today (reply-due dates already set are kept, and a notification sent today counts
    from tomorrow), a weekend, a public holiday, or a day already declared."""
    _require_may_manage_closures(actor, country)
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = [_("Say why the authorities are closed that day, for example “Office move”.")]
    elif len(reason) > CLOSURE_REASON_MAX_LENGTH:
        errors["reason"] = [
            _("Say it in at most %(max)d characters (it has %(length)d).")
            % {"max": CLOSURE_REASON_MAX_LENGTH, "length": len(reason)}
        ]
    # Serialises declarations for the country, so the check for a day already declared holds.
    Country.objects.select_for_update().filter(pk=country.pk).first()
    day_error = _closure_day_problem(country, day, now)
    if day_error:
        errors["date"] = [day_error]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            closure = Closure.objects.create(
                country=country, date=day, reason=reason, declared_by=actor, declared_at=now
            )
    except IntegrityError:  # the constraint behind the check above
        raise ValidationError({"date": [_already_declared(country, day)]}) from None
    logger.info("closure declared: %s %s by user %s", country.code, day.isoformat(), actor.pk)
    return closure


def _already_declared(country: Country, day: date) -> str:
    return _("A closure on %(date)s is already declared for %(country)s.") % {
        "date": for_people(day),
        "country": country.name,
    }


def _closure_day_problem(country: Country, day: date | None, now: datetime) -> str | None:
    if day is None:
        return _("Enter the date the authorities are closed.")
    if not in_range(day):
        return out_of_range_message()
    if day <= now.date():
        return _(
            "Choose a date after today: a closure changes only the reply-due dates of notifications sent "
            "before it, and those already sent keep theirs."
        )
    if day.weekday() >= SATURDAY:
        return _("%(date)s is a %(weekday)s: weekends are never working days.") % {
            "date": for_people(day),
            "weekday": _("Saturday") if day.weekday() == SATURDAY else _("Sunday"),
        }
    holiday = public_holidays(country.code, day.year).get(day)
    if holiday is not None:
        return _("%(date)s is already a public holiday in %(country)s (%(name)s).") % {
            "date": for_people(day),
            "country": country.name,
            "name": holiday,
        }
    if Closure.objects.filter(country=country, date=day).exists():
        return _already_declared(country, day)
    return None


@transaction.atomic
def withdraw_closure(*, actor, closure: Closure, now: datetime) -> None:
    """Withdraw a closure declared by mistake, before its day (after a confirmation step on
    the page). A closure today or in the past is history and stays."""
    _require_may_manage_closures(actor, closure.country)
    locked = Closure.objects.select_for_update().filter(pk=closure.pk).first()
    if locked is None:
        return  # withdrawn already (a second click): the same end
    if locked.date <= now.date():
        raise ValidationError(
            _("The closure on %(date)s can no longer be withdrawn: a closure today or in the past is history.")
            % {"date": for_people(locked.date)}
        )
    locked.delete()
    logger.info("closure withdrawn: %s %s by user %s", locked.country_id, locked.date.isoformat(), actor.pk)
