"""Timeliness figures: how importing countries answer pre-export notifications.

Definitions (shown on the pages beside the figures):

- A period counts the notifications whose ``reply_due`` falls in it; drafts are never
  counted, nor notifications withdrawn before anyone answered them.
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
- *Overdue now*: awaiting a reply after the deadline at this moment.

Everything is computed by the database in one grouped aggregate query per table (plus a
percentile query on PostgreSQL); no Python loop over notifications."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Func, Q, QuerySet

from .models import Notification, ResponseKind, Status

PERIOD_DAYS = 365


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


def counted(queryset: QuerySet | None = None) -> QuerySet:
    """The notifications the figures count: sent, and not withdrawn unanswered."""
    queryset = Notification.objects.all() if queryset is None else queryset
    return queryset.exclude(status=Status.DRAFT).exclude(status=Status.WITHDRAWN, first_response_at__isnull=True)


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


def timeliness(
    *,
    period_from: date,
    period_to: date,
    today: date,
    importing_countries: list[str] | None = None,
    exporting_country: str | None = None,
) -> list[CountryFigures]:
    """One row per importing country with notifications due in [period_from, period_to]."""
    base = counted().filter(reply_due__gte=period_from, reply_due__lte=period_to)
    if importing_countries is not None:
        base = base.filter(importing_country_id__in=importing_countries)
    if exporting_country:
        base = base.filter(exporting_country_id=exporting_country)
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
    percentiles = _percentiles(base)
    result = []
    for row in rows:
        code = row["importing_country_id"]
        median, p90 = percentiles.get(code, (None, None))
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
            )
        )
    return result


def _percentiles(base: QuerySet) -> dict[str, tuple[float | None, float | None]]:
    answered = base.filter(first_response_at__isnull=False, submitted_at__isnull=False)
    days = DaysBetween(F("first_response_at"), F("submitted_at"))
    if connection.vendor == "postgresql":
        rows = (
            answered.values("importing_country_id")
            .annotate(median=Percentile(days, 0.5), p90=Percentile(days, 0.9))
            .values_list("importing_country_id", "median", "p90")
        )
        return {code: (_round(median), _round(p90)) for code, median, p90 in rows}
    # SQLite (the embedded development database) has no percentile aggregate: interpolate
    # the same way percentile_cont does over the per-country values it returns.
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


def monthly_on_time(*, period_from: date, period_to: date, today: date, country: str | None = None):
    """(month, due, on time) for the chart: by month of reply_due."""
    from django.db.models.functions import TruncMonth

    base = counted().filter(reply_due__gte=period_from, reply_due__lte=period_to).filter(_due(today))
    if country:
        base = base.filter(importing_country_id=country)
    return list(
        base.annotate(month=TruncMonth("reply_due"))
        .values("month")
        .annotate(due=Count("id"), on_time=Count("id", filter=Q(answered_on_time=True)))
        .order_by("month")
        .values_list("month", "due", "on_time")
    )
