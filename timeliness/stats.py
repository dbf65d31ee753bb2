"""Timeliness figures: how importing countries answer pre-export notifications.

Definitions (shown on the pages beside the figures):

- A period counts the notifications whose ``reply_due`` falls in it; drafts are never
  counted, nor notifications withdrawn unanswered before their deadline (withdrawn
  unanswered after it, a notification stays counted: it was a silence).
- *Received*: those notifications. *Acknowledged*: receipt confirmed. *Replied*: a final
  reply (no objection or objection) was given, whenever.
- *Due*: the reply deadline (end of the ``reply_due`` day, UTC) has passed, or an answer
  came already.
- *Replied on time*: the first answer (a final reply or a request for information) came
  by the deadline; fixed when it came (``answered_on_time``), so later moves of
  ``reply_due`` do not rewrite history.
- *On-time rate* = replied on time / due. *Silence rate* = due notifications not answered
  by the deadline / due (answered late or never).
- *Days to reply*: from sending to the first answer; median and 90th percentile.
- *Overdue now*: of the period's notifications, those awaiting a reply after the
  deadline at this moment.
- *Objections*: final replies that object. *Information requests*: requests for
  information made (a notification may have several).
- Only *scheduled* notifications (Table I and II) count in the figures above. A voluntary
  notification (a non-scheduled chemical, issue 12) without a reply deadline is never
  counted; one with a deadline is counted apart, in *Voluntary due* and *Voluntary replied
  on time*, never in the on-time or silence rates.

``DEFINITIONS`` below is the same text as the pages and exports print it.

Everything is computed by the database in a few grouped aggregate queries per table (the
counts; the requests for information, which live in another table; the percentiles),
whatever the number of countries or notifications; no Python loop over notifications.
The one exception is SQLite, the embedded development database, which has no percentile
aggregate: there the per-notification durations are fetched and interpolated in Python.

Visibility (``visible_countries``): INCB staff see every country; a national authority
sees its own country and the countries it notifies."""

from dataclasses import dataclass
from datetime import UTC, date, timedelta

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Func, Q, QuerySet
from django.db.models.functions import TruncDate, TruncMonth
from django.utils.translation import gettext_lazy as _

from notifications.models import Notification, NotificationKind, ResponseKind, Status

PERIOD_DAYS = 365

# The definitions above in the words the pages and the exports print beside the figures.
DEFINITIONS = [
    (
        _("Period"),
        _(
            "The notifications whose reply-due date falls in the period. Drafts are never counted, nor "
            "notifications withdrawn unanswered before their deadline (one withdrawn unanswered after its "
            "deadline is still counted: it was a silence)."
        ),
    ),
    (_("Received"), _("Those notifications.")),
    (_("Acknowledged"), _("Receipt confirmed by the importing authority (a reply confirms it too).")),
    (_("Replied"), _("A final reply (no objection or objection) was given, whenever it came.")),
    (
        _("Due"),
        _("The reply deadline (the end of the reply-due day, UTC) has passed, or an answer came already."),
    ),
    (
        _("Replied on time"),
        _(
            "The first answer, a final reply or a request for information, came by the deadline. It is fixed "
            "when it comes, so a later move of the reply-due date does not rewrite it."
        ),
    ),
    (_("On-time rate"), _("Replied on time divided by due.")),
    (
        _("Days to reply"),
        _("From sending to the first answer; the median (half answered sooner) and the 90th percentile."),
    ),
    (_("Overdue now"), _("Of the period's notifications, those still awaiting a reply after their deadline today.")),
    (
        _("Silence rate"),
        _("Due notifications not answered by the deadline (answered late, or never), divided by due."),
    ),
    (_("Objections"), _("Notifications whose final reply is an objection.")),
    (
        _("Information requests"),
        _("Requests for information made (one notification may have several)."),
    ),
    (
        _("Voluntary notifications"),
        _(
            "Only scheduled notifications (Table I and II substances) count in the figures above. A voluntary "
            "notification of a non-scheduled chemical is counted only if the exporter set a reply deadline, and "
            "then apart: voluntary due, and of those replied on time."
        ),
    ),
]


