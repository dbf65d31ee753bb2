"""The write path for reference data and authorities."""

import csv
from dataclasses import dataclass
from pathlib import Path

import pycountry
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Authority, AuthorityKind, Country, Schedule, Substance

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
