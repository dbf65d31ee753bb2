"""Server-rendered SVG charts of the on-time rate: they need no JavaScript, print, and
carry a text alternative (``<title>``/``<desc>`` and an accessible name; the pages add a
visually hidden data table with every value).

Every piece of text that goes into the SVG is escaped here; the result is marked safe."""

from dataclasses import dataclass
from datetime import date

from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from .stats import MonthPoint

# The portal's brand blue and a dark orange: both above 4.5:1 on white, and told apart
# by shape too (solid line with circles, dashed line with squares), never by colour alone.
PRIMARY = "#0b3d66"
SECONDARY = "#b04a00"
GRID = "#d5dbe1"
AXIS = "#4a5360"
INK = "#1b1f24"


@dataclass
class Series:
    label: str
    # One value per month of the chart (None: nothing due that month: a gap in the line).
    points: list[MonthPoint | None]
    secondary: bool = False


def align(months: list[date], points: list[MonthPoint]) -> list[MonthPoint | None]:
    """The points of a monthly series on the chart's months (gaps as None)."""
    by_month = {point.month: point for point in points}
    return [by_month.get(month) for month in months]


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.0f}%"


def _month_label(month: date) -> str:
    return date_format(month, "M")


def _point_title(series_label: str, point: MonthPoint) -> str:
    return _("%(series)s, %(month)s: %(rate)s on time (%(on_time)d of %(due)d due)") % {
        "series": series_label,
        "month": date_format(point.month, "F Y"),
        "rate": percent(point.rate),
        "on_time": point.on_time,
        "due": point.due,
    }


def line_chart(*, chart_id: str, months: list[date], series: list[Series], title: str, description: str) -> SafeString:
    """A line chart of the monthly on-time rate (0 to 100 %) over ``months``."""
    width, height = 1000, 300
    left, right, top, bottom = 58, 20, 18, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    count = max(len(months), 1)
    step = plot_w / count

    def x(index: int) -> float:
        return left + step * (index + 0.5)

    def y(rate: float) -> float:
        return top + plot_h * (1 - rate)

    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="inherit">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
    ]
    # Horizontal grid and the y axis labels, every 25 %.
    for tick in (0, 0.25, 0.5, 0.75, 1):
        ty = y(tick)
        colour = AXIS if tick == 0 else GRID
        parts.append(
            f'<line x1="{left}" y1="{ty:.1f}" x2="{width - right}" y2="{ty:.1f}" stroke="{colour}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{left - 8}" y="{ty + 4:.1f}" text-anchor="end" font-size="13" fill="{AXIS}">'
            f"{tick * 100:.0f}%</text>"
        )
    parts.append(
        f'<text x="14" y="{top + plot_h / 2:.1f}" font-size="13" fill="{AXIS}" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.1f})">{escape(_("On time"))}</text>'
    )
    # Month labels, with the year under the first month and under every January. Up to
    # three years: every month or every second one; beyond, the first month and Januaries, so that the
    # labels never overlap.
    for index, month in enumerate(months):
        if count <= 18:
            shown = True
        elif count <= 36:
            shown = index % 2 == 0 or month.month == 1
        else:
            shown = index == 0 or month.month == 1
        if not shown:
            continue
        parts.append(
            f'<text x="{x(index):.1f}" y="{height - bottom + 18}" text-anchor="middle" font-size="13" '
            f'fill="{INK}">{escape(_month_label(month))}</text>'
        )
        if index == 0 or month.month == 1:
            parts.append(
                f'<text x="{x(index):.1f}" y="{height - bottom + 35}" text-anchor="middle" font-size="12" '
                f'fill="{AXIS}">{month.year}</text>'
            )
    # Smaller markers when the months are many, so that the lines stay readable.
    size = 4.5 if count <= 24 else 3
    for line in series:
        colour = SECONDARY if line.secondary else PRIMARY
        dash = ' stroke-dasharray="7 4"' if line.secondary else ""
        # Consecutive months with a value are joined; a month with nothing due breaks the line.
        segment: list[str] = []
        segments = []
        for index, point in enumerate(line.points):
            if point is None or point.rate is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{x(index):.1f},{y(point.rate):.1f}")
        if segment:
            segments.append(segment)
        for coordinates in segments:
            if len(coordinates) > 1:
                parts.append(
                    f'<polyline points="{" ".join(coordinates)}" fill="none" stroke="{colour}" '
                    f'stroke-width="2.5" stroke-linejoin="round"{dash}/>'
                )
        for index, point in enumerate(line.points):
            if point is None or point.rate is None:
                continue
            cx, cy = x(index), y(point.rate)
            tip = f"<title>{escape(_point_title(line.label, point))}</title>"
            if line.secondary:
                parts.append(
                    f'<rect x="{cx - size:.1f}" y="{cy - size:.1f}" width="{2 * size:.1f}" height="{2 * size:.1f}" '
                    f'fill="#fff" stroke="{colour}" stroke-width="2.5">{tip}</rect>'
                )
            else:
                parts.append(
                    f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{size:.1f}" fill="{colour}" stroke="#fff" '
                    f'stroke-width="1.5">{tip}</circle>'
                )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every interpolated text is escaped above