class Percentile(Aggregate):
    """PostgreSQL's percentile_cont(p) WITHIN GROUP (ORDER BY expression)."""

    function = "percentile_cont"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, percentile, **extra):
        super().__init__(expression, percentile=float(percentile), **extra)


class DaysBetween(Func):
    """(end - start) in days, as a float."""

    output_field = FloatField()

    def __init__(self, end, start):
        super().__init__(end, start)

    def as_postgresql(self, compiler, connection, **extra):
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)", (*end_params, *start_params)

    def as_sqlite(self, compiler, connection, **extra):
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        return f"(julianday({end}) - julianday({start}))", (*end_params, *start_params)


@dataclass(frozen=True)
class Period:
    """An inclusive range of reply-due dates; ``year`` is set for a calendar-year preset."""

    start: date
    end: date
    year: int | None = None

    @property
    def is_last_12_months(self) -> bool:
        return self.year is None and self.end - self.start == timedelta(days=PERIOD_DAYS)


def last_12_months(today: date) -> Period:
    """The default period; the same window as ``silence_rate`` (the filing form's figure)."""
    return Period(start=today - timedelta(days=PERIOD_DAYS), end=today)


def calendar_year(year: int) -> Period:
    return Period(start=date(year, 1, 1), end=date(year, 12, 31), year=year)


def months_in(period_from: date, period_to: date) -> list[date]:
    """The first day of every month the period touches, in order (the charts' x axis)."""
    months = []
    current = period_from.replace(day=1)
    while current <= period_to:
        months.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return months


def counted(queryset: QuerySet | None = None, *, kind: str = NotificationKind.SCHEDULED) -> QuerySet:
    """The notifications the figures count: sent, of ``kind`` (the scheduled ones, unless
    the voluntary ones are counted apart), and not withdrawn unanswered before their
    deadline. One withdrawn unanswered *after* its deadline stays counted, as a silence:
    the exporter giving up on a reply must not erase the silence from the record. A
    voluntary notification without a deadline has no reply_due and falls in no period."""
    queryset = Notification.objects.filter(kind=kind) if queryset is None else queryset.filter(kind=kind)
    # The deadline is the end of the reply_due day in UTC (chasing.reply_deadline), so
    # "withdrawn before the deadline" is "withdrawn on or before reply_due, in UTC".
    withdrawn_in_time = Q(
        status=Status.WITHDRAWN,
        first_response_at__isnull=True,
        withdrawn_at__isnull=False,
    ) & Q(withdrawn_on__lte=F("reply_due"))
    return (
        queryset.exclude(status=Status.DRAFT)
        .alias(withdrawn_on=TruncDate("withdrawn_at", tzinfo=UTC))
        .exclude(withdrawn_in_time)
    )


def _in_period(
    period_from, period_to, importing_countries=None, exporting_country=None, kind=NotificationKind.SCHEDULED
) -> QuerySet:
    base = counted(kind=kind).filter(reply_due__gte=period_from, reply_due__lte=period_to)
    if importing_countries is not None:
        base = base.filter(importing_country_id__in=importing_countries)
    if exporting_country:
        base = base.filter(exporting_country_id=exporting_country)
    return base


def _due(today: date) -> Q:
    return Q(reply_due__lt=today) | Q(answered_on_time__isnull=False)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class CountryFigures:
    country: str
    country_name: str
    received: int
    acknowledged: int
    replied: int
    replied_on_time: int
    due: int
    on_time_rate: float | None
    silence_rate: float | None
    median_days_to_reply: float | None
    p90_days_to_reply: float | None
    overdue_now: int
    objections: int
    information_requests: int
    voluntary_due: int = 0
    voluntary_replied_on_time: int = 0


