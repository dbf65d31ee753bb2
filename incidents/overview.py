"""INCB's overview of incidents: counts by month, substance and kind over a period, for
the page (a server-rendered SVG bar chart and tables) and its CSV export. One definition
here, so that the page and the file always agree."""

from collections import Counter
from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .models import IncidentKind, IncidentSubstance


@dataclass
class Overview:
    months: list[tuple[str, Counter]]  # ("2026-11", kind -> count), oldest first
    substances: list[tuple[str, Counter]]  # (substance name, kind -> count), most first
    kinds: list[tuple[str, str]]  # (value, label) in the contract's order
    total: int

    def _table(self, rows):
        return [(key, [counts[value] for value, _label in self.kinds], sum(counts.values())) for key, counts in rows]

    @property
    def month_rows(self):
        return self._table(self.months)

    @property
    def substance_rows(self):
        return self._table(self.substances)

    def csv_rows(self):
        yield ["section", "key", *[value for value, _label in self.kinds], "total"]
        for section, rows in (("month", self.months), ("substance", self.substances)):
            for key, counts in rows:
                yield [section, key, *[counts[value] for value, _label in self.kinds], sum(counts.values())]

    def svg(self) -> SafeString:
        """Incidents per month, one bar each (attributes, no inline style: the CSP)."""
        height, bar, gap, top = 120, 28, 8, 14
        peak = max((sum(c.values()) for _m, c in self.months), default=0) or 1
        bars = format_html_join(
            "",
            '<g><rect x="{}" y="{}" width="{}" height="{}" class="chart-bar"></rect>'
            '<text x="{}" y="{}" class="chart-label">{}</text><text x="{}" y="{}" class="chart-label">{}</text></g>',
            (
                (
                    i * (bar + gap),
                    top + height - round(height * sum(c.values()) / peak),
                    bar,
                    round(height * sum(c.values()) / peak),
                    i * (bar + gap),
                    top + height + 14,
                    month[5:],
                    i * (bar + gap),
                    top + height - round(height * sum(c.values()) / peak) - 4,
                    sum(c.values()),
                )
                for i, (month, c) in enumerate(self.months)
            ),
        )
        width = max(1, len(self.months)) * (bar + gap)
        return format_html(
            '<svg role="img" aria-labelledby="chart-title" viewBox="0 0 {} {}" class="chart" '
            'preserveAspectRatio="xMinYMin meet"><title id="chart-title">{}</title>{}</svg>',
            width,
            top + height + 20,
            "Incidents per month",
            bars,
        )


def _months(start: date, end: date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def overview(incidents: QuerySet, *, start: date, end: date) -> Overview:
    rows = list(incidents.filter(occurred_on__gte=start, occurred_on__lte=end).values_list("pk", "occurred_on", "kind"))
    by_month = {month: Counter() for month in _months(start, end)}
    kind_of = {}
    for pk, occurred_on, kind in rows:
        by_month[f"{occurred_on:%Y-%m}"][kind] += 1
        kind_of[pk] = kind
    by_substance: dict[str, Counter] = {}
    for incident_id, name, chemical in IncidentSubstance.objects.filter(incident_id__in=list(kind_of)).values_list(
        "incident_id", "substance__name", "chemical_name"
    ):
        by_substance.setdefault(name or chemical, Counter())[kind_of[incident_id]] += 1
    return Overview(
        months=list(by_month.items()),
        substances=sorted(by_substance.items(), key=lambda item: (-sum(item[1].values()), item[0])),
        kinds=list(IncidentKind.choices),
        total=len(rows),
    )
