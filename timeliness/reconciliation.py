"""Reconciliation for INCB (issue 14): the quantities notified, shipped and received, per
importing country and substance, over a period of dispatch dates, with the open cases
(quantity differences not explained, arrivals not confirmed) first.

Definitions (``DEFINITIONS`` below is the same text as the page and the CSV print it):

- The period counts the notifications *dispatched* in it: ``dispatched_on`` on or after
  the first day and on or before the last (both inclusive). Drafts and withdrawn
  notifications are never counted; a notification not dispatched yet is not in any period.
- Quantities are converted to one unit per physical dimension: g to kg (÷ 1000), ml to l
  (÷ 1000). Mass and volume are never added together: a substance notified in both has a
  row in kg and a row in l.
- *Notified*, *shipped*, *received*: the sums of the items' notified, dispatched and
  received quantities (an item not received yet adds nothing to *received*).
- *Difference*: shipped minus received, over the items whose arrival is confirmed; a
  consignment still on its way adds nothing to it.
- *Notifications*: the notifications with an item of the row's substance and unit.
- *Not arrived after 30 days*: of those, the ones whose ``arrival_unconfirmed`` flag is
  open (dispatched 30 days ago or more, and no arrival confirmed).
- *Open discrepancies*: of those, the ones whose ``quantity_discrepancy`` flag is open (not
  explained yet) and whose item of the row's substance differs by more than the tolerance
  (``notifications.services.DISCREPANCY_TOLERANCE``, 1 %) between shipped and received.

Everything comes from one grouped aggregate query over the items (``figures``), whatever
the number of notifications: the risk flags are EXISTS subqueries inside it, never a join
that would multiply the rows, and never a query per row. ``open_case_counts`` counts the
open flags and ``open_cases`` lists them, for the page's links to the notifications (one
query each, with the same filters).

These are INCB's figures: every sent notification of every country is counted, so only
INCB staff may see them (the views check)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Case, CharField, Count, DecimalField, Exists, F, OuterRef, Q, Sum, Value, When
from django.db.models.functions import Abs, Coalesce
from django.utils.translation import gettext_lazy as _

from notifications.models import Item, Notification, RiskKind, RiskSignal, Status, Unit
from notifications.services import DISCREPANCY_TOLERANCE

MASS, VOLUME = "kg", "l"
MILLI = Decimal("0.001")
# The common unit of each unit's dimension, and the factor to it.
CONVERSION = {
    Unit.KG: (MASS, Decimal("1")),
    Unit.G: (MASS, MILLI),
    Unit.L: (VOLUME, Decimal("1")),
    Unit.ML: (VOLUME, MILLI),
}
# Six decimals: a millilitre or a gram (three decimals) converted keeps every digit.
QUANTITY = DecimalField(max_digits=24, decimal_places=6)
ZERO = Value(Decimal("0"), output_field=QUANTITY)
# At most this many open cases are listed under the table (the counts above it are whole).
OPEN_CASES_SHOWN = 200
# The flags that make a case open, in the order the page lists them.
OPEN_KINDS = [RiskKind.QUANTITY_DISCREPANCY, RiskKind.ARRIVAL_UNCONFIRMED]

DEFINITIONS = [
    (
        _("Period"),
        _(
            "The notifications dispatched in the period: the dispatch date recorded by the exporting authority is "
            "on or after the first day and on or before the last day (both days included). Drafts and withdrawn "
            "notifications are never counted; a notification whose dispatch is not recorded is in no period."
        ),
    ),
    (
        _("Units"),
        _(
            "Every quantity is converted to one unit per physical dimension: grams to kilograms (divided by 1000), "
            "millilitres to litres (divided by 1000). Mass and volume are never added together: a substance "
            "notified by mass and by volume has one row in kg and one in l."
        ),
    ),
    (_("Notified"), _("The sum of the quantities notified, item by item.")),
    (_("Shipped"), _("The sum of the quantities dispatched, as recorded by the exporting authority.")),
    (
        _("Received"),
        _("The sum of the quantities received, as confirmed by the importing authority (nothing until then)."),
    ),
    (
        _("Difference"),
        _(
            "Shipped minus received, over the items whose arrival is confirmed: a consignment still on its way "
            "adds nothing. Positive: less arrived than left."
        ),
    ),
    (_("Notifications"), _("The notifications with an item of the substance in this unit.")),
    (
        _("Not arrived after 30 days"),
        _(
            "Of those, the notifications whose flag “arrival not confirmed 30 days after dispatch” is open: no "
            "arrival has been confirmed since."
        ),
    ),
    (
        _("Open discrepancies"),
        _(
            "Of those, the notifications whose quantity-discrepancy flag is open (the difference is not explained "
            "yet) and whose item of this substance arrived more than 1 % above or below the quantity shipped. "
            "Rows with open discrepancies come first, then the largest differences (either way), then by country "
            "and substance."
        ),
    ),
]


@dataclass
class Row:
    """One importing country, substance and unit (kg or l) over the period."""

    country: str
    country_name: str
    substance: str  # the catalogue code
    substance_name: str
    unit: str  # MASS or VOLUME
    notified: Decimal
    shipped: Decimal
    received: Decimal
    difference: Decimal
    notifications: int
    arrival_unconfirmed: int
    open_discrepancies: int


# The table's columns, in order: the page and the CSV both use them.
# (attribute of Row, heading, kind: "text" | "quantity" | "count")
COLUMNS = [
    ("country", _("Country code"), "text"),
    ("country_name", _("Importing country"), "text"),
    ("substance", _("Substance code"), "text"),
    ("substance_name", _("Substance"), "text"),
    ("unit", _("Unit"), "text"),
    ("notified", _("Notified"), "quantity"),
    ("shipped", _("Shipped"), "quantity"),
    ("received", _("Received"), "quantity"),
    ("difference", _("Difference (shipped − received)"), "quantity"),
    ("notifications", _("Notifications"), "count"),
    ("arrival_unconfirmed", _("Not arrived after 30 days"), "count"),
    ("open_discrepancies", _("Open discrepancies"), "count"),
]


def _dispatched_in(period_from: date, period_to: date, prefix: str = "") -> Q:
    """Sent, not withdrawn, dispatched in [period_from, period_to] (``prefix``: the path
    from the queried model to the notification, e.g. "notification__")."""
    return Q(
        **{
            f"{prefix}submitted_at__isnull": False,
            f"{prefix}dispatched_on__gte": period_from,
            f"{prefix}dispatched_on__lte": period_to,
        }
    ) & ~Q(**{f"{prefix}status__in": [Status.DRAFT, Status.WITHDRAWN]})


def notifications_in(
    *,
    period_from: date,
    period_to: date,
    importing_country: str | None = None,
    exporting_country: str | None = None,
    substance: str | None = None,
):
    """The notifications the figures count, with the same filters."""
    queryset = Notification.objects.filter(_dispatched_in(period_from, period_to))
    if importing_country:
        queryset = queryset.filter(importing_country_id=importing_country)
    if exporting_country:
        queryset = queryset.filter(exporting_country_id=exporting_country)
    if substance:
        # The items' rows, not a join: a notification with two items of it is counted once.
        with_it = Item.objects.filter(substance__code=substance).order_by().values("notification_id")
        queryset = queryset.filter(pk__in=with_it)
    return queryset


def _common(field: str):
    """The item's ``field`` in the common unit of its dimension (kg or l)."""
    thousandths = [unit for unit, (_common_unit, factor) in CONVERSION.items() if factor == MILLI]
    return Case(
        When(unit__in=thousandths, then=F(field) * Value(MILLI, output_field=QUANTITY)),
        default=F(field),
        output_field=QUANTITY,
    )


