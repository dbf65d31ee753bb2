"""Issue 14, "Working days are national": a reply period in working days skips the importing
country's public holidays (the `holidays` package) and the closures declared for it, and
the filing page says which. Every expected date here is counted by hand, day by day, in the
comments: never by calling the code under test."""

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from authorities import working_days
from authorities.models import Country, PeriodKind, working_calendars
from authorities.services import declare_closure, update_country_policy
from authorities.working_days import CLOSURE, HOLIDAY, DayOff, WorkingCalendar
from notifications.forms import NotificationForm
from tests.factories import file

# Friday 18 December 2026: a filing just before the year-end holidays.
YEAR_END = date(2026, 12, 18)
DECLARED_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def working(country_code, days=15):
    country = Country.objects.get(code=country_code)
    update_country_policy(country=country, reply_period_days=days, reply_period_kind=PeriodKind.WORKING)
    return country


def dated(skipped):
    return [(day.day, day.kind) for day in skipped]


# --- What the package says (the facts the hand counts below rely on) ---------------------


def test_the_package_gives_the_national_public_holidays_the_counts_rely_on():
    ghana_2026, ghana_2027 = working_days.public_holidays("GH", 2026), working_days.public_holidays("GH", 2027)
    assert ghana_2026[date(2026, 12, 25)] == "Christmas Day"  # a Friday
    assert ghana_2026[date(2026, 12, 26)] == "Boxing Day"  # a Saturday: no day off moved to Monday 28
    assert date(2026, 12, 28) not in ghana_2026
    assert ghana_2027[date(2027, 1, 1)] == "New Year's Day"  # a Friday
    assert ghana_2027[date(2027, 1, 7)] == "Constitution Day"  # a Thursday
    assert ghana_2027[date(2027, 3, 26)] == "Good Friday"
    assert ghana_2027[date(2027, 3, 29)] == "Easter Monday"

    germany_2027 = working_days.public_holidays("DE", 2027)
    assert germany_2027[date(2027, 3, 26)] == "Good Friday"  # in English on an English page
    assert germany_2027[date(2027, 3, 29)] == "Easter Monday"
    assert date(2027, 1, 6) not in germany_2027  # Epiphany is regional (three Länder): not national

    # Mexico: Holy Thursday and Good Friday are not statutory rest days (Ley Federal del
    # Trabajo, art. 74), and the package lists neither; its year-end has 25 December and 1 January.
    mexico_2027 = working_days.public_holidays("MX", 2027)
    assert date(2027, 3, 25) not in mexico_2027 and date(2027, 3, 26) not in mexico_2027
    assert working_days.public_holidays("MX", 2026)[date(2026, 12, 25)] == "Christmas Day"
    assert mexico_2027[date(2027, 1, 1)] == "New Year's Day"


# --- The arithmetic on real calendars ----------------------------------------------------


def test_ghana_year_end_skips_christmas_new_year_and_constitution_day():
    result = WorkingCalendar("GH").add_working_days(YEAR_END, 15)
    # From Friday 18 December 2026 (not counted):
    #   Mon 21 .. Thu 24 Dec = 1-4; Fri 25 Dec Christmas Day (skipped); Sat 26 (Boxing Day) and Sun 27: weekend
    #   Mon 28 .. Thu 31 Dec = 5-8; Fri 1 Jan New Year's Day (skipped)
    #   Mon 4, Tue 5, Wed 6 Jan = 9-11; Thu 7 Jan Constitution Day (skipped); Fri 8 Jan = 12
    #   Mon 11, Tue 12, Wed 13 Jan = 13-15.
    assert result.due == date(2027, 1, 13)
    assert dated(result.skipped) == [
        (date(2026, 12, 25), HOLIDAY),
        (date(2027, 1, 1), HOLIDAY),
        (date(2027, 1, 7), HOLIDAY),
    ]
    assert [day.name for day in result.skipped] == ["Christmas Day", "New Year's Day", "Constitution Day"]
    assert result.covered and result.working


