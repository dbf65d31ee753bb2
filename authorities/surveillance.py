"""The one write path for INCB's special surveillance list (CND resolution 60/5, para. 1):
add an entry, change it, retire it, reinstate it; the page and the API call these.

Rules, the same for every path: only INCB's staff maintain the list (``may_maintain``);
only entries of the list are maintained here (Tables I and II are the Convention's, loaded
from the catalogue, never edited); a name is required and gives the entry's code (its
slug, unique); a CAS number is optional but, if given, has the right check digit
(authorities.cas) and names no other substance; an HS code is optional, digits and dots.
An entry is never deleted: it is retired (``active`` false), and may be reinstated. Every
change writes its SubstanceChange (before, after, who, when) in the same transaction, and
an error writes nothing (ValidationError by field)."""

import re
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from . import cas
from .models import Schedule, Substance, SubstanceChange, SubstanceChangeAction

EDITABLE = ("name", "cas_number", "hs_code", "recommended_actions")
NAME_MAX_LENGTH = 200
HS_CODE_MAX_LENGTH = 10
RECOMMENDED_ACTIONS_MAX_LENGTH = 5000
REASON_MAX_LENGTH = 1000
HS_CODE = re.compile(r"^\d+(\.\d+)*$")


def may_maintain(user) -> bool:
    """INCB's staff (people and INCB's machine clients) keep the list."""
    return bool(user and user.is_authenticated and user.is_active and getattr(user, "is_incb", False))


def snapshot(substance: Substance) -> dict:
    """The maintained fields of an entry, as its history records them."""
    return {**{field: getattr(substance, field) for field in EDITABLE}, "active": substance.active}


def _text(value) -> str:
    return str(value if value is not None else "").strip()


def _check(data: dict, *, substance: Substance | None = None) -> tuple[dict[str, list[str]], dict]:
    """(errors by field, cleaned values) for the fields given in ``data``."""
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    others = Substance.objects.all() if substance is None else Substance.objects.exclude(pk=substance.pk)
    if "name" in data or substance is None:
        name = _text(data.get("name"))
        if not name:
            errors["name"] = [_("Give the chemical's name, as INCB's list has it.")]
        elif len(name) > NAME_MAX_LENGTH:
            errors["name"] = [_("The name is at most %(max)d characters.") % {"max": NAME_MAX_LENGTH}]
        elif not slugify(name):
            errors["name"] = [_("Give the name in Latin letters (it gives the entry's code), e.g. Benzaldehyde.")]
        elif others.filter(name__iexact=name).exists():
            errors["name"] = [_("%(name)s is already in the catalogue.") % {"name": name}]
        else:
            cleaned["name"] = name
    if "cas_number" in data:
        number = _text(data.get("cas_number"))
        if number and not cas.is_valid(number):
            errors["cas_number"] = [
                _(
                    "“%(number)s” is not a valid CAS number: write it with its hyphens, e.g. 100-52-7, and check "
                    "the last digit."
                )
                % {"number": number[:40]}
            ]
        elif number and others.filter(cas_number=number).exists():
            other = others.filter(cas_number=number).first()
            errors["cas_number"] = [
                _("CAS number %(number)s is already that of %(name)s.") % {"number": number, "name": other.name}
            ]
        else:
            cleaned["cas_number"] = number
    if "hs_code" in data:
        code = _text(data.get("hs_code"))
        if code and (len(code) > HS_CODE_MAX_LENGTH or not HS_CODE.match(code)):
            errors["hs_code"] = [
                _("Give the HS code as digits and dots, at most %(max)d characters, e.g. 2912.21.")
                % {"max": HS_CODE_MAX_LENGTH}
            ]
        else:
            cleaned["hs_code"] = code
    if "recommended_actions" in data:
        actions = _text(data.get("recommended_actions"))
        if len(actions) > RECOMMENDED_ACTIONS_MAX_LENGTH:
            errors["recommended_actions"] = [
                _("The recommended actions are at most %(max)d characters.") % {"max": RECOMMENDED_ACTIONS_MAX_LENGTH}
            ]
        else:
            cleaned["recommended_actions"] = actions
    return errors, cleaned


def _maintainable(actor, substance: Substance) -> None:
    if not may_maintain(actor):
        raise PermissionDenied
    if substance.schedule != Schedule.SPECIAL_SURVEILLANCE:
        raise ValidationError(
            {
                "schedule": [
                    _(
                        "%(name)s is in %(table)s of the 1988 Convention: the Convention's tables are not edited "
                        "here, only the special surveillance list is."
                    )
                    % {"name": substance.name, "table": substance.get_schedule_display()}
                ]
            }
        )


def _record(substance, *, actor, action, before, now, reason="") -> SubstanceChange:
    return SubstanceChange.objects.create(
        substance=substance,
        at=now,
        by=actor if getattr(actor, "pk", None) else None,
        action=action,
        reason=reason,
        before=before,
        after=snapshot(substance),
    )


