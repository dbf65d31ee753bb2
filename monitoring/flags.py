"""The risk module's assessors (registered with notifications.risk in apps.py): what is
unusual about a notification, each with the numbers a person needs. They read, never
write; notifications.risk records their findings when a notification is sent or amended
and the filing page previews them.

- ``alr_exceeded``: the notification takes the year's notified total of an ALR substance
  to the importing country above its estimate (monitoring.estimates: what counts), or the
  country has no estimate for that substance. Exactly at the estimate is not above it.
- ``unusual_quantity``: an item's kilograms are above both the 95th percentile and three
  times the median of the items of that substance to that country in the three years
  before; needs MIN_HISTORY items of history, else it says nothing.
- ``new_importer``: no notification to the country in the three years before names the
  importer (tolerantly: incidents.matching); needs MIN_COUNTRY_HISTORY notifications to
  the country in that time, else every importer would be "new" and the flag meaningless.
- ``prior_objection``: the importer or consignee was named in a notification to the same
  country that its authority objected to (any time before).

Each finding's ``data`` holds the numbers and names, language-free; ``describe_*`` word
them in the active language (notifications.risk.detail_of)."""

import statistics
from datetime import UTC, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Aggregate, Case, Count, DecimalField, F, Q, Value, When
from django.db.models.functions import Round
from django.utils import formats
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from incidents.backtracking import party_names_matching
from incidents.matching import normalise
from incidents.models import NotificationPartyName, PartyRole
from notifications.models import Form, Item, Notification, RiskKind, Status
from notifications.risk import Finding

from . import estimates

MIN_HISTORY = 10
PERCENTILE = 95
MEDIAN_FACTOR = 3
MIN_COUNTRY_HISTORY = 5
LOOKBACK = timedelta(days=3 * 365)
HISTORY_STATUSES = (Status.AWAITING_REPLY, Status.INFORMATION_REQUESTED, Status.NO_OBJECTION, Status.OBJECTION)


_kg = estimates.format_kg


def _date(value: str) -> str:
    return formats.date_format(parse_date(value), "DATE_FORMAT")


def _at(notification: Notification, now):
    """The moment the notification is judged at: when it was sent (now, for a draft)."""
    return notification.submitted_at or now


def _country(notification: Notification) -> dict:
    country = notification.importing_country
    return {"country": country.code, "country_name": country.name}


def _item_kgs(notification: Notification) -> list[tuple[object, Decimal]]:
    """(substance, kg) for each catalogue item of the notification."""
    return [
        (
            item.substance,
            estimates.kg_of(item.quantity, item.unit, item.form, item.concentration_percent, item.substance.code),
        )
        for item in notification.items.select_related("substance")
        if item.substance_id is not None and item.quantity is not None
    ]


# --- alr_exceeded -------------------------------------------------------------------


def assess_alr(notification: Notification, *, now) -> Finding | None:
    if notification.importing_country_id is None:
        return None
    substances = estimates.alr_substances()
    mine: dict[int, Decimal] = {}
    for substance, kg in _item_kgs(notification):
        if substance.pk in substances:
            mine[substance.pk] = mine.get(substance.pk, Decimal("0")) + kg
    if not mine:
        return None
    year = estimates.year_of(notification, now)
    country = notification.importing_country_id
    wanted = {pk: substances[pk] for pk in mine}
    in_force = estimates.in_force([country], year, wanted)
    # What was notified before this one: those sent earlier (a draft: all sent this year),
    # so that re-assessing an old notification judges it as it was when sent.
    sent_before = (notification.submitted_at, notification.pk) if notification.submitted_at else None
    before = estimates.notified([country], year, wanted, exclude=notification.pk, sent_before=sent_before)
    exceeded, missing = [], []
    for pk, kg in sorted(mine.items(), key=lambda item: substances[item[0]].name):
        substance = substances[pk]
        estimate = in_force.get((country, pk))
        if estimate is None:
            missing.append({"substance": substance.code, "name": substance.name})
            continue
        earlier = before.get((country, pk), Decimal("0"))
        total = earlier + kg
        if total > estimate.quantity:
            exceeded.append(
                {
                    "substance": substance.code,
                    "name": substance.name,
                    "estimate": str(estimate.quantity),
                    "estimate_year": estimate.year,
                    "before": str(earlier),
                    "this": str(kg),
                    "total": str(total),
                    "over": str(total - estimate.quantity),
                }
            )
    if not exceeded and not missing:
        return None
    data = {**_country(notification), "year": year, "exceeded": exceeded, "missing": missing}
    return Finding(RiskKind.ALR_EXCEEDED, describe_alr(data), data)