def test_germany_and_mexico_year_end_skip_christmas_and_new_year():
    # From Friday 18 December 2026: Mon 21 .. Thu 24 = 1-4; Fri 25 Christmas (skipped);
    # Mon 28 .. Thu 31 = 5-8; Fri 1 Jan New Year (skipped); Mon 4 .. Fri 8 = 9-13;
    # Mon 11 = 14, Tue 12 January 2027 = 15. (Germany's 26 December is a Saturday.)
    for code in ("DE", "MX"):
        result = WorkingCalendar(code).add_working_days(YEAR_END, 15)
        assert result.due == date(2027, 1, 12), code
        assert dated(result.skipped) == [(date(2026, 12, 25), HOLIDAY), (date(2027, 1, 1), HOLIDAY)], code


def test_easter_2027_in_germany_and_ghana_but_not_in_mexico():
    submitted = date(2027, 3, 24)  # a Wednesday
    # Germany and Ghana: Thu 25 March = 1; Fri 26 Good Friday and Mon 29 Easter Monday skipped;
    # Tue 30 = 2, Wed 31 = 3, Thu 1 April = 4, Fri 2 April = 5.
    for code in ("DE", "GH"):
        result = WorkingCalendar(code).add_working_days(submitted, 5)
        assert result.due == date(2027, 4, 2), code
        assert dated(result.skipped) == [(date(2027, 3, 26), HOLIDAY), (date(2027, 3, 29), HOLIDAY)], code
        assert [day.name for day in result.skipped] == ["Good Friday", "Easter Monday"]
    # Mexico works through Holy Week: Thu 25 = 1, Fri 26 = 2, Mon 29 = 3, Tue 30 = 4, Wed 31 March = 5.
    mexico = WorkingCalendar("MX").add_working_days(submitted, 5)
    assert mexico.due == date(2027, 3, 31)
    assert mexico.skipped == ()


def test_a_declared_closure_is_skipped_like_a_holiday():
    calendar = WorkingCalendar("GH", {date(2027, 1, 4): "Office move"})
    result = calendar.add_working_days(YEAR_END, 15)
    # As Ghana's year end above, with Monday 4 January skipped too: Tue 5 = 9, Wed 6 = 10,
    # (Thu 7 Constitution Day), Fri 8 = 11, Mon 11 = 12, Tue 12 = 13, Wed 13 = 14, Thu 14 January = 15.
    assert result.due == date(2027, 1, 14)
    assert DayOff(date(2027, 1, 4), "Office move", CLOSURE) in result.skipped
    assert [day.day for day in result.closures] == [date(2027, 1, 4)]
    assert len(result.holidays) == 3


def test_a_country_the_calendar_does_not_cover_falls_back_to_weekends(monkeypatch):
    # holidays 0.109 covers every ISO 3166-1 country the portal loads, so the fallback is
    # shown with the package not knowing Ghana.
    monkeypatch.setattr(working_days, "supported_countries", lambda: frozenset({"DE", "MX"}))
    result = WorkingCalendar("GH").add_working_days(YEAR_END, 15)
    # Weekends only: Mon 21 .. Fri 25 Dec = 1-5; Mon 28 .. Fri 1 Jan = 6-10; Mon 4 .. Fri 8 January = 11-15.
    assert result.due == date(2027, 1, 8)
    assert not result.covered and result.skipped == ()
    assert result.reasons("Ghana") == "only weekends are skipped: the holiday calendar does not cover Ghana"
    assert working_days.public_holidays("GH", 2026) == {}


def test_the_reasons_name_the_days_and_say_which_are_closures():
    result = WorkingCalendar("GH", {date(2027, 1, 4): "Office move"}).add_working_days(YEAR_END, 15)
    assert result.reasons("Ghana") == (
        "25 December (Christmas Day), 1 January (New Year's Day) and 7 January (Constitution Day) are public "
        "holidays in Ghana; 4 January (Office move) is a closure declared for Ghana"
    )
    quiet = WorkingCalendar("GH").add_working_days(date(2027, 2, 1), 5)  # Mon 1 .. Mon 8 February: no holiday
    assert quiet.due == date(2027, 2, 8)
    assert quiet.reasons("Ghana") == "no public holiday of Ghana or declared closure falls in that time"


