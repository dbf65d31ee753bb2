"""The timeliness pages: INCB's review of every importing country's record, a country's
drill-down and the exports, and the reconciliation of shipments (notified, shipped and
received quantities, timeliness.reconciliation) with its CSV; and an authority's page of
its own record.

The figures come from timeliness.stats (a few grouped aggregate queries, whatever the
number of countries or notifications); the views read the request, sort at most one row
per country, and draw the charts (timeliness.charts)."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from authorities.models import Authority, AuthorityKind, Country, Substance
from chasing.models import FollowUp
from notifications import access
from notifications.models import RiskKind
from web.dates import for_people, in_range, out_of_range_message

from . import charts, exports, reconciliation, stats

# column key -> (heading, short heading for the table, the direction of a first click).
# The short headings may break at their soft hyphens (U+00AD), so that fourteen columns
# fit the page. A first click shows the worst first: the lowest on-time rate, the highest silence rate,
# the most overdue, the slowest replies.
SORTS = {
    "country": (gettext_lazy("Country"), gettext_lazy("Country"), "asc"),
    "received": (gettext_lazy("Received"), gettext_lazy("Received"), "desc"),
    "acknowledged": (gettext_lazy("Acknowledged"), gettext_lazy("Acknow\u00adledged"), "desc"),
    "replied": (gettext_lazy("Replied"), gettext_lazy("Replied"), "desc"),
    "due": (gettext_lazy("Due"), gettext_lazy("Due"), "desc"),
    "replied_on_time": (gettext_lazy("Replied on time"), gettext_lazy("On time"), "asc"),
    "on_time_rate": (gettext_lazy("On-time rate"), gettext_lazy("On-time rate"), "asc"),
    "median_days_to_reply": (gettext_lazy("Median days to reply"), gettext_lazy("Median days"), "desc"),
    "p90_days_to_reply": (gettext_lazy("90th percentile days to reply"), gettext_lazy("90th pct. days"), "desc"),
    "overdue_now": (gettext_lazy("Overdue now"), gettext_lazy("Overdue now"), "desc"),
    "silence_rate": (gettext_lazy("Silence rate"), gettext_lazy("Silence rate"), "desc"),
    "objections": (gettext_lazy("Objections"), gettext_lazy("Objec\u00adtions"), "desc"),
    "information_requests": (gettext_lazy("Information requests"), gettext_lazy("Info. requests"), "desc"),
    "voluntary_due": (gettext_lazy("Voluntary due"), gettext_lazy("Volun\u00adtary due"), "desc"),
    "voluntary_replied_on_time": (
        gettext_lazy("Voluntary replied on time"),
        gettext_lazy("Volun\u00adtary on time"),
        "asc",
    ),
}
DEFAULT_SORT = "on_time_rate"
PRESET_YEARS = 3
EARLIEST_YEAR = 1990
# The pages chart the period month by month: ten years at most (the API has no such limit).
MAX_PERIOD_DAYS = 3653


# --- what the request asks for ----------------------------------------------------------


@dataclass
class Selection:
    """The period, filters and order a page (or an export) shows."""

    period: stats.Period
    exporting: str = ""
    sort: str = DEFAULT_SORT
    direction: str = "asc"
    country: str = ""
    errors: list[str] = field(default_factory=list)
    # Whether the period was given as from/to (not the default, not a year).
    custom: bool = False

    def params(self, **overrides) -> dict:
        """The query parameters that reproduce this selection (defaults left out)."""
        values = {}
        if self.period.year is not None:
            values["year"] = self.period.year
        elif self.custom:
            values["from"] = self.period.start.isoformat()
            values["to"] = self.period.end.isoformat()
        if self.exporting:
            values["exporting"] = self.exporting
        if self.sort != DEFAULT_SORT or self.direction != "asc":
            values["sort"] = self.sort
            values["dir"] = self.direction
        if self.country:
            values["country"] = self.country
        values.update(overrides)
        return {key: value for key, value in values.items() if value not in (None, "")}

    def query(self, **overrides) -> str:
        params = self.params(**overrides)
        return f"?{urlencode(params)}" if params else ""

    def period_query(self) -> str:
        """Only the period (for links to another page about the same period)."""
        return self.query(exporting=None, sort=None, dir=None, country=None)

    @property
    def label(self) -> str:
        return period_label(self.period)


def period_label(period: stats.Period) -> str:
    start, end = for_people(period.start), for_people(period.end)
    if period.year is not None:
        return _("Calendar year %(year)d (reply due 1 January to 31 December)") % {"year": period.year}
    if period.is_last_12_months:
        return _("The last 12 months (reply due %(start)s to %(end)s)") % {"start": start, "end": end}
    return _("Reply due %(start)s to %(end)s") % {"start": start, "end": end}


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def read_selection(params, today: date) -> Selection:
    """The selection from the query string. What cannot be read is said, and the default
    (the last 12 months, worst on-time rate first) is shown instead."""
    errors = []
    custom = False
    period = stats.last_12_months(today)
    year = params.get("year", "").strip()
    start, end = params.get("from", "").strip(), params.get("to", "").strip()
    if year:
        if year.isdigit() and EARLIEST_YEAR <= int(year) <= today.year + 1:
            period = stats.calendar_year(int(year))
        else:
            errors.append(_("There is no year %(year)s to show; showing the last 12 months.") % {"year": year[:10]})
    elif start or end:
        parsed_start = _parse_date(start) if start else None
        parsed_end = _parse_date(end) if end else today
        if (start and parsed_start is None) or parsed_end is None:
            errors.append(_("Enter dates as YYYY-MM-DD, for example 2025-03-31; showing the last 12 months."))
        elif not all(in_range(d) for d in (parsed_start, parsed_end) if d is not None):
            errors.append(out_of_range_message() + " " + _("Showing the last 12 months."))
        else:
            if parsed_start is None:
                try:
                    parsed_start = parsed_end - timedelta(days=stats.PERIOD_DAYS)
                except OverflowError:
                    parsed_start = date.min
            if parsed_start > parsed_end:
                errors.append(_("The period starts after it ends; showing the last 12 months."))
            elif parsed_end - parsed_start > timedelta(days=MAX_PERIOD_DAYS):
                errors.append(_("Choose a period of at most ten years; showing the last 12 months."))
            elif (parsed_start, parsed_end) == (date(parsed_end.year, 1, 1), date(parsed_end.year, 12, 31)):
                period = stats.calendar_year(parsed_end.year)  # the same as its preset
            elif stats.Period(start=parsed_start, end=parsed_end) != period:
                period = stats.Period(start=parsed_start, end=parsed_end)
                custom = True
    sort = params.get("sort", DEFAULT_SORT)
    if sort not in SORTS:
        sort = DEFAULT_SORT
    direction = params.get("dir", "")
    if direction not in ("asc", "desc"):
        direction = SORTS[sort][2]
    return Selection(
        period=period,
        exporting=_country_code(params.get("exporting", "")),
        sort=sort,
        direction=direction,
        country=_country_code(params.get("country", "")),
        errors=errors,
        custom=custom,
    )


def _country_code(value: str) -> str:
    value = (value or "").strip().upper()
    return value if len(value) == 2 and value.isalpha() else ""


def sort_rows(rows: list[stats.CountryFigures], key: str, direction: str) -> list[stats.CountryFigures]:
    """At most one row per country. Rows without a value (nothing due, nothing answered)
    come last in either direction; ties by country name."""
    attribute = "country_name" if key == "country" else key
    rows = sorted(rows, key=lambda row: row.country_name)
    present = [row for row in rows if getattr(row, attribute) is not None]
    missing = [row for row in rows if getattr(row, attribute) is None]
    present.sort(key=lambda row: getattr(row, attribute), reverse=direction == "desc")
    return present + missing


# --- what the pages show ----------------------------------------------------------------


def format_rate(rate: float | None) -> str:
    if rate is None:
        return ""
    text = f"{rate * 100:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + "%"


def format_days(days: float | None) -> str:
    return "" if days is None else f"{days:.1f}"


def format_value(key: str, value) -> str:
    if key.endswith("_rate"):
        return format_rate(value)
    if key.endswith("days_to_reply"):
        return format_days(value)
    return "" if value is None else str(value)


@dataclass
class Cell:
    key: str
    text: str  # empty: no value (shown as a dash, read as "none")
    tone: str = ""  # a CSS modifier that repeats what the number says, never replaces it


@dataclass
class TableRow:
    figures: stats.CountryFigures
    sparkline: str = ""
    url: str = ""
    cells: list[Cell] = field(default_factory=list)


@dataclass
class Heading:
    key: str
    label: str
    short: str
    url: str
    aria_sort: str
    numeric: bool


def _tone(key: str, value) -> str:
    if key == "on_time_rate" and value is not None:
        return "bad" if value < 0.5 else ("fair" if value < 0.8 else "")
    if key == "overdue_now" and value:
        return "bad"
    return ""


def cells_by_key(row: stats.CountryFigures | None) -> dict[str, str]:
    return {cell.key: cell.text for cell in _cells(row)} if row else {}


def _cells(row: stats.CountryFigures) -> list[Cell]:
    return [
        Cell(key=key, text=format_value(key, getattr(row, key)), tone=_tone(key, getattr(row, key)))
        for key in SORTS
        if key != "country"
    ]


def headings(selection: Selection, base_url: str) -> list[Heading]:
    result = []
    for key, (label, short, first) in SORTS.items():
        current = key == selection.sort
        direction = ("desc" if selection.direction == "asc" else "asc") if current else first
        result.append(
            Heading(
                key=key,
                label=label,
                short=short,
                url=base_url + selection.query(sort=key, dir=direction),
                aria_sort=("ascending" if selection.direction == "asc" else "descending") if current else "",
                numeric=key != "country",
            )
        )
    return result


def table_rows(rows, months, monthly, *, link=None) -> list[TableRow]:
    return [
        TableRow(
            figures=row,
            sparkline=charts.sparkline(
                points=charts.align(months, monthly.get(row.country, [])),
                label=_("On-time rate by month, %(country)s") % {"country": row.country_name},
            ),
            url=link(row.country) if link else "",
            cells=_cells(row),
        )
        for row in rows
    ]


def summary(rows: list[stats.CountryFigures]) -> dict:
    """Totals of the table (sums of at most one row per country)."""
    due = sum(row.due for row in rows)
    on_time = sum(row.replied_on_time for row in rows)
    return {
        "countries": len(rows),
        "received": sum(row.received for row in rows),
        "due": due,
        "on_time": on_time,
        "on_time_rate_text": format_rate(on_time / due if due else None),
        "overdue_now": sum(row.overdue_now for row in rows),
    }


@dataclass
class Chart:
    svg: str
    months: list[date]
    series: list[charts.Series]
    title: str
    description: str

    @property
    def has_data(self) -> bool:
        return any(point is not None for line in self.series for point in line.points)


def on_time_chart(*, chart_id, months, series, title) -> Chart:
    described = []
    for line in series:
        known = [point for point in line.points if point is not None and point.rate is not None]
        if known:
            worst = min(known, key=lambda point: point.rate)
            described.append(
                _("%(series)s: %(first)s in %(first_month)s, %(last)s in %(last_month)s; lowest %(low)s in %(month)s.")
                % {
                    "series": line.label,
                    "first": charts.percent(known[0].rate),
                    "first_month": date_format(known[0].month, "F Y"),
                    "last": charts.percent(known[-1].rate),
                    "last_month": date_format(known[-1].month, "F Y"),
                    "low": charts.percent(worst.rate),
                    "month": date_format(worst.month, "F Y"),
                }
            )
        else:
            described.append(_("%(series)s: nothing was due in this period.") % {"series": line.label})
    description = " ".join(described) + " " + _("The table below the chart gives every value.")
    svg = charts.line_chart(chart_id=chart_id, months=months, series=series, title=title, description=description)
    return Chart(svg=svg, months=months, series=series, title=title, description=description)


def _chart_rows(chart: Chart) -> list[dict]:
    """The chart's data table: one row per month, one group of cells per series."""
    rows = []
    for index, month in enumerate(chart.months):
        cells = []
        for line in chart.series:
            point = line.points[index]
            cells.append(
                {
                    "due": point.due if point else 0,
                    "on_time": point.on_time if point else 0,
                    "rate": format_rate(point.rate) if point else "",
                }
            )
        rows.append({"month": month, "cells": cells})
    return rows


