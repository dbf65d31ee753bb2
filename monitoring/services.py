"""The one write path for estimates: record (the page, the API), import a table (the
page), and recompute the ``alr_exceeded`` flags an estimate change affects.

Rules, the same for every path (``check``): the country exists; the substance is one of
the catalogue's ALR substances (``alr_applicable``); the year is from 1990 to next year;
the quantity is a number of kg from 0 (a country may declare no legitimate requirement)
up to MAX_KG. Recording replaces the current estimate of the same country, substance and
year (kept, with ``replaced_at``) in one transaction; an import is all or nothing."""

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from celery import shared_task
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from authorities import surveillance
from authorities.models import Country, Substance
from notifications import risk
from notifications.models import OPEN_STATUSES, Notification, RiskKind, Status

from .models import Estimate, EstimateSource

# 1,000 tonnes: above any country's published estimate of these four substances by far;
# a figure beyond it is a slip (grams typed as kilograms), not a requirement.
MAX_KG = Decimal("1000000")
FIRST_YEAR = 1990
IMPORT_COLUMNS = ("country", "substance", "quantity", "date")
MAX_IMPORT_ROWS = 5000


# INCB's staff keep the estimates, as they keep the special surveillance list: one rule.
may_maintain = surveillance.may_maintain


@dataclass(frozen=True)
class EstimateData:
    country: str
    substance: str
    year: int | str | None
    quantity: Decimal | str | None
    valid_from: date | None = None


def _country(value) -> Country | None:
    text = str(value or "").strip()
    if not text:
        return None
    return Country.objects.filter(code__iexact=text).first() or Country.objects.filter(name__iexact=text).first()


def _substance(value) -> Substance | None:
    text = str(value or "").strip()
    if not text:
        return None
    return (
        Substance.objects.filter(code__iexact=text).first()
        or Substance.objects.filter(name__iexact=text).first()
        or Substance.objects.filter(cas_number=text).first()
    )


def check(data: EstimateData, *, now: datetime) -> tuple[dict[str, list[str]], dict]:
    """(errors by field, cleaned values) for one estimate."""
    errors: dict[str, list[str]] = {}
    cleaned: dict = {}
    country = _country(data.country)
    if country is None:
        errors["country"] = [
            _("“%(value)s” is not a known country (give its ISO code, e.g. GH).") % {"value": data.country or ""}
        ]
    else:
        cleaned["country"] = country
    substance = _substance(data.substance)
    if substance is None:
        errors["substance"] = [_("“%(value)s” is not a substance of the catalogue.") % {"value": data.substance or ""}]
    elif not substance.alr_applicable:
        errors["substance"] = [
            _(
                "%(name)s is not an ALR substance: estimates are kept for ephedrine, pseudoephedrine, P-2-P and "
                "3,4-MDP-2-P only."
            )
            % {"name": substance.name}
        ]
    else:
        cleaned["substance"] = substance
    try:
        year = int(str(data.year).strip())
    except (TypeError, ValueError):
        errors["year"] = [_("Give the year as four digits, e.g. %(year)s.") % {"year": now.year}]
    else:
        if not FIRST_YEAR <= year <= now.year + 1:
            errors["year"] = [
                _("The year must be from %(first)s to %(last)s.") % {"first": FIRST_YEAR, "last": now.year + 1}
            ]
        else:
            cleaned["year"] = year
    try:
        quantity = Decimal(str(data.quantity).strip().replace(",", "")) if data.quantity not in (None, "") else None
    except InvalidOperation:
        quantity = None
        errors["quantity"] = [_("Give the quantity in kg as a number, e.g. 1500 or 12.5.")]
    if "quantity" not in errors:
        if quantity is None or not quantity.is_finite():
            errors["quantity"] = [_("Give the quantity in kg as a number, e.g. 1500 or 12.5.")]
        elif quantity < 0:
            errors["quantity"] = [_("The quantity cannot be negative (0 means no legitimate requirement).")]
        elif quantity > MAX_KG:
            errors["quantity"] = [
                _("%(quantity)s kg is more than any country's requirement (at most 1,000,000 kg): check the unit.")
                % {"quantity": quantity}
            ]
        elif quantity != quantity.quantize(Decimal("0.001")):
            errors["quantity"] = [_("Give the quantity to the gram at most (three decimals).")]
        else:
            cleaned["quantity"] = quantity
    valid_from = data.valid_from or now.date()
    if valid_from > now.date():
        errors["valid_from"] = [_("The date cannot be in the future.")]
    cleaned["valid_from"] = valid_from
    return errors, cleaned