def timeliness(
    *,
    period_from: date,
    period_to: date,
    today: date,
    importing_countries: list[str] | None = None,
    exporting_country: str | None = None,
) -> list[CountryFigures]:
    """One row per importing country with notifications due in [period_from, period_to]
    (``importing_countries``: only these; ``exporting_country``: only its notifications)."""
    base = _in_period(period_from, period_to, importing_countries, exporting_country)
    due = _due(today)
    rows = (
        base.values("importing_country_id", "importing_country__name")
        .annotate(
            received=Count("id"),
            acknowledged=Count("id", filter=Q(acknowledged_at__isnull=False)),
            replied=Count("id", filter=Q(replied_at__isnull=False)),
            replied_on_time=Count("id", filter=Q(answered_on_time=True)),
            due=Count("id", filter=due),
            overdue_now=Count("id", filter=Q(status=Status.AWAITING_REPLY, reply_due__lt=today)),
            objections=Count("id", filter=Q(status=Status.OBJECTION)),
            **_percentile_annotations(),
        )
        .order_by("importing_country_id")
    )
    # Requests for information live in another table: joining it here would multiply the
    # rows the counts above see, so they are counted in their own grouped query.
    rows = list(rows)
    if rows:
        info = dict(
            base.filter(responses__kind=ResponseKind.INFORMATION_REQUESTED)
            .values("importing_country_id")
            .annotate(n=Count("responses"))
            .values_list("importing_country_id", "n")
        )
        for row in rows:
            row["information_requests"] = info.get(row["importing_country_id"], 0)
    # On PostgreSQL the percentiles came with the counts, in the same scan.
    percentiles = {} if connection.vendor == "postgresql" else _percentiles(base)
    # Voluntary notifications with a deadline: counted apart, in one more grouped query.
    voluntary = {
        row["importing_country_id"]: row
        for row in _in_period(
            period_from, period_to, importing_countries, exporting_country, kind=NotificationKind.VOLUNTARY
        )
        .filter(due)
        .values("importing_country_id", "importing_country__name")
        .annotate(due=Count("id"), on_time=Count("id", filter=Q(answered_on_time=True)))
        .order_by()
    }
    known = {row["importing_country_id"] for row in rows}
    for code, row in voluntary.items():
        if code not in known:  # a country with only voluntary notifications due
            rows.append(
                {
                    "importing_country_id": code,
                    "importing_country__name": row["importing_country__name"],
                    **dict.fromkeys(
                        ("received", "acknowledged", "replied", "replied_on_time", "due", "overdue_now", "objections"),
                        0,
                    ),
                    "information_requests": 0,
                    "median": None,
                    "p90": None,
                }
            )
    rows.sort(key=lambda row: row["importing_country_id"])
    result = []
    for row in rows:
        code = row["importing_country_id"]
        median, p90 = percentiles.get(code, (_round(row.get("median")), _round(row.get("p90"))))
        result.append(
            CountryFigures(
                country=code,
                country_name=row["importing_country__name"],
                received=row["received"],
                acknowledged=row["acknowledged"],
                replied=row["replied"],
                replied_on_time=row["replied_on_time"],
                due=row["due"],
                on_time_rate=_rate(row["replied_on_time"], row["due"]),
                silence_rate=_rate(row["due"] - row["replied_on_time"], row["due"]),
                median_days_to_reply=median,
                p90_days_to_reply=p90,
                overdue_now=row["overdue_now"],
                objections=row["objections"],
                information_requests=row["information_requests"],
                voluntary_due=voluntary.get(code, {}).get("due", 0),
                voluntary_replied_on_time=voluntary.get(code, {}).get("on_time", 0),
            )
        )
    return result


def _percentile_annotations() -> dict:
    """Median and 90th percentile of the days to the first answer, as aggregates beside
    the counts (PostgreSQL only; percentile_cont skips the unanswered, whose days are NULL)."""
    if connection.vendor != "postgresql":
        return {}
    days = DaysBetween(F("first_response_at"), F("submitted_at"))
    return {"median": Percentile(days, 0.5), "p90": Percentile(days, 0.9)}