def test_holiday_names_follow_the_page_not_the_servers_locale(monkeypatch):
    from django.utils import translation

    monkeypatch.setenv("LANG", "de_DE.UTF-8")
    monkeypatch.setenv("LC_ALL", "de_DE.UTF-8")
    working_days._national_holidays.cache_clear()
    assert working_days.public_holidays("DE", 2026)[date(2026, 12, 25)] == "Christmas Day"
    with translation.override("fr"):
        assert working_days.public_holidays("FR", 2026)[date(2026, 12, 25)] == "Noël"
    working_days._national_holidays.cache_clear()


def test_the_package_is_asked_once_per_country_and_year(monkeypatch):
    calls = []
    real = working_days.holidays.country_holidays

    def counting(code, **kwargs):
        calls.append((code, kwargs.get("years")))
        return real(code, **kwargs)

    working_days._national_holidays.cache_clear()
    monkeypatch.setattr(working_days.holidays, "country_holidays", counting)
    for day in range(1, 29):
        WorkingCalendar("GH").add_working_days(date(2027, 2, day), 10)
    assert sorted(set(calls)) == sorted(calls)  # never twice for one (country, year)
    assert {year for _code, year in calls if year} == {2027}
    working_days._national_holidays.cache_clear()


# --- Through the models: the country's declared period and its closures -----------------


@pytest.mark.django_db
def test_calendar_day_periods_are_not_moved_by_holidays_or_closures(cast):
    ghana = cast.importer.country  # the default: 15 calendar days
    declare_closure(actor=cast.incb_reviewer, country=ghana, day=date(2026, 12, 29), reason="Audit", now=DECLARED_AT)
    # 18 December + 15 days = Saturday 2 January 2027, holidays, weekend and closure included.
    assert ghana.earliest_reply_due(YEAR_END) == date(2027, 1, 2)
    result = ghana.reply_due_from(YEAR_END)
    assert not result.working and result.skipped == () and result.reasons("Ghana") == ""


@pytest.mark.django_db
def test_earliest_reply_due_counts_the_declared_closures(cast):
    ghana = working("GH")
    assert ghana.earliest_reply_due(YEAR_END) == date(2027, 1, 13)  # Ghana's year end, counted above
    declare_closure(
        actor=cast.importer_admin, country=ghana, day=date(2027, 1, 4), reason="Office move", now=DECLARED_AT
    )
    assert ghana.earliest_reply_due(YEAR_END) == date(2027, 1, 14)  # with Monday 4 January skipped, as above
    # A closure on the day of submission does not count: counting starts the day after.
    # From Monday 4 January 2027: Tue 5, Wed 6 = 1-2; Thu 7 Constitution Day (skipped); Fri 8 = 3;
    # Mon 11 .. Fri 15 = 4-8; Mon 18 .. Fri 22 = 9-13; Mon 25 = 14, Tue 26 January = 15.
    later = ghana.reply_due_from(date(2027, 1, 4))
    assert later.due == date(2027, 1, 26)
    assert dated(later.skipped) == [(date(2027, 1, 7), HOLIDAY)]


@pytest.mark.django_db
def test_a_notification_sent_to_a_working_day_country_is_due_after_its_holidays(cast):
    working("GH")
    notification = file(cast, now=datetime(2026, 12, 18, 10, 0, tzinfo=UTC))
    assert notification.reply_due == date(2027, 1, 13)  # Ghana's year end, counted above


@pytest.mark.django_db
def test_working_calendars_read_the_closures_of_many_countries_in_one_query(cast):
    for code, day in (("GH", date(2027, 1, 4)), ("DE", date(2027, 1, 5)), ("GH", date(2027, 1, 5))):
        declare_closure(
            actor=cast.incb_reviewer, country=Country.objects.get(code=code), day=day, reason="x", now=DECLARED_AT
        )
    countries = list(Country.objects.filter(code__in=["GH", "DE", "MX"]))
    with CaptureQueriesContext(connection) as captured:
        calendars = working_calendars(countries, since=YEAR_END)
        dues = {code: calendar.add_working_days(YEAR_END, 15).due for code, calendar in calendars.items()}
    assert len(captured.captured_queries) == 1
    assert calendars["GH"].closures == {date(2027, 1, 4): "x", date(2027, 1, 5): "x"}
    assert calendars["MX"].closures == {}
    # Germany: 12 January as above, with Tuesday 5 January skipped -> Wednesday 13 January.
    assert dues["DE"] == date(2027, 1, 13)
    assert working_calendars(countries, since=date(2027, 1, 4))["GH"].closures == {date(2027, 1, 5): "x"}