def _write(*, actor, cleaned: dict, source: str, now: datetime) -> Estimate:
    Estimate.objects.select_for_update().filter(
        country=cleaned["country"], substance=cleaned["substance"], year=cleaned["year"], replaced_at__isnull=True
    ).update(replaced_at=now)
    estimate = Estimate.objects.create(
        country=cleaned["country"],
        substance=cleaned["substance"],
        year=cleaned["year"],
        quantity=cleaned["quantity"],
        valid_from=cleaned["valid_from"],
        source=source,
        recorded_at=now,
        recorded_by=actor,
    )
    transaction.on_commit(lambda: recompute_task.delay(estimate.pk))
    return estimate


@transaction.atomic
def record_estimate(*, actor, data: EstimateData, source: str = EstimateSource.PAGE, now: datetime) -> Estimate:
    """Record (or replace) one estimate; ValidationError by field, nothing written."""
    if not may_maintain(actor):
        raise PermissionDenied
    errors, cleaned = check(data, now=now)
    if errors:
        raise ValidationError({key: messages for key, messages in errors.items()})
    return _write(actor=actor, cleaned=cleaned, source=source, now=now)


# --- import of a table --------------------------------------------------------------


@dataclass
class ImportRow:
    line: int
    values: dict
    errors: dict[str, list[str]]
    cleaned: dict


def _table_rows(name: str, content: bytes) -> list[list[str]]:
    if name.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).active
        except Exception as error:  # openpyxl raises many kinds for a file that is not XLSX
            raise ValidationError({"file": [_("The file is not a readable XLSX workbook.")]}) from error
        return [
            [
                "" if cell is None else (cell.isoformat()[:10] if isinstance(cell, datetime | date) else str(cell))
                for cell in row
            ]
            for row in sheet.iter_rows(values_only=True)
        ]
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValidationError({"file": [_("The CSV file must be UTF-8 text.")]}) from error
    dialect = csv.excel
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        pass
    return list(csv.reader(io.StringIO(text), dialect))


def read_table(name: str, content: bytes, *, now: datetime) -> list[ImportRow]:
    """Every row of an uploaded CSV or XLSX (columns country, substance, quantity, date in
    the shape INCB publishes), checked; ValidationError for a file that is not such a table."""
    table = [row for row in _table_rows(name, content) if any(str(cell).strip() for cell in row)]
    if not table:
        raise ValidationError({"file": [_("The file is empty.")]})
    header = [str(cell).strip().lower() for cell in table[0]]
    if sorted(header) != sorted(IMPORT_COLUMNS):
        raise ValidationError(
            {
                "file": [
                    _("The columns must be exactly %(expected)s; this file has %(found)s.")
                    % {"expected": ", ".join(IMPORT_COLUMNS), "found": ", ".join(header) or "—"}
                ]
            }
        )
    if len(table) - 1 > MAX_IMPORT_ROWS:
        raise ValidationError({"file": [_("At most %(count)s rows at a time.") % {"count": MAX_IMPORT_ROWS}]})
    values = [
        {column: (str(raw[i]).strip() if i < len(raw) else "") for i, column in enumerate(header)} for raw in table[1:]
    ]
    return check_rows(values, now=now)


