"""What is notified against an estimate: the one definition, used by the API, the pages
and the ``alr_exceeded`` flag.

Per importing country, ALR substance and year, the *notified* quantity is the sum, over
the items of that substance in notifications to that country sent that year (the year of
``submitted_at``, UTC) and neither withdrawn nor objected to (drafts are not sent), of
the item's kilograms of the substance itself:

- g and ml count as a thousandth of kg and l;
- a preparation or mixture with a concentration counts that share of its quantity (the
  concentration is read as weight in weight for kg and g, weight in volume for l and ml:
  1 l at 10 % holds 0.1 kg); one without a concentration counts whole (the cautious
  reading: it may be the pure substance);
- a pure liquid in l or ml is converted with its density (DENSITY_KG_PER_L; 1 kg/l for a
  substance not listed).

An estimate is valid until replaced: for a year without its own estimate, the latest
earlier year's current estimate is in force (INCB publishes ALRs that way)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db.models import Q
from django.utils import formats

from authorities.models import Substance
from notifications.models import Form, Item, Status

from .models import Estimate

KG_PER_UNIT = {"kg": Decimal("1"), "g": Decimal("0.001"), "l": Decimal("1"), "ml": Decimal("0.001")}
# Densities at 20 °C of the ALR substances that are liquids (P-2-P: 1.006 g/cm³;
# 3,4-MDP-2-P: 1.20 g/cm³); ephedrine and pseudoephedrine are solids.
DENSITY_KG_PER_L = {"p-2-p": Decimal("1.006"), "mdp2p": Decimal("1.200")}
COUNTED_STATUSES = (Status.AWAITING_REPLY, Status.INFORMATION_REQUESTED, Status.NO_OBJECTION)
THOUSANDTH = Decimal("0.001")


def kg_of(quantity, unit: str, form: str, concentration, substance_code: str) -> Decimal:
    """The kilograms of the substance itself in one item (the rules above)."""
    if quantity is None:
        return Decimal("0")
    amount = Decimal(quantity) * KG_PER_UNIT.get(unit or "kg", Decimal("1"))
    if form != Form.SUBSTANCE and concentration is not None:
        amount = amount * Decimal(concentration) / 100
    elif unit in ("l", "ml"):
        amount = amount * DENSITY_KG_PER_L.get(substance_code, Decimal("1"))
    return amount.quantize(THOUSANDTH)


def format_kg(value) -> str:
    """A quantity of kg for people, in the active language's number format: thousands
    grouped, no trailing zeros (1,000,000 and 12.5); the API and the CSV keep the decimal
    string. The flags' details and the pages both use it."""
    number = Decimal(value).normalize()
    if number == number.to_integral():
        number = number.quantize(Decimal(1))
    return formats.number_format(number, use_l10n=True, force_grouping=True)


def alr_substances() -> dict[int, Substance]:
    return {s.pk: s for s in Substance.objects.filter(alr_applicable=True)}


def year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def year_of(notification, now) -> int:
    """The year a notification counts in: the year it was sent (now, for a draft)."""
    return (notification.submitted_at or now).astimezone(UTC).year


def counted_items(country_ids, year: int, substance_ids):
    """The items counted against the estimates of ``country_ids`` in ``year``."""
    start, end = year_bounds(year)
    # The item's own copy of its notification's destination, sending time and status: one
    # index answers alone (item_by_destination), no join.
    return Item.objects.filter(
        substance_id__in=list(substance_ids),
        importing_country_id__in=list(country_ids),
        submitted_at__gte=start,
        submitted_at__lt=end,
        notification_status__in=COUNTED_STATUSES,
    )


def notified(country_ids, year: int, substances: dict[int, Substance], *, exclude=None, sent_before=None):
    """{(country, substance id): kg notified} for the year. ``exclude``: a notification
    left out (the one being assessed); ``sent_before``: only those sent earlier."""
    items = counted_items(country_ids, year, substances)
    if exclude is not None:
        items = items.exclude(notification_id=exclude)
    if sent_before is not None:
        items = items.filter(
            Q(submitted_at__lt=sent_before[0]) | Q(submitted_at=sent_before[0], notification_id__lt=sent_before[1])
        )
    totals: dict[tuple[str, int], Decimal] = {}
    # Unordered (a sum): without the items' ordering by position, their index answers alone.
    for country, substance_id, quantity, unit, form, concentration in items.order_by().values_list(
        "importing_country_id", "substance_id", "quantity", "unit", "form", "concentration_percent"
    ):
        key = (country, substance_id)
        totals[key] = totals.get(key, Decimal("0")) + kg_of(
            quantity, unit, form, concentration, substances[substance_id].code
        )
    return totals


def in_force(country_ids, year: int, substance_ids) -> dict[tuple[str, int], Estimate]:
    """{(country, substance id): the estimate in force in ``year``}: the current row of the
    latest year up to ``year``."""
    found: dict[tuple[str, int], Estimate] = {}
    rows = (
        Estimate.objects.filter(
            country_id__in=list(country_ids),
            substance_id__in=list(substance_ids),
            year__lte=year,
            replaced_at__isnull=True,
        )
        .select_related("substance")
        .order_by("country_id", "substance_id", "-year")
    )
    for estimate in rows:
        found.setdefault((estimate.country_id, estimate.substance_id), estimate)
    return found


@dataclass
class EstimateRow:
    country: str
    substance: Substance
    year: int
    estimate: Estimate | None
    notified: Decimal

    @property
    def quantity(self) -> Decimal | None:
        return self.estimate.quantity if self.estimate else None

    @property
    def valid_from(self) -> date | None:
        return self.estimate.valid_from if self.estimate else None

    @property
    def remaining(self) -> Decimal | None:
        return self.estimate.quantity - self.notified if self.estimate else None

    @property
    def exceeded(self) -> bool:
        return self.estimate is not None and self.notified > self.estimate.quantity


def rows(country_ids, year: int, *, substance_code: str | None = None, with_missing: bool = False):
    """One row per country and ALR substance with the estimate in force and what is
    notified against it (three queries whatever the number of countries).
    ``with_missing``: also the substances without an estimate (the pages)."""
    substances = alr_substances()
    if substance_code:
        substances = {pk: s for pk, s in substances.items() if s.code == substance_code}
    country_ids = list(country_ids)
    estimates = in_force(country_ids, year, substances)
    totals = notified(country_ids, year, substances)
    out = []
    for country in country_ids:
        for pk, substance in sorted(substances.items(), key=lambda item: item[1].name):
            estimate = estimates.get((country, pk))
            if estimate is None and not with_missing:
                continue
            out.append(EstimateRow(country, substance, year, estimate, totals.get((country, pk), Decimal("0"))))
    return out


def countries_with_estimates(year: int) -> list[str]:
    return list(
        Estimate.objects.filter(year__lte=year, replaced_at__isnull=True)
        .order_by("country_id")
        .values_list("country_id", flat=True)
        .distinct()
    )


def history(country_id: str, substance_id: int):
    """Every estimate of a country and substance, current and replaced, newest first."""
    return (
        Estimate.objects.filter(country_id=country_id, substance_id=substance_id)
        .select_related("recorded_by", "substance")
        .order_by("-year", "-recorded_at")
    )