def _code_for(name: str) -> str:
    return slugify(name)[:80].strip("-")


@transaction.atomic
def add_entry(*, actor, data: dict, now: datetime) -> Substance:
    """Add a chemical to the special surveillance list; ValidationError by field."""
    if not may_maintain(actor):
        raise PermissionDenied
    data = {field: data.get(field, "") for field in EDITABLE}
    errors, cleaned = _check(data)
    if "name" in cleaned:
        code = _code_for(cleaned["name"])
        if Substance.objects.filter(code=code).exists():
            errors["name"] = [
                _("A substance with the code “%(code)s” is already in the catalogue: give another name.")
                % {"code": code}
            ]
    if errors:
        raise ValidationError(errors)
    substance = Substance.objects.create(
        code=_code_for(cleaned["name"]),
        schedule=Schedule.SPECIAL_SURVEILLANCE,
        active=True,
        alr_applicable=False,
        added=str(now.year),
        **cleaned,
    )
    _record(substance, actor=actor, action=SubstanceChangeAction.ADDED, before={}, now=now)
    return substance


@transaction.atomic
def change_entry(*, actor, substance: Substance, data: dict, now: datetime) -> Substance:
    """Change an entry's name, CAS number, HS code or recommended actions (the fields given
    in ``data``; its code stays). Nothing is written when nothing changes."""
    substance = Substance.objects.select_for_update().get(pk=substance.pk)
    _maintainable(actor, substance)
    unknown = sorted(set(data) - set(EDITABLE))
    if unknown:
        raise ValidationError({field: [_("This field cannot be changed.")] for field in unknown})
    errors, cleaned = _check(data, substance=substance)
    if errors:
        raise ValidationError(errors)
    before = snapshot(substance)
    changed = [field for field, value in cleaned.items() if getattr(substance, field) != value]
    if not changed:
        return substance
    for field in changed:
        setattr(substance, field, cleaned[field])
    substance.save(update_fields=changed)
    _record(substance, actor=actor, action=SubstanceChangeAction.CHANGED, before=before, now=now)
    return substance


def _check_reason(reason) -> str:
    reason = _text(reason)
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError({"reason": [_("The reason is at most %(max)d characters.") % {"max": REASON_MAX_LENGTH}]})
    return reason


@transaction.atomic
def retire_entry(*, actor, substance: Substance, now: datetime, reason: str = "") -> Substance:
    """Retire an entry: it stays, with its history, and is offered to no new filing."""
    substance = Substance.objects.select_for_update().get(pk=substance.pk)
    _maintainable(actor, substance)
    reason = _check_reason(reason)
    if not substance.active:
        raise ValidationError({"active": [_("%(name)s is already retired.") % {"name": substance.name}]})
    before = snapshot(substance)
    substance.active = False
    substance.save(update_fields=["active"])
    _record(substance, actor=actor, action=SubstanceChangeAction.RETIRED, before=before, now=now, reason=reason)
    return substance


@transaction.atomic
def reinstate_entry(*, actor, substance: Substance, now: datetime, reason: str = "") -> Substance:
    """Put a retired entry back on the list."""
    substance = Substance.objects.select_for_update().get(pk=substance.pk)
    _maintainable(actor, substance)
    reason = _check_reason(reason)
    if substance.active:
        raise ValidationError({"active": [_("%(name)s is on the list already.") % {"name": substance.name}]})
    before = snapshot(substance)
    substance.active = True
    substance.save(update_fields=["active"])
    _record(substance, actor=actor, action=SubstanceChangeAction.REINSTATED, before=before, now=now, reason=reason)
    return substance


def history(substance: Substance):
    """The entry's changes, oldest first."""
    return substance.changes.select_related("by__authority").order_by("at", "pk")


def retirements(substances) -> dict[int, SubstanceChange]:
    """The change that retired each of the retired ``substances`` (pk -> change), one query."""
    latest: dict[int, SubstanceChange] = {}
    rows = SubstanceChange.objects.filter(
        substance__in=[s.pk for s in substances], action=SubstanceChangeAction.RETIRED
    ).order_by("at", "pk")
    for change in rows:
        latest[change.substance_id] = change
    return latest


def differences(change: SubstanceChange) -> list[tuple[str, str, str]]:
    """(field's label, before, after) for each field the change set or changed."""
    rows = []
    for field in (*EDITABLE, "active"):
        old, new = change.before.get(field), change.after.get(field)
        if old == new or (not change.before and field == "active"):
            continue
        label = str(Substance._meta.get_field(field).verbose_name)
        rows.append((label, "" if old is None else _shown(old), "" if new is None else _shown(new)))
    return rows


def _shown(value) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)