def period_presets(selection: Selection, base_url: str, today: date) -> list[dict]:
    """Links to the last 12 months and the last calendar years, keeping the other choices."""
    presets = [
        {
            "label": _("Last 12 months"),
            "url": base_url + selection.query(year=None, **{"from": None, "to": None}),
            "current": selection.period.is_last_12_months and not selection.custom,
        }
    ]
    for year in _year_presets(today):
        presets.append(
            {
                "label": str(year),
                "url": base_url + selection.query(year=year, **{"from": None, "to": None}),
                "current": selection.period.year == year,
            }
        )
    return presets


def _incb_only(user):
    if not (user.is_active and user.is_incb):
        raise Http404


def _today() -> date:
    return timezone.now().date()


def _exporting_choices():
    # Countries with a competent authority on the portal: the only ones that can export.
    return Country.objects.filter(authorities__kind=AuthorityKind.NATIONAL).distinct().order_by("name")


def _refuse_unknown_countries(params, selection: Selection, exporting_choices) -> None:
    """A country filter that names no country ("Netherlands" typed into the address, an
    old bookmark) is said and dropped, never applied as an empty or wrong filter."""
    given = params.get("exporting", "").strip()
    if given and selection.exporting not in {country.code for country in exporting_choices}:
        selection.errors.append(
            _("There is no exporting country “%(value)s”: choose one from the list. Showing every exporting country.")
            % {"value": given[:40]}
        )
        selection.exporting = ""
    given = params.get("country", "").strip()
    if given and not selection.country:
        selection.errors.append(_("There is no country “%(value)s”: choose one from the list.") % {"value": given[:40]})