# How far the received quantity of an item is from the shipped one.
GAP = Abs(F("received_quantity") - F("shipped_quantity"), output_field=QUANTITY)


def _differs() -> Q:
    """An item received outside the tolerance, as notifications.services.discrepancies
    decides it (on items aliased with ``gap=GAP``)."""
    return Q(
        received_quantity__isnull=False,
        shipped_quantity__isnull=False,
        gap__gt=F("shipped_quantity") * Value(DISCREPANCY_TOLERANCE, output_field=QUANTITY),
    )


def _open_flag(kind: str):
    return Exists(
        RiskSignal.objects.filter(notification_id=OuterRef("notification_id"), kind=kind, resolved_at__isnull=True)
    )


def figures(
    *,
    period_from: date,
    period_to: date,
    importing_country: str | None = None,
    exporting_country: str | None = None,
    substance: str | None = None,
) -> list[Row]:
    """One row per importing country, substance and unit (kg, l) with an item dispatched
    in [period_from, period_to]; open discrepancies first. One query."""
    items = Item.objects.filter(
        _dispatched_in(period_from, period_to, "notification__"),
        substance__isnull=False,
        unit__in=list(CONVERSION),
        quantity__isnull=False,
    )
    if importing_country:
        items = items.filter(notification__importing_country_id=importing_country)
    if exporting_country:
        items = items.filter(notification__exporting_country_id=exporting_country)
    if substance:
        items = items.filter(substance__code=substance)
    # The items are of the four units only (filtered above): not mass is volume.
    dimension = Case(
        When(unit__in=[unit for unit, (common, _f) in CONVERSION.items() if common == MASS], then=Value(MASS)),
        default=Value(VOLUME),
        output_field=CharField(),
    )
    differs = _differs()
    rows = (
        items.annotate(dimension=dimension)
        .alias(
            gap=GAP,
            open_arrival=_open_flag(RiskKind.ARRIVAL_UNCONFIRMED),
            open_discrepancy=_open_flag(RiskKind.QUANTITY_DISCREPANCY),
        )
        .values(
            "notification__importing_country_id",
            "notification__importing_country__name",
            "substance__code",
            "substance__name",
            "dimension",
        )
        .annotate(
            notified=Coalesce(Sum(_common("quantity")), ZERO),
            shipped=Coalesce(Sum(_common("shipped_quantity")), ZERO),
            received=Coalesce(Sum(_common("received_quantity")), ZERO),
            shipped_arrived=Coalesce(
                Sum(_common("shipped_quantity"), filter=Q(received_quantity__isnull=False)),
                ZERO,
            ),
            notifications=Count("notification_id", distinct=True),
            arrival_unconfirmed=Count("notification_id", distinct=True, filter=Q(open_arrival=True)),
            open_discrepancies=Count("notification_id", distinct=True, filter=Q(open_discrepancy=True) & differs),
        )
        .annotate(difference=F("shipped_arrived") - F("received"))
        .order_by(
            Case(When(open_discrepancies__gt=0, then=Value(0)), default=Value(1)),
            Abs(F("difference")).desc(),
            "notification__importing_country__name",
            "substance__name",
            "dimension",
        )
    )
    return [
        Row(
            country=row["notification__importing_country_id"],
            country_name=row["notification__importing_country__name"],
            substance=row["substance__code"],
            substance_name=row["substance__name"],
            unit=row["dimension"],
            notified=_exact(row["notified"]),
            shipped=_exact(row["shipped"]),
            received=_exact(row["received"]),
            difference=_exact(row["difference"]),
            notifications=row["notifications"],
            arrival_unconfirmed=row["arrival_unconfirmed"],
            open_discrepancies=row["open_discrepancies"],
        )
        for row in rows
    ]


