"""Working days of a country: Monday to Friday, less its national public holidays (the
maintained ``holidays`` package, national and public only: no subdivision, no optional or
bank holidays) and less the closures its authorities declared on the portal.

Pure date arithmetic, no database: the caller reads a country's closures (one query,
``authorities.models``) and gives them to ``WorkingCalendar``. The package's holidays never
change within a run, so they are cached per (country, year, language) in the process.

A country the package does not cover falls back to weekends only (``covered`` is False),
and whoever shows a date computed so says it."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType

import holidays
from django.conf import settings
from django.utils.formats import date_format
from django.utils.text import get_text_list
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

HOLIDAY = "holiday"
CLOSURE = "closure"
SATURDAY = 5

# No working-day period comes near this; the bound stops a loop on a calendar that
# (by a mistake in the data) would have no working day at all.
MAX_DAYS_SEARCHED = 3 * 366


@dataclass(frozen=True)
class DayOff:
    """A weekday that is not a working day: a public holiday or a declared closure."""

    day: date
    name: str
    kind: str  # HOLIDAY or CLOSURE

    @property
    def is_holiday(self) -> bool:
        return self.kind == HOLIDAY


@dataclass(frozen=True)
class ReplyDue:
    """The earliest reply-due date of a notification submitted on ``submitted_on`` and why:
    the weekdays the count skipped because they were public holidays or closures
    (``skipped``; weekends are not listed), and whether the holiday calendar covers the
    country (``covered``; if not, only weekends were skipped)."""

    submitted_on: date
    due: date
    days: int
    working: bool
    covered: bool
    skipped: tuple[DayOff, ...] = ()

    @property
    def holidays(self) -> tuple[DayOff, ...]:
        return tuple(day for day in self.skipped if day.kind == HOLIDAY)

    @property
    def closures(self) -> tuple[DayOff, ...]:
        return tuple(day for day in self.skipped if day.kind == CLOSURE)

    def reasons(self, country_name: str) -> str:
        """Why the date is what it is, in a sentence without its full stop: "25 December
        (Christmas Day) and 1 January (New Year's Day) are public holidays in Ghana". Empty
        for a calendar-day period, which no holiday moves."""
        if not self.working:
            return ""
        if not self.covered:
            return _("only weekends are skipped: the holiday calendar does not cover %(country)s") % {
                "country": country_name
            }
        parts = []
        if self.holidays:
            parts.append(
                ngettext(
                    "%(days)s is a public holiday in %(country)s",
                    "%(days)s are public holidays in %(country)s",
                    len(self.holidays),
                )
                % {"days": _days_in_words(self.holidays), "country": country_name}
            )
        if self.closures:
            parts.append(
                ngettext(
                    "%(days)s is a closure declared for %(country)s",
                    "%(days)s are closures declared for %(country)s",
                    len(self.closures),
                )
                % {"days": _days_in_words(self.closures), "country": country_name}
            )
        if not parts:
            return _("no public holiday of %(country)s or declared closure falls in that time") % {
                "country": country_name
            }
        return "; ".join(parts)


def _days_in_words(days: Iterable[DayOff]) -> str:
    return get_text_list(
        [_("%(day)s (%(name)s)") % {"day": date_format(d.day, "MONTH_DAY_FORMAT"), "name": d.name} for d in days],
        _("and"),
    )


@lru_cache(maxsize=1)
def supported_countries() -> frozenset[str]:
    return frozenset(holidays.list_supported_countries())


def is_covered(code: str) -> bool:
    """Whether the holiday calendar knows the country's public holidays."""
    return code.upper() in supported_countries()


@lru_cache(maxsize=512)
def _package_language(code: str, language: str) -> str | None:
    """The package's language for the page's (``en`` -> ``en_US``), else for the portal's
    default; else the country's own (its holidays' names as the package writes them
    originally). Always explicit: left to itself, the package follows the server's locale."""
    calendar = holidays.country_holidays(code)
    supported = calendar.supported_languages
    for wanted in (language, settings.LANGUAGE_CODE):
        wanted = wanted.replace("-", "_").lower()
        for candidate in supported:
            if candidate.lower() == wanted:
                return candidate
        for candidate in supported:
            if candidate.split("_")[0].lower() == wanted.split("_")[0]:
                return candidate
    return calendar.default_language


@lru_cache(maxsize=4096)
def _national_holidays(code: str, year: int, language: str | None) -> Mapping[date, str]:
    # Public holidays only (the package's default category), national (no subdivision),
    # with the days off the law moves a holiday to when it falls on a weekend ("observed").
    calendar = holidays.country_holidays(code, years=year, language=language)
    return MappingProxyType(dict(calendar.items()))


def public_holidays(code: str, year: int) -> Mapping[date, str]:
    """The national public holidays of ``code`` in ``year`` (date -> name, in the page's
    language where the package has it); empty for a country it does not cover."""
    code = code.upper()
    if not is_covered(code):
        return MappingProxyType({})
    return _national_holidays(code, year, _package_language(code, get_language() or "en"))


def weekday_holidays(code: str, years: Iterable[int]) -> list[DayOff]:
    """The public holidays of those years that fall on a weekday (the ones that move a
    working-day count), in date order."""
    return [
        DayOff(day, name, HOLIDAY)
        for year in years
        for day, name in sorted(public_holidays(code, year).items())
        if day.weekday() < SATURDAY
    ]


class WorkingCalendar:
    """The working days of one country: Monday to Friday, less its public holidays and the
    ``closures`` (date -> reason) declared for it."""

    def __init__(self, code: str, closures: Mapping[date, str] | None = None):
        self.code = code.upper()
        self.covered = is_covered(self.code)
        self.closures = dict(closures or {})
        self._years: dict[int, Mapping[date, str]] = {}

    def day_off(self, day: date) -> DayOff | None:
        """Why a weekday is not a working day (None: it is one, or it is a weekend)."""
        if day.weekday() >= SATURDAY:
            return None
        year_holidays = self._years.get(day.year)
        if year_holidays is None:
            year_holidays = self._years[day.year] = public_holidays(self.code, day.year)
        name = year_holidays.get(day)
        if name is not None:
            return DayOff(day, name, HOLIDAY)
        reason = self.closures.get(day)
        if reason is not None:
            return DayOff(day, reason, CLOSURE)
        return None

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < SATURDAY and self.day_off(day) is None

    def add_working_days(self, start: date, days: int) -> ReplyDue:
        """``days`` working days after ``start`` (``start`` itself never counts)."""
        current, remaining, skipped = start, days, []
        limit = start + timedelta(days=days + MAX_DAYS_SEARCHED)
        while remaining > 0:
            current += timedelta(days=1)
            if current > limit:
                raise ValueError(f"{self.code}: no working day within {MAX_DAYS_SEARCHED} days of {start}")
            if current.weekday() >= SATURDAY:
                continue
            off = self.day_off(current)
            if off is None:
                remaining -= 1
            else:
                skipped.append(off)
        return ReplyDue(
            submitted_on=start, due=current, days=days, working=True, covered=self.covered, skipped=tuple(skipped)
        )

    def add_calendar_days(self, start: date, days: int) -> ReplyDue:
        """Calendar days: weekends, holidays and closures all count."""
        return ReplyDue(
            submitted_on=start, due=start + timedelta(days=days), days=days, working=False, covered=self.covered
        )