def _year_presets(today: date) -> list[int]:
    return [today.year - offset for offset in range(PRESET_YEARS)]


def _figures(selection: Selection, today: date, **filters) -> list[stats.CountryFigures]:
    return stats.timeliness(period_from=selection.period.start, period_to=selection.period.end, today=today, **filters)


# --- INCB: the review, a country, the exports -------------------------------------------


@login_required
@require_GET
def review(request):
    _incb_only(request.user)
    today = _today()
    selection = read_selection(request.GET, today)
    period = selection.period
    exporting_choices = list(_exporting_choices())
    _refuse_unknown_countries(request.GET, selection, exporting_choices)
    exporting = selection.exporting or None
    rows = sort_rows(_figures(selection, today, exporting_country=exporting), selection.sort, selection.direction)
    months = stats.months_in(period.start, period.end)
    monthly = stats.monthly_on_time_by_country(
        period_from=period.start, period_to=period.end, today=today, exporting_country=exporting
    )
    # The system's line and the compared country's come from the same grouped query.
    system = stats.all_countries(monthly)
    series = [charts.Series(label=_("All countries"), points=charts.align(months, system))]
    overlay = None
    if selection.country:
        overlay = Country.objects.filter(code=selection.country).first()
        if overlay is None:
            selection.errors.append(_("There is no country %(code)s.") % {"code": selection.country})
            selection.country = ""
        else:
            points = monthly.get(overlay.code, [])
            series.append(charts.Series(label=overlay.name, points=charts.align(months, points), secondary=True))
    chart = on_time_chart(
        chart_id="chart-system",
        months=months,
        series=series,
        title=_("On-time rate by month of the reply-due date"),
    )

    def link(code):
        return reverse("timeliness:country", args=[code]) + selection.period_query()

    base = reverse("timeliness:review")
    return render(
        request,
        "timeliness/review.html",
        {
            "selection": selection,
            "rows": table_rows(rows, months, monthly, link=link),
            "figures": rows,
            "summary": summary(rows),
            "headings": headings(selection, base),
            "chart": chart,
            "chart_rows": _chart_rows(chart),
            "overlay": overlay,
            "exporting_choices": exporting_choices,
            "exporting_country": next((c for c in exporting_choices if c.code == selection.exporting), None),
            "compare_choices": [(row.country, row.country_name) for row in sorted(rows, key=lambda r: r.country_name)],
            "presets": period_presets(selection, base, today),
            "export_query": selection.query(country=None),
            "definitions": stats.DEFINITIONS,
            "base_url": base,
            "today": today,
        },
    )