def check_rows(table: list[dict], *, now: datetime) -> list[ImportRow]:
    """Each row (a dict of the IMPORT_COLUMNS) checked, numbered as in the file (line 1 is
    the header). Also how a confirmed preview is checked again before it is written."""
    rows = []
    seen: dict[tuple, int] = {}
    for line, values in enumerate(table, start=2):
        values = {column: str(values.get(column, "")).strip() for column in IMPORT_COLUMNS}
        valid_from = None
        date_errors = []
        try:
            valid_from = date.fromisoformat(values["date"][:10])
        except ValueError:
            date_errors = [_("Give the date as YYYY-MM-DD.")]
        errors, cleaned = check(
            EstimateData(
                country=values["country"],
                substance=values["substance"],
                year=valid_from.year if valid_from else now.year,
                quantity=values["quantity"],
                valid_from=valid_from,
            ),
            now=now,
        )
        if date_errors:
            errors.pop("year", None)
            errors["date"] = date_errors
        elif "valid_from" in errors:
            errors["date"] = errors.pop("valid_from")
        elif "year" in errors:
            errors["date"] = errors.pop("year")
        if not errors:
            key = (cleaned["country"].pk, cleaned["substance"].pk, cleaned["year"])
            if key in seen:
                errors["country"] = [_("The same country, substance and year as line %(line)s.") % {"line": seen[key]}]
            seen[key] = line
        rows.append(ImportRow(line=line, values=values, errors=errors, cleaned=cleaned))
    return rows


@transaction.atomic
def import_estimates(*, actor, rows: list[ImportRow], now: datetime) -> list[Estimate]:
    """Write every row, or none: a row with an error stops the whole import."""
    if not may_maintain(actor):
        raise PermissionDenied
    bad = [row for row in rows if row.errors]
    if bad or not rows:
        raise ValidationError(
            {"file": [_("Nothing was imported: %(count)s row(s) have errors.") % {"count": len(bad)}]}
        )
    return [_write(actor=actor, cleaned=row.cleaned, source=EstimateSource.IMPORT, now=now) for row in rows]


# --- recomputing flags --------------------------------------------------------------


@transaction.atomic
def recompute(estimate_id: int, *, now: datetime) -> int | None:
    """Re-assess ``alr_exceeded`` on the notifications an estimate change affects (to its
    country, with its substance, sent in its year or later, not final but for no
    objection), once: the estimate row is locked and marked in this transaction; a
    repeated or concurrent run finds it done (None). Returns how many carry the flag."""
    estimate = Estimate.objects.select_for_update().filter(pk=estimate_id, flags_recomputed_at__isnull=True).first()
    if estimate is None:
        return None
    affected = (
        Notification.objects.filter(
            importing_country_id=estimate.country_id,
            status__in=(*OPEN_STATUSES, Status.NO_OBJECTION),
            submitted_at__year__gte=estimate.year,
            items__substance_id=estimate.substance_id,
        )
        .distinct()
        .order_by("submitted_at", "pk")
    )
    flagged = sum(1 for notification in affected if risk.reassess(notification, RiskKind.ALR_EXCEEDED, now=now))
    Estimate.objects.filter(pk=estimate.pk).update(flags_recomputed_at=now)
    return flagged


@shared_task(name="monitoring.recompute", acks_late=True, reject_on_worker_lost=True)
def recompute_task(estimate_id: int) -> int | None:
    return recompute(estimate_id, now=timezone.now())


@shared_task(name="monitoring.recompute_pending", acks_late=True, reject_on_worker_lost=True)
def recompute_pending() -> int:
    """The relay: estimates whose recomputation was never done (a lost enqueue, a crash)."""
    pending = list(Estimate.objects.filter(flags_recomputed_at__isnull=True).values_list("pk", flat=True)[:100])
    for pk in pending:
        recompute(pk, now=timezone.now())
    return len(pending)