def _percentiles(base: QuerySet) -> dict[str, tuple[float | None, float | None]]:
    """Median and 90th percentile per country where the database has no percentile
    aggregate (SQLite, the embedded development database): interpolated the way
    percentile_cont does, over the per-country values one query returns. On PostgreSQL
    they come with the counts (``_percentile_annotations``)."""
    answered = base.filter(first_response_at__isnull=False, submitted_at__isnull=False)
    days = DaysBetween(F("first_response_at"), F("submitted_at"))
    values: dict[str, list[float]] = {}
    for code, value in answered.annotate(days=days).values_list("importing_country_id", "days"):
        values.setdefault(code, []).append(value)
    return {code: (_round(_interpolate(v, 0.5)), _round(_interpolate(v, 0.9))) for code, v in values.items()}


def _interpolate(values: list[float], p: float) -> float:
    ordered = sorted(values)
    position = p * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _round(value):
    return None if value is None else round(value, 1)


@dataclass
class SilenceRate:
    country: str
    due: int
    silent: int

    @property
    def rate(self) -> float | None:
        return _rate(self.silent, self.due)


def silence_rate(country_code: str, *, today: date) -> SilenceRate:
    """The share of the last 12 months' notifications to ``country_code`` not answered
    by their due date (the filing form and the notification page show it)."""
    figures = (
        counted()
        .filter(importing_country_id=country_code, reply_due__gte=today - timedelta(days=PERIOD_DAYS))
        .filter(_due(today))
        .aggregate(due=Count("id"), on_time=Count("id", filter=Q(answered_on_time=True)))
    )
    return SilenceRate(country=country_code, due=figures["due"], silent=figures["due"] - figures["on_time"])


@dataclass
class MonthPoint:
    month: date
    due: int
    on_time: int

    @property
    def rate(self) -> float | None:
        return _rate(self.on_time, self.due)


def monthly_on_time(
    *,
    period_from: date,
    period_to: date,
    today: date,
    country: str | None = None,
    exporting_country: str | None = None,
) -> list[MonthPoint]:
    """The on-time rate by month of ``reply_due`` for the chart (the whole system, or one
    importing country): one grouped query. Months without a due notification are absent."""
    base = _in_period(period_from, period_to, [country] if country else None, exporting_country).filter(_due(today))
    rows = (
        base.annotate(month=TruncMonth("reply_due"))
        .values("month")
        .annotate(due=Count("id"), on_time=Count("id", filter=Q(answered_on_time=True)))
        .order_by("month")
        .values_list("month", "due", "on_time")
    )
    return [MonthPoint(month, due, on_time) for month, due, on_time in rows]


def monthly_on_time_by_country(
    *,
    period_from: date,
    period_to: date,
    today: date,
    importing_countries: list[str] | None = None,
    exporting_country: str | None = None,
) -> dict[str, list[MonthPoint]]:
    """The same, for every importing country at once (the table's sparklines): one query
    grouped by country and month, never one query per country."""
    base = _in_period(period_from, period_to, importing_countries, exporting_country).filter(_due(today))
    rows = (
        base.annotate(month=TruncMonth("reply_due"))
        .values("importing_country_id", "month")
        .annotate(due=Count("id"), on_time=Count("id", filter=Q(answered_on_time=True)))
        .order_by("importing_country_id", "month")
        .values_list("importing_country_id", "month", "due", "on_time")
    )
    series: dict[str, list[MonthPoint]] = {}
    for code, month, due, on_time in rows:
        series.setdefault(code, []).append(MonthPoint(month, due, on_time))
    return series


def all_countries(by_country: dict[str, list[MonthPoint]]) -> list[MonthPoint]:
    """The whole system's monthly series, summed from the per-country one (at most one
    point per country and month), which saves the pages a second pass over the table."""
    totals: dict[date, MonthPoint] = {}
    for points in by_country.values():
        for point in points:
            total = totals.setdefault(point.month, MonthPoint(point.month, 0, 0))
            total.due += point.due
            total.on_time += point.on_time
    return [totals[month] for month in sorted(totals)]