@login_required
@require_GET
def country(request, code):
    _incb_only(request.user)
    today = _today()
    country = get_object_or_404(Country, code=code.upper())
    selection = read_selection(request.GET, today)
    selection.exporting = selection.country = ""
    period = selection.period
    base = reverse("timeliness:country", args=[country.code])
    figures = next(iter(_figures(selection, today, importing_countries=[country.code])), None)
    months = stats.months_in(period.start, period.end)
    monthly = stats.monthly_on_time_by_country(period_from=period.start, period_to=period.end, today=today)
    own, system = monthly.get(country.code, []), stats.all_countries(monthly)
    chart = on_time_chart(
        chart_id="chart-country",
        months=months,
        series=[
            charts.Series(label=_("All countries"), points=charts.align(months, system)),
            charts.Series(label=country.name, points=charts.align(months, own), secondary=True),
        ],
        title=_("%(country)s: on-time rate by month of the reply-due date") % {"country": country.name},
    )
    by_year = []
    for year in _year_presets(today):
        year_period = stats.calendar_year(year)
        year_figures = stats.timeliness(
            period_from=year_period.start, period_to=year_period.end, today=today, importing_countries=[country.code]
        )
        year_row = next(iter(year_figures), None)
        by_year.append(
            {
                "period": year_period,
                "figures": year_row,
                "cells": _cells(year_row)
                if year_row
                else [Cell(key=key, text="") for key in SORTS if key != "country"],
                "url": reverse("timeliness:country", args=[country.code]) + f"?year={year}",
            }
        )
    overdue = list(
        access.follow_up_queue(request.user, today=today)
        .filter(importing_country_id=country.code)
        .select_related("exporting_authority", "exporting_country")
        .order_by("reply_due", "pk")
    )
    for notification in overdue:
        notification.days_overdue = (today - notification.reply_due).days
    follow_ups = (
        FollowUp.objects.filter(
            notification__in=access.visible_notifications(request.user),
            notification__importing_country_id=country.code,
        )
        .select_related("notification", "user")
        .order_by("-at", "-pk")
    )
    return render(
        request,
        "timeliness/country.html",
        {
            "country": country,
            "selection": selection,
            "figures": figures,
            "chart": chart,
            "chart_rows": _chart_rows(chart),
            "by_year": by_year,
            "focal_point": Authority.objects.filter(country=country, is_focal_point=True).first(),
            "overdue": overdue,
            "follow_ups": follow_ups,
            "definitions": stats.DEFINITIONS,
            "figure_cells": cells_by_key(figures),
            "year_headings": [short for key, (_label, short, _first) in SORTS.items() if key != "country"],
            "presets": period_presets(selection, base, today),
            "base_url": base,
            "review_url": reverse("timeliness:review") + selection.period_query(),
            # The same period, by dispatch date there.
            "reconciliation_url": reverse("timeliness:reconciliation")
            + selection.query(exporting=None, sort=None, dir=None, country=None, importing=country.code),
            "today": today,
        },
    )