def sparkline(*, points: list[MonthPoint | None], label: str) -> SafeString:
    """A small trend line for a table row. Its accessible name summarises the trend in words."""
    width, height, pad = 100, 30, 4
    count = max(len(points), 1)
    known = [(index, point) for index, point in enumerate(points) if point is not None and point.rate is not None]
    if not known:
        return mark_safe(
            f'<span class="sparkline-empty" aria-label="{escape(label)}: {escape(_("nothing due"))}">—</span>'
        )

    def x(index: int) -> float:
        return pad + (width - 2 * pad) * (index / (count - 1) if count > 1 else 0.5)

    def y(rate: float) -> float:
        return pad + (height - 2 * pad) * (1 - rate)

    first, last = known[0][1], known[-1][1]
    lowest = min(point.rate for _index, point in known)
    summary = _("%(label)s: %(first)s in %(first_month)s, %(last)s in %(last_month)s, lowest %(lowest)s") % {
        "label": label,
        "first": percent(first.rate),
        "first_month": date_format(first.month, "F Y"),
        "last": percent(last.rate),
        "last_month": date_format(last.month, "F Y"),
        "lowest": percent(lowest),
    }
    parts = [
        f'<svg class="sparkline" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(summary)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(summary)}</title>",
        f'<line x1="{pad}" y1="{y(0):.1f}" x2="{width - pad}" y2="{y(0):.1f}" stroke="{GRID}" stroke-width="1"/>',
        f'<line x1="{pad}" y1="{y(1):.1f}" x2="{width - pad}" y2="{y(1):.1f}" stroke="{GRID}" stroke-width="1" '
        f'stroke-dasharray="2 3"/>',
    ]
    segment: list[str] = []
    for index, point in enumerate(points):
        if point is None or point.rate is None:
            if len(segment) > 1:
                parts.append(_spark_segment(segment))
            segment = []
            continue
        segment.append(f"{x(index):.1f},{y(point.rate):.1f}")
    if len(segment) > 1:
        parts.append(_spark_segment(segment))
    for index, point in known:
        parts.append(f'<circle cx="{x(index):.1f}" cy="{y(point.rate):.1f}" r="2" fill="{PRIMARY}"/>')
    last_index = known[-1][0]
    parts.append(
        f'<circle cx="{x(last_index):.1f}" cy="{y(last.rate):.1f}" r="3.2" fill="#fff" stroke="{PRIMARY}" '
        'stroke-width="1.8"/>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every interpolated text is escaped above


def _spark_segment(coordinates: list[str]) -> str:
    return (
        f'<polyline points="{" ".join(coordinates)}" fill="none" stroke="{PRIMARY}" stroke-width="1.8" '
        'stroke-linejoin="round"/>'
    )