def describe_alr(data: dict) -> str:
    parts = []
    for row in data.get("exceeded", []):
        parts.append(
            _(
                "This notification's %(this)s kg of %(substance)s takes the %(year)s total notified to "
                "%(country)s to %(total)s kg: %(over)s kg above its estimate of %(estimate)s kg "
                "(%(before)s kg were notified before it)."
            )
            % {
                "this": _kg(row["this"]),
                "substance": row["name"],
                "year": data["year"],
                "country": data["country_name"],
                "total": _kg(row["total"]),
                "over": _kg(row["over"]),
                "estimate": _kg(row["estimate"]),
                "before": _kg(row["before"]),
            }
        )
    for row in data.get("missing", []):
        parts.append(
            _(
                "%(country)s has no estimate of annual legitimate requirements for %(substance)s in %(year)s: "
                "ask its competent authority whether the quantity is needed."
            )
            % {"country": data["country_name"], "substance": row["name"], "year": data["year"]}
        )
    return " ".join(parts)


# --- unusual_quantity ---------------------------------------------------------------


def _history_items(country: str, substance, *, until, exclude: int | None):
    items = Item.objects.filter(
        substance=substance,
        importing_country_id=country,
        submitted_at__gte=until - LOOKBACK,
        submitted_at__lt=until,
        notification_status__in=HISTORY_STATUSES,
    )
    if exclude is not None:
        items = items.exclude(notification_id=exclude)
    return items.order_by()


def history_of(country: str, substance, *, until, exclude: int | None) -> list[Decimal]:
    """The kilograms of each item of ``substance`` to ``country`` in the three years
    before ``until`` (sent, not withdrawn), in no particular order (unordered, the items'
    index answers alone; the statistics sort them)."""
    return [
        estimates.kg_of(quantity, unit, form, concentration, substance.code)
        for quantity, unit, form, concentration in _history_items(
            country, substance, until=until, exclude=exclude
        ).values_list("quantity", "unit", "form", "concentration_percent")
    ]


class _Percentile(Aggregate):
    """PostgreSQL's percentile_cont(p) WITHIN GROUP (ORDER BY expression): the same
    interpolation as ``statistics.quantiles(method="inclusive")`` and ``median``."""

    function = "percentile_cont"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DecimalField()

    def __init__(self, expression, percentile, **extra):
        super().__init__(expression, percentile=percentile, **extra)


def history_stats(country: str, substance, *, until, exclude: int | None) -> tuple[int, Decimal, Decimal]:
    """(items, median kg, 95th percentile kg) of that history. On PostgreSQL one aggregate
    query (the busiest country's three years are thousands of items: converted and sorted
    in Python they cost tens of milliseconds at every filing); elsewhere in Python, by the
    same rules (estimates.kg_of)."""
    if connection.vendor != "postgresql":
        history = history_of(country, substance, until=until, exclude=exclude)
        if len(history) < 2:
            return len(history), Decimal(0), Decimal(0)
        p95 = statistics.quantiles(history, n=100, method="inclusive")[PERCENTILE - 1]
        return (
            len(history),
            Decimal(statistics.median(history)).quantize(estimates.THOUSANDTH),
            Decimal(str(p95)).quantize(estimates.THOUSANDTH),
        )
    per_unit = Case(
        When(unit__in=("g", "ml"), then=Value(Decimal("0.001"))), default=Value(Decimal(1)), output_field=DecimalField()
    )
    share = Case(
        When(~Q(form=Form.SUBSTANCE) & Q(concentration_percent__isnull=False), then=F("concentration_percent") / 100),
        When(unit__in=("l", "ml"), then=Value(estimates.DENSITY_KG_PER_L.get(substance.code, Decimal(1)))),
        default=Value(Decimal(1)),
        output_field=DecimalField(),
    )
    kg = Round(F("quantity") * per_unit * share, 3)
    # Counted by notification_id, not id: every column it reads is in item_by_destination,
    # so the index answers alone (an index-only scan: 14 ms instead of 66 at the benchmark's
    # busiest country and substance, where the heap pages would be read one by one).
    row = _history_items(country, substance, until=until, exclude=exclude).aggregate(
        count=Count("notification_id"), median=_Percentile(kg, 0.5), p95=_Percentile(kg, PERCENTILE / 100)
    )
    # percentile_cont is double precision: to the gram, as kg_of counts.
    return (
        row["count"],
        Decimal(row["median"] or 0).quantize(estimates.THOUSANDTH),
        Decimal(row["p95"] or 0).quantize(estimates.THOUSANDTH),
    )


def assess_unusual_quantity(notification: Notification, *, now) -> Finding | None:
    if notification.importing_country_id is None:
        return None
    until = _at(notification, now)
    found = []
    biggest: dict[int, tuple[object, Decimal]] = {}
    for substance, kg in _item_kgs(notification):
        if substance.pk not in biggest or kg > biggest[substance.pk][1]:
            biggest[substance.pk] = (substance, kg)
    for substance, kg in biggest.values():
        count, median, p95 = history_stats(
            notification.importing_country_id, substance, until=until, exclude=notification.pk
        )
        if count < MIN_HISTORY:
            continue
        if kg > p95 and kg > MEDIAN_FACTOR * median:
            found.append(
                {
                    "substance": substance.code,
                    "name": substance.name,
                    "quantity": str(kg),
                    "p95": str(p95.quantize(estimates.THOUSANDTH)),
                    "median": str(Decimal(median).quantize(estimates.THOUSANDTH)),
                    "count": count,
                }
            )
    if not found:
        return None
    data = {**_country(notification), "items": found}
    return Finding(RiskKind.UNUSUAL_QUANTITY, describe_unusual(data), data)