def _exact(value) -> Decimal:
    """Six decimals (SQLite computes in floating point: this gives back the exact sum)."""
    return Decimal(str(value or 0)).quantize(Decimal("0.000001"))


def quantity_text(value: Decimal) -> str:
    """A quantity as the page and the CSV write it: three decimals, more only when a
    converted millilitre or gram needs them (250.000, 0.0005)."""
    text = f"{value:.6f}"
    whole, _sep, decimals = text.partition(".")
    decimals = decimals.rstrip("0")
    return f"{whole}.{decimals.ljust(3, '0')}"


@dataclass
class OpenCase:
    reference: str
    url: str
    kind: str
    kind_label: str
    importing_country: str
    exporting_country: str
    dispatched_on: date | None
    arrived_on: date | None
    detail: str


def _open_signals(
    *,
    period_from: date,
    period_to: date,
    importing_country: str | None = None,
    exporting_country: str | None = None,
    substance: str | None = None,
):
    """The open flags of the period's notifications, as the table counts them: with a
    substance, an unconfirmed arrival of a notification with an item of it, and a
    discrepancy of an item of it (not of another item of the same notification)."""
    counted = notifications_in(
        period_from=period_from,
        period_to=period_to,
        importing_country=importing_country,
        exporting_country=exporting_country,
    )
    signals = RiskSignal.objects.filter(
        kind__in=OPEN_KINDS, resolved_at__isnull=True, notification_id__in=counted.values("pk")
    )
    if substance:
        items = Item.objects.filter(substance__code=substance).order_by()
        differing = items.alias(gap=GAP).filter(_differs())
        signals = signals.filter(
            Q(kind=RiskKind.ARRIVAL_UNCONFIRMED, notification_id__in=items.values("notification_id"))
            | Q(kind=RiskKind.QUANTITY_DISCREPANCY, notification_id__in=differing.values("notification_id"))
        )
    return signals


def open_case_counts(**filters) -> dict[str, int]:
    """How many notifications have each kind of open flag ({kind: count} for every kind of
    ``OPEN_KINDS``), with the filters of ``figures``. One grouped query."""
    found = dict(
        _open_signals(**filters)
        .values("kind")
        .annotate(n=Count("notification_id", distinct=True))
        .order_by()
        .values_list("kind", "n")
    )
    return {kind: found.get(kind, 0) for kind in OPEN_KINDS}


def open_cases(
    *,
    period_from: date,
    period_to: date,
    importing_country: str | None = None,
    exporting_country: str | None = None,
    substance: str | None = None,
    limit: int = OPEN_CASES_SHOWN,
) -> list[OpenCase]:
    """The open quantity-discrepancy and arrival-unconfirmed flags of the period's
    notifications (the same filters), discrepancies first, oldest dispatch first; at most
    ``limit`` + 1 (so that the page can say there are more). One query."""
    signals = (
        _open_signals(
            period_from=period_from,
            period_to=period_to,
            importing_country=importing_country,
            exporting_country=exporting_country,
            substance=substance,
        )
        .select_related("notification__importing_country", "notification__exporting_country")
        .order_by(
            Case(When(kind=RiskKind.QUANTITY_DISCREPANCY, then=Value(0)), default=Value(1)),
            "notification__dispatched_on",
            "notification__reference",
        )[: limit + 1]
    )
    return [
        OpenCase(
            reference=signal.notification.reference,
            url=signal.notification.get_absolute_url(),
            kind=signal.kind,
            kind_label=signal.get_kind_display(),
            importing_country=signal.notification.importing_country.name,
            exporting_country=signal.notification.exporting_country.name,
            dispatched_on=signal.notification.dispatched_on,
            arrived_on=signal.notification.arrived_on,
            detail=signal.detail,
        )
        for signal in signals
    ]