# --- The filing page says the date and why -----------------------------------------------


@pytest.mark.django_db
def test_the_filing_form_gives_the_due_date_and_the_holidays_it_skips(cast):
    working("GH")
    hint = NotificationForm(today=YEAR_END).reply_periods["GH"]
    assert (
        "Ghana declares a reply period of 15 working days: sent today, the reply can be due 13 January 2027 at "
        "the earliest (25 December (Christmas Day), 1 January (New Year's Day) and 7 January (Constitution Day) "
        "are public holidays in Ghana)."
    ) in hint


@pytest.mark.django_db
def test_the_filing_form_names_a_declared_closure(cast):
    ghana = working("GH")
    declare_closure(
        actor=cast.incb_reviewer, country=ghana, day=date(2027, 1, 4), reason="Office move", now=DECLARED_AT
    )
    hint = NotificationForm(today=YEAR_END).reply_periods["GH"]
    assert "the reply can be due 14 January 2027 at the earliest" in hint
    assert "; 4 January (Office move) is a closure declared for Ghana)." in hint


@pytest.mark.django_db
def test_the_filing_form_says_when_only_weekends_are_skipped(cast, monkeypatch):
    working("GH")
    monkeypatch.setattr(working_days, "supported_countries", lambda: frozenset({"DE"}))
    hint = NotificationForm(today=YEAR_END).reply_periods["GH"]
    assert (
        "the reply can be due 8 January 2027 at the earliest (only weekends are skipped: the holiday calendar "
        "does not cover Ghana)."
    ) in hint


@pytest.mark.django_db
def test_a_calendar_day_hint_is_unchanged(cast):
    hint = NotificationForm(today=YEAR_END).reply_periods["GH"]
    assert hint.endswith(
        "Ghana declares a reply period of 15 calendar days: sent today, the reply can be due 2 January 2027 at "
        "the earliest."
    )


@pytest.mark.django_db
def test_the_filing_page_and_its_script_data_carry_the_explanation(client, cast):
    """The page is rendered for today (whatever day the suite runs): a closure declared on
    the first working day after today is within any 15-working-day period from today, so
    the hint of the page, and the one the script switches to, name it."""
    ghana = working("GH")
    client.force_login(cast.exporter_officer)
    today = datetime.now(UTC).date()
    calendar = WorkingCalendar("GH")
    day = next(d for d in (date.fromordinal(today.toordinal() + n) for n in range(1, 30)) if calendar.is_working_day(d))
    declare_closure(actor=cast.incb_reviewer, country=ghana, day=day, reason="Staff retreat", now=datetime.now(UTC))
    response = client.get(reverse("notifications:create"), {"importing_country": "GH"})
    html = response.content.decode()
    assert response.status_code == 200
    script_data = html[html.index('id="reply-periods"') :]
    assert "(Staff retreat) is a closure declared for Ghana" in script_data


@pytest.mark.django_db
def test_the_filing_page_queries_do_not_grow_with_the_closures(client, cast):
    working("GH")
    working("FR", days=10)
    client.force_login(cast.exporter_officer)
    path = reverse("notifications:create")
    client.get(path)  # warm: first-request lookups

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        return len(captured.captured_queries)

    before = count()
    today = datetime.now(UTC).date()
    for code in ("GH", "FR"):
        country = Country.objects.get(code=code)
        calendar = WorkingCalendar(code)
        days = [
            d for d in (date.fromordinal(today.toordinal() + n) for n in range(1, 60)) if calendar.is_working_day(d)
        ]
        for day in days[:6]:
            declare_closure(actor=cast.incb_reviewer, country=country, day=day, reason="Closed", now=datetime.now(UTC))
    assert count() == before