def describe_unusual(data: dict) -> str:
    return " ".join(
        _(
            "%(quantity)s kg of %(substance)s is far above what %(country)s has been notified in the last three "
            "years: above the 95th percentile (%(p95)s kg) and three times the median (%(median)s kg) of its "
            "%(count)s earlier items of this substance."
        )
        % {
            "quantity": _kg(row["quantity"]),
            "substance": row["name"],
            "country": data["country_name"],
            "p95": _kg(row["p95"]),
            "median": _kg(row["median"]),
            "count": row["count"],
        }
        for row in data["items"]
    )


# --- new_importer -------------------------------------------------------------------


def assess_new_importer(notification: Notification, *, now) -> Finding | None:
    name = notification.importer_name.strip()
    if notification.importing_country_id is None or not normalise(name):
        return None
    until = _at(notification, now)
    since = until - LOOKBACK
    window = Notification.objects.filter(
        importing_country_id=notification.importing_country_id,
        status__in=HISTORY_STATUSES,
        submitted_at__gte=since,
        submitted_at__lt=until,
    ).exclude(pk=notification.pk)
    # Unordered: any five will do (ordered, every row of the window would be sorted first).
    if len(window.order_by().values_list("pk", flat=True)[:MIN_COUNTRY_HISTORY]) < MIN_COUNTRY_HISTORY:
        return None
    rows = NotificationPartyName.objects.filter(
        role=PartyRole.IMPORTER, notification__in=window.order_by().values("pk")
    )
    # Most importers have filed before under the same name: found exactly (an index), the
    # tolerant search (every similar name, then rapidfuzz) is not needed.
    same = NotificationPartyName.objects.filter(
        role=PartyRole.IMPORTER,
        normalised_name=normalise(name),
        notification__importing_country_id=notification.importing_country_id,
        notification__status__in=HISTORY_STATUSES,
        notification__submitted_at__gte=since,
        notification__submitted_at__lt=until,
    ).exclude(notification_id=notification.pk)
    if same.exists() or party_names_matching([normalise(name)], rows):
        return None
    data = {**_country(notification), "importer": name, "since": since.astimezone(UTC).date().isoformat()}
    return Finding(RiskKind.NEW_IMPORTER, describe_new_importer(data), data)


def describe_new_importer(data: dict) -> str:
    return _(
        "First notification to “%(importer)s” for %(country)s in three years: no notification sent to "
        "%(country)s since %(since)s names this importer, however spelled. Check that the importer is known "
        "to the importing authority."
    ) % {"importer": data["importer"], "country": data["country_name"], "since": _date(data["since"])}


# --- prior_objection ----------------------------------------------------------------


def assess_prior_objection(notification: Notification, *, now) -> Finding | None:
    if notification.importing_country_id is None:
        return None
    names = {}
    for value in (notification.importer_name, notification.consignee_name):
        if normalised := normalise(value):
            names.setdefault(normalised, value.strip())
    if not names:
        return None
    objected = Notification.objects.filter(
        importing_country_id=notification.importing_country_id, status=Status.OBJECTION
    ).exclude(pk=notification.pk)
    rows = NotificationPartyName.objects.filter(
        role__in=(PartyRole.IMPORTER, PartyRole.CONSIGNEE), notification__in=objected.order_by().values("pk")
    )
    # The same name objected to before, found exactly (an index): enough to raise the flag
    # and name the objections, without the tolerant search (every similar name of every
    # objected notification to the country, then rapidfuzz: 600 ms at the busiest country
    # of the benchmark). Only a name never objected to as written is searched tolerantly.
    exact = list(
        rows.filter(normalised_name__in=list(names))
        .order_by("-notification_id")
        .values_list("notification_id", "normalised_name")[:50]
    )
    if exact:
        ids = {pk: names[name] for pk, name in exact}
    else:
        matched = party_names_matching(list(names), rows)
        if not matched:
            return None
        ids = {row.notification_id: names[name] for _score, name, row in matched}
    found = [
        {"reference": reference, "on": (replied_at or submitted_at).date().isoformat(), "name": ids[pk]}
        for pk, reference, replied_at, submitted_at in Notification.objects.filter(pk__in=list(ids))
        .order_by("-replied_at", "-pk")
        .values_list("pk", "reference", "replied_at", "submitted_at")[:5]
    ]
    data = {**_country(notification), "objections": found}
    return Finding(RiskKind.PRIOR_OBJECTION, describe_prior_objection(data), data)


def describe_prior_objection(data: dict) -> str:
    by_name: dict[str, list[str]] = {}
    for row in data["objections"]:
        by_name.setdefault(row["name"], []).append(
            _("%(reference)s (objection of %(date)s)") % {"reference": row["reference"], "date": _date(row["on"])}
        )
    return " ".join(
        _("%(country)s objected before to a notification naming “%(name)s”: %(notifications)s.")
        % {"country": data["country_name"], "name": name, "notifications": ", ".join(refs)}
        for name, refs in by_name.items()
    )