def visible_countries(user) -> list[str] | None:
    """Whose timeliness ``user`` may see: ``None`` for every country (INCB staff); for a
    national authority its own country and the importing countries of the notifications
    it has sent (drafts do not count); for anyone else, nobody."""
    from notifications.access import Party, visible_notifications

    if user is None or not user.is_authenticated or not user.is_active or user.authority_id is None:
        return []
    if user.authority.is_incb:
        return None
    notified = (
        visible_notifications(user, role=Party.EXPORTING)
        .exclude(status=Status.DRAFT)
        .order_by()
        .values_list("importing_country_id", flat=True)
        .distinct()
    )
    return sorted({user.authority.country_id, *notified})


# The table's columns, in order: the pages, the CSV and the XLSX exports all use them.
# (attribute of CountryFigures, heading, kind: "text" | "count" | "rate" | "days")
COLUMNS = [
    ("country", _("Code"), "text"),
    ("country_name", _("Country"), "text"),
    ("received", _("Received"), "count"),
    ("acknowledged", _("Acknowledged"), "count"),
    ("replied", _("Replied"), "count"),
    ("due", _("Due"), "count"),
    ("replied_on_time", _("Replied on time"), "count"),
    ("on_time_rate", _("On-time rate"), "rate"),
    ("median_days_to_reply", _("Median days to reply"), "days"),
    ("p90_days_to_reply", _("90th percentile days to reply"), "days"),
    ("overdue_now", _("Overdue now"), "count"),
    ("silence_rate", _("Silence rate"), "rate"),
    ("objections", _("Objections"), "count"),
    ("information_requests", _("Information requests"), "count"),
    ("voluntary_due", _("Voluntary due"), "count"),
    ("voluntary_replied_on_time", _("Voluntary replied on time"), "count"),
]


@dataclass
class CountrySignal:
    """What an exporter should know about an importing country before sending: its
    silence record, declared regime, and whom to contact."""

    country: object
    rate: SilenceRate
    focal_point: object | None

    @property
    def sentence(self) -> str:
        from django.utils.translation import gettext as _

        if not self.rate.due:
            return _("No notification to %(country)s has come due in the last 12 months.") % {
                "country": self.country.name
            }
        return _(
            "%(country)s left %(silent)d of its last %(due)d notifications unanswered by the due date (last 12 months)."
        ) % {"country": self.country.name, "silent": self.rate.silent, "due": self.rate.due}

    @property
    def advice(self) -> str:
        from django.utils.translation import gettext as _

        from authorities.models import ReplyRegime

        if self.country.reply_regime == ReplyRegime.TACIT_CONSENT:
            return _(
                "%(country)s declares tacit consent: silence after %(days)d %(kind)s counts as consent, but it is "
                "still recorded as silence. If no reply comes, contact its focal point."
            ) % {
                "country": self.country.name,
                "days": self.country.reply_period_days,
                "kind": self.country.get_reply_period_kind_display().lower(),
            }
        return _(
            "%(country)s requires explicit consent: never ship on silence. If no reply comes by the due date, "
            "contact its focal point and hold the shipment."
        ) % {"country": self.country.name}

    def as_json(self) -> dict:
        fp = self.focal_point
        return {
            "country": self.country.code,
            "name": self.country.name,
            "reply_regime": self.country.reply_regime,
            "reply_period_days": self.country.reply_period_days,
            "reply_period_kind": self.country.reply_period_kind,
            "due": self.rate.due,
            "silent": self.rate.silent,
            "silence_rate": self.rate.rate,
            "sentence": self.sentence,
            "advice": self.advice,
            "focal_point": {"name": fp.name, "email": fp.email, "phone": fp.phone} if fp else None,
        }


def country_signal(country, *, today: date) -> CountrySignal:
    from authorities.models import Authority

    return CountrySignal(
        country=country,
        rate=silence_rate(country.code, today=today),
        focal_point=Authority.objects.filter(country=country, is_focal_point=True).first(),
    )