def _export_rows(request):
    _incb_only(request.user)
    today = _today()
    selection = read_selection(request.GET, today)
    rows = _figures(selection, today, exporting_country=selection.exporting or None)
    return selection, sort_rows(rows, selection.sort, selection.direction)


def _export_context(selection: Selection) -> exports.ExportContext:
    exporting = None
    if selection.exporting:
        exporting = Country.objects.filter(code=selection.exporting).values_list("name", flat=True).first()
    return exports.ExportContext(
        period_from=selection.period.start,
        period_to=selection.period.end,
        period_label=selection.label,
        exporting_country=selection.exporting,
        exporting_country_name=exporting or "",
        generated_at=timezone.now(),
    )


def _filename(selection: Selection, extension: str) -> str:
    suffix = f"-from-{selection.exporting}" if selection.exporting else ""
    return f"timeliness-{selection.period.start.isoformat()}-to-{selection.period.end.isoformat()}{suffix}.{extension}"


@login_required
@require_GET
def export_csv(request):
    selection, rows = _export_rows(request)
    response = HttpResponse(
        exports.to_csv(rows, _export_context(selection)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(selection, "csv")}"'
    return response


@login_required
@require_GET
def export_xlsx(request):
    selection, rows = _export_rows(request)
    response = HttpResponse(
        exports.to_xlsx(rows, _export_context(selection)),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(selection, "xlsx")}"'
    return response


# --- an authority's own record ----------------------------------------------------------


@login_required
@require_GET
def mine(request):
    user = request.user
    if user.is_active and user.is_incb:
        return redirect("timeliness:review")
    visible = stats.visible_countries(user)
    if not visible:
        raise Http404
    own_code = user.authority.country_id
    today = _today()
    selection = read_selection(request.GET, today)
    selection.exporting = selection.country = ""
    period = selection.period
    rows = _figures(selection, today, importing_countries=visible)
    own = next((row for row in rows if row.country == own_code), None)
    others = sort_rows([row for row in rows if row.country != own_code], selection.sort, selection.direction)
    months = stats.months_in(period.start, period.end)
    monthly = stats.monthly_on_time_by_country(
        period_from=period.start, period_to=period.end, today=today, importing_countries=visible
    )
    own_country = user.authority.country
    chart = on_time_chart(
        chart_id="chart-own",
        months=months,
        series=[charts.Series(label=own_country.name, points=charts.align(months, monthly.get(own_code, [])))],
        title=_("%(country)s: on-time rate by month of the reply-due date") % {"country": own_country.name},
    )
    base = reverse("timeliness:mine")
    return render(
        request,
        "timeliness/mine.html",
        {
            "selection": selection,
            "own_country": own_country,
            "own": own,
            "own_cells": cells_by_key(own),
            "figures": rows,
            "rows": table_rows(others, months, monthly),
            "headings": headings(selection, base),
            "chart": chart,
            "chart_rows": _chart_rows(chart),
            "presets": period_presets(selection, base, today),
            "definitions": stats.DEFINITIONS,
            "base_url": base,
            "today": today,
        },
    )


# --- beside a notification ---------------------------------------------------------------


@login_required
def country_signal(request, code):
    """The importing country's silence record, regime and focal point, for the filing form
    to show as soon as the exporter picks the country (aggregate figures, no notification)."""
    country = get_object_or_404(Country, code=code.upper())
    signal = stats.country_signal(country, today=timezone.now().date())
    return JsonResponse(
        {
            **signal.as_json(),
            "html": render_to_string("timeliness/_country_signal.html", {"signal": signal}, request=request),
        }
    )


# --- INCB: the reconciliation of shipments (issue 14) -------------------------------------


@dataclass
class ReconciliationSelection(Selection):
    """The review's period selection (by dispatch date here) and exporting-country filter,
    with the importing country and the substance."""

    importing: str = ""
    substance: str = ""

    def params(self, **overrides) -> dict:
        own = {"importing": self.importing, "substance": self.substance}
        for key in own:
            if key in overrides:
                own[key] = overrides.pop(key)
        values = super().params(**overrides)
        values.update({key: value for key, value in own.items() if value not in (None, "")})
        return values

    @property
    def label(self) -> str:
        return dispatch_period_label(self.period)

    def filters(self) -> dict:
        """The keyword arguments of timeliness.reconciliation's queries."""
        return {
            "period_from": self.period.start,
            "period_to": self.period.end,
            "importing_country": self.importing or None,
            "exporting_country": self.exporting or None,
            "substance": self.substance or None,
        }


def dispatch_period_label(period: stats.Period) -> str:
    start, end = for_people(period.start), for_people(period.end)
    if period.year is not None:
        return _("Calendar year %(year)d (dispatched 1 January to 31 December)") % {"year": period.year}
    if period.is_last_12_months:
        return _("The last 12 months (dispatched %(start)s to %(end)s)") % {"start": start, "end": end}
    return _("Dispatched %(start)s to %(end)s") % {"start": start, "end": end}


def _substance_code(value: str) -> str:
    value = (value or "").strip().lower()
    return value if value and len(value) <= 80 and all(c.isalnum() or c in "-_" for c in value) else ""


def read_reconciliation(request, today: date):
    """The selection, the filters' choices, and the filters that name nothing said and
    dropped (never applied as an empty or wrong filter)."""
    base = read_selection(request.GET, today)
    selection = ReconciliationSelection(
        period=base.period,
        exporting=base.exporting,
        errors=base.errors,
        custom=base.custom,
        importing=_country_code(request.GET.get("importing", "")),
        substance=_substance_code(request.GET.get("substance", "")),
    )
    countries = list(_exporting_choices())
    substances = list(Substance.objects.order_by("name").values_list("code", "name"))
    codes = {country.code for country in countries}
    _refuse_unknown_countries(request.GET, selection, countries)
    given = request.GET.get("importing", "").strip()
    if given and selection.importing not in codes:
        selection.errors.append(
            _("There is no importing country “%(value)s”: choose one from the list. Showing every importing country.")
            % {"value": given[:40]}
        )
        selection.importing = ""
    given = request.GET.get("substance", "").strip()
    if given and selection.substance not in {code for code, _name in substances}:
        selection.errors.append(
            _("There is no substance “%(value)s”: choose one from the list. Showing every substance.")
            % {"value": given[:40]}
        )
        selection.substance = ""
    return selection, countries, substances


@login_required
@require_GET
def reconciliation_page(request):
    _incb_only(request.user)  # every country's shipments: INCB's, and 404 as its other pages
    today = _today()
    selection, countries, substances = read_reconciliation(request, today)
    filters = selection.filters()
    rows = reconciliation.figures(**filters)
    counts = reconciliation.open_case_counts(**filters)
    cases = reconciliation.open_cases(**filters)
    shown = reconciliation.OPEN_CASES_SHOWN
    base = reverse("timeliness:reconciliation")
    by_code = {country.code: country for country in countries}
    return render(
        request,
        "timeliness/reconciliation.html",
        {
            "selection": selection,
            "rows": [{"row": row, "cells": reconciliation_cells(row)} for row in rows],
            "figures": rows,
            "headings": [(label, kind) for _a, label, kind in RECONCILIATION_SHOWN],
            "open_discrepancies": counts[RiskKind.QUANTITY_DISCREPANCY],
            "arrivals_unconfirmed": counts[RiskKind.ARRIVAL_UNCONFIRMED],
            "cases": cases[:shown],
            "more_cases": len(cases) > shown,
            "cases_shown": shown,
            "exporting_choices": countries,
            "importing_choices": countries,
            "substance_choices": substances,
            "importing_country": by_code.get(selection.importing),
            "exporting_country": by_code.get(selection.exporting),
            "substance_name": dict(substances).get(selection.substance, ""),
            "presets": period_presets(selection, base, today),
            "export_query": selection.query(),
            "definitions": reconciliation.DEFINITIONS,
            "base_url": base,
            "review_url": reverse("timeliness:review") + selection.period_query(),
            "today": today,
        },
    )


# The page shows the names (the codes are the CSV's, for machines).
RECONCILIATION_SHOWN = [column for column in reconciliation.COLUMNS if column[0] not in ("country", "substance")]


def reconciliation_cells(row: reconciliation.Row) -> list[Cell]:
    """The page's cells of a row, as the CSV writes them; the tone repeats what the numbers
    say (an open discrepancy, an arrival unconfirmed), never replaces it."""
    tones = {
        "difference": "bad" if row.open_discrepancies else "",
        "open_discrepancies": "bad" if row.open_discrepancies else "",
        "arrival_unconfirmed": "fair" if row.arrival_unconfirmed else "",
    }
    return [
        Cell(key=attribute, text=exports.reconciliation_cell(row, attribute, kind), tone=tones.get(attribute, ""))
        for attribute, _label, kind in RECONCILIATION_SHOWN
    ]


@login_required
@require_GET
def reconciliation_csv(request):
    _incb_only(request.user)  # every country's shipments: INCB's, and 404 as its other pages
    selection, countries, substances = read_reconciliation(request, _today())
    rows = reconciliation.figures(**selection.filters())
    names = {country.code: country.name for country in countries}

    def named(code, name):
        return f"{name} ({code})" if code else ""

    context = exports.ReconciliationContext(
        period_from=selection.period.start,
        period_to=selection.period.end,
        period_label=selection.label,
        generated_at=timezone.now(),
        importing_country=named(selection.importing, names.get(selection.importing, "")),
        substance=named(selection.substance, dict(substances).get(selection.substance, "")),
        exporting_country=named(selection.exporting, names.get(selection.exporting, "")),
    )
    parts = [
        f"from-{selection.exporting}" if selection.exporting else "",
        f"to-{selection.importing}" if selection.importing else "",
        selection.substance,
    ]
    suffix = "".join(f"-{part}" for part in parts if part)
    filename = f"reconciliation-{selection.period.start.isoformat()}-to-{selection.period.end.isoformat()}{suffix}.csv"
    response = HttpResponse(exports.reconciliation_csv(rows, context), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
