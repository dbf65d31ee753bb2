"""Issue 14: a country's working-day calendar on its page (public holidays, or that the
holiday calendar does not cover it) and the closures its authorities declare there. Who may
declare and withdraw one (INCB staff, an administrator of one of the country's authorities;
nobody else), every refusal of bad input with nothing stored, and the confirmation before a
closure is withdrawn. The authorities' routes each have a row here
(``test_every_authorities_route_has_a_row``), as the notification routes have in
tests/test_permission_matrix.py."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import get_resolver, reverse

from accounts.models import Role
from authorities import working_days
from authorities.models import Closure, Country, PeriodKind
from authorities.services import create_authority, declare_closure, update_country_policy, withdraw_closure
from authorities.working_days import WorkingCalendar
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def text(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def today() -> date:
    return datetime.now(UTC).date()


def days_after_today(condition, *, skip=0):
    """The ``skip``-th day after today (within a year) that satisfies ``condition``."""
    found = [d for d in (today() + timedelta(days=n) for n in range(1, 366)) if condition(d)]
    return found[skip]


def working_day(code="GH", skip=0):
    calendar = WorkingCalendar(code)
    return days_after_today(calendar.is_working_day, skip=skip)


def country_url(code="GH"):
    return reverse("authorities:country", args=[code])


def declare_url(code="GH"):
    return reverse("authorities:closure_declare", args=[code])


def withdraw_url(closure):
    return reverse("authorities:closure_withdraw", args=[closure.country_id, closure.pk])


def ghana():
    return Country.objects.get(code="GH")


def declared(cast, day=None, reason="Office move", code="GH"):
    return declare_closure(
        actor=cast.incb_reviewer,
        country=Country.objects.get(code=code),
        day=day or working_day(code),
        reason=reason,
        now=datetime.now(UTC),
    )


# --- The country page ------------------------------------------------------------------------


def test_the_country_page_lists_the_public_holidays_on_weekdays_of_this_year_and_next(client, cast):
    client.force_login(cast.exporter_officer)
    response = client.get(country_url())
    page = text(response)
    year = today().year
    assert f"Public holidays of Ghana on weekdays, {year} and {year + 1}" in page
    weekday_holidays = [
        (day, name)
        for y in (year, year + 1)
        for day, name in working_days.public_holidays("GH", y).items()
        if day.weekday() < 5
    ]
    assert len(response.context["holidays"]) == len(weekday_holidays) > 0
    html = response.content.decode()
    for day, _name in weekday_holidays:
        assert f'<time datetime="{day.isoformat()}">' in html
    for day, _name in working_days.public_holidays("GH", year).items():
        if day.weekday() >= 5:  # a holiday on a weekend moves nothing: not listed
            assert f'<time datetime="{day.isoformat()}">' not in html
    assert "Ghana counts its reply period in calendar days" in page  # the default policy
    assert "Declare a closure" not in page  # an officer may not


def test_the_policy_says_holidays_are_not_working_days(client, cast):
    update_country_policy(country=ghana(), reply_period_days=10, reply_period_kind=PeriodKind.WORKING)
    client.force_login(cast.exporter_officer)
    page = text(client.get(country_url()))
    assert "10 working days (Monday to Friday) after the notification is submitted." in page
    assert "The public holidays of Ghana and the closures declared for it are not working days." in page
    assert "counts its reply period in calendar days" not in page


def test_a_country_the_calendar_does_not_cover_says_only_weekends_are_skipped(client, cast, monkeypatch):
    monkeypatch.setattr(working_days, "supported_countries", lambda: frozenset({"DE"}))
    client.force_login(cast.exporter_officer)
    response = client.get(country_url())
    assert "The holiday calendar does not cover Ghana: only weekends are skipped" in text(response)
    assert response.context["holidays"] == []
    assert 'id="public-holidays"' not in response.content.decode()


def test_the_country_page_lists_the_declared_closures(client, cast):
    closure = declared(cast, reason="Move to the new building in Accra")
    client.force_login(cast.exporter_officer)
    response = client.get(country_url())
    page = text(response)
    assert "Move to the new building in Accra" in page
    assert "INCB secretariat" in page  # declared by
    assert "incb_reviewer" not in page  # the person's name only to those who manage closures
    assert f'<time datetime="{closure.date.isoformat()}">' in response.content.decode()
    assert withdraw_url(closure) not in response.content.decode()


def test_the_country_page_does_not_grow_with_its_closures(client, cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(cast.incb_reviewer)
    client.get(country_url())

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(country_url()).status_code == 200
        return len(captured.captured_queries)

    declared(cast)
    one = count()
    for skip in range(1, 6):
        declared(cast, day=working_day(skip=skip))
    assert count() == one


# --- Declaring a closure ------------------------------------------------------------------


@pytest.mark.parametrize("role", ["incb_reviewer", "incb_admin", "importer_admin"])
def test_incb_staff_and_the_countrys_administrator_declare_a_closure(client, cast, role):
    client.force_login(getattr(cast, role))
    day = working_day()
    assert "Declare a closure" in text(client.get(country_url()))

    response = client.post(declare_url(), {"date": day.isoformat(), "reason": "  Office move  "}, follow=True)

    assert response.redirect_chain[-1][0].startswith(country_url())
    closure = Closure.objects.get()
    assert (closure.country_id, closure.date, closure.reason) == ("GH", day, "Office move")
    assert closure.declared_by == getattr(cast, role)
    assert "reply periods in working days to Ghana skip it" in text(response)


def test_an_administrator_of_another_authority_of_the_country_may_too(client, cast):
    second, _created = create_authority(code="gh-nacoc", name="NACOC (GH)", email="n@x.example", country_code="GH")
    client.force_login(make_user("nacoc_admin", second, Role.ADMINISTRATOR))
    assert client.post(declare_url(), {"date": working_day().isoformat(), "reason": "Audit"}).status_code == 302
    assert Closure.objects.count() == 1


def _saturday(d):
    return d.weekday() == 5


def _weekday_holiday(d):
    return d.weekday() < 5 and d in working_days.public_holidays("GH", d.year)


BAD_INPUT = {
    "a date in the past": (lambda: {"date": (today() - timedelta(days=3)).isoformat()}, "date", "after today"),
    "today": (lambda: {"date": today().isoformat()}, "date", "after today"),
    "a weekend": (lambda: {"date": days_after_today(_saturday).isoformat()}, "date", "weekends are never"),
    "a public holiday": (
        lambda: {"date": days_after_today(_weekday_holiday).isoformat()},
        "date",
        "is already a public holiday in Ghana",
    ),
    "no date": (lambda: {"date": ""}, "date", "Enter the date the authorities are closed."),
    "not a date": (lambda: {"date": "2027-02-30"}, "date", "Enter a valid date."),
    "a date out of range": (lambda: {"date": "2150-01-05"}, "date", "Enter a date between"),
    "no reason": (lambda: {"reason": "   "}, "reason", "Say why the authorities are closed"),
    "a reason too long": (lambda: {"reason": "x" * 201}, "reason", "at most 200 characters"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_shown_beside_its_field_and_nothing_is_stored(client, cast, case):
    make, field, message = BAD_INPUT[case]
    client.force_login(cast.importer_admin)
    data = {"date": working_day().isoformat(), "reason": "Office move", **make()}

    response = client.post(declare_url(), data)

    assert response.status_code == 200
    form = response.context["closure_form"]
    assert set(form.errors) == {field}, form.errors
    assert message in " ".join(form.errors[field])
    html = response.content.decode()
    assert "There is a problem" in html and f'href="#id_{field}"' in html
    assert f'id="id_{field}_error"' in html and 'aria-invalid="true"' in html
    assert Closure.objects.count() == 0


def test_a_day_already_declared_is_refused(client, cast):
    closure = declared(cast)
    client.force_login(cast.importer_admin)
    response = client.post(declare_url(), {"date": closure.date.isoformat(), "reason": "Again"})
    assert response.status_code == 200
    assert "is already declared for Ghana" in response.context["closure_form"].errors["date"][0]
    assert list(Closure.objects.values_list("reason", flat=True)) == ["Office move"]


def test_the_service_refuses_what_the_page_refuses(cast):
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with pytest.raises(ValidationError) as error:
        declare_closure(actor=cast.incb_reviewer, country=ghana(), day=date(2026, 12, 25), reason="", now=now)
    assert set(error.value.message_dict) == {"date", "reason"}
    assert "(Christmas Day)" in error.value.message_dict["date"][0]
    with pytest.raises(PermissionDenied):
        declare_closure(actor=cast.importer_officer, country=ghana(), day=date(2026, 12, 28), reason="x", now=now)
    assert Closure.objects.count() == 0


# --- Withdrawing a closure ----------------------------------------------------------------


def test_withdrawing_a_future_closure_asks_first_then_makes_it_a_working_day_again(client, cast):
    closure = declared(cast)
    client.force_login(cast.importer_admin)
    page = text(client.get(country_url()))
    assert "Withdraw the closure on" in page  # the link's full name

    confirm = client.get(withdraw_url(closure))
    assert confirm.status_code == 200
    assert "Yes, withdraw the closure" in text(confirm)
    assert Closure.objects.count() == 1  # asking changes nothing

    response = client.post(withdraw_url(closure), follow=True)
    assert response.redirect_chain[-1][0].startswith(country_url())
    assert "it is a working day again" in text(response)
    assert Closure.objects.count() == 0


def test_a_closure_in_the_past_is_history(client, cast):
    past = Closure.objects.create(
        country=ghana(),
        date=today() - timedelta(days=1),
        reason="Heavy rain",
        declared_by=cast.incb_reviewer,
        declared_at=datetime.now(UTC) - timedelta(days=10),
    )
    client.force_login(cast.incb_reviewer)
    assert "Past: kept as history" in text(client.get(country_url()))
    for method in ("get", "post"):
        response = getattr(client, method)(withdraw_url(past), follow=True)
        assert "can no longer be withdrawn" in text(response)
    assert Closure.objects.filter(pk=past.pk).exists()
    with pytest.raises(ValidationError):
        withdraw_closure(actor=cast.incb_reviewer, closure=past, now=datetime.now(UTC))
    assert Closure.objects.filter(pk=past.pk).exists()


def test_a_closure_is_withdrawn_only_through_its_own_country(client, cast):
    closure = declared(cast)
    client.force_login(cast.incb_reviewer)
    other = reverse("authorities:closure_withdraw", args=["DE", closure.pk])
    assert client.get(other).status_code == 404
    assert client.post(other).status_code == 404
    assert client.get(reverse("authorities:closure_withdraw", args=["GH", closure.pk + 1000])).status_code == 404
    assert Closure.objects.count() == 1


# --- Who may: the authorities' routes, every principal ---------------------------------------

# principal -> may it declare and withdraw Ghana's closures?
PRINCIPALS = {
    "incb_reviewer": True,
    "incb_admin": True,
    "importer_admin": True,  # an administrator of Ghana's focal point
    "importer_officer": False,
    "importer_viewer": False,
    "exporter_admin": False,  # another country's administrator
    "outsider_admin": False,
    "exporter_officer": False,
    "deactivated_admin": False,  # Ghana's administrator, deactivated: signed out
    "anonymous": False,
}

# route -> (method, arguments), for the routes that act on closures.
CLOSURE_CALLS = {
    "closure_declare": "post",
    "closure_withdraw_confirm": "get",
    "closure_withdraw": "post",
}
# The other routes of the authorities app, and where their rules are tested.
ROUTES_COVERED_ELSEWHERE = {
    "directory": "any signed-in user: tests/test_authorities_pages.py",
    "country": "any signed-in user (the closure form only for those who may): this file",
    "policies": "INCB only, 404 for others: tests/test_authorities_pages.py",
    "policy_edit": "INCB only, 404 for others: tests/test_authorities_pages.py",
    **dict.fromkeys(
        (
            "surveillance",
            "surveillance_add",
            "surveillance_edit",
            "surveillance_retire",
            "surveillance_reinstate",
            "surveillance_history",
        ),
        "the special surveillance list's own matrix: tests/test_surveillance_list.py",
    ),
}


def sign_in(client, cast, principal):
    if principal == "anonymous":
        return
    if principal == "deactivated_admin":
        client.force_login(cast.importer_admin)
        cast.importer_admin.is_active = False
        cast.importer_admin.save(update_fields=["is_active"])
        return
    client.force_login(getattr(cast, principal))


@pytest.mark.parametrize("principal", list(PRINCIPALS))
def test_the_closure_routes_let_exactly_incb_and_the_countrys_administrators(client, cast, principal):
    may = PRINCIPALS[principal]
    closure = declared(cast, day=working_day(skip=0))
    sign_in(client, cast, principal)
    day = working_day(skip=1)
    calls = {
        "closure_declare": lambda: client.post(declare_url(), {"date": day.isoformat(), "reason": "Audit"}),
        "closure_withdraw_confirm": lambda: client.get(withdraw_url(closure)),
        "closure_withdraw": lambda: client.post(withdraw_url(closure)),
    }
    assert set(calls) == set(CLOSURE_CALLS)
    for route, call in calls.items():
        response = call()
        if principal in {"anonymous", "deactivated_admin"}:
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], route
        elif may:
            assert response.status_code == (200 if route == "closure_withdraw_confirm" else 302), route
        else:
            assert response.status_code == 403, (route, response.status_code)
    if may:
        assert list(Closure.objects.values_list("date", flat=True)) == [day]  # one declared, the other withdrawn
    else:
        assert list(Closure.objects.values_list("pk", flat=True)) == [closure.pk]  # nothing changed
    if principal not in {"anonymous", "deactivated_admin"}:
        page = text(client.get(country_url()))
        assert ("Declare a closure" in page) == may


def test_another_countrys_administrator_manages_their_own_country_not_ghana(client, cast):
    client.force_login(cast.exporter_admin)  # Germany's
    assert "Declare a closure" in text(client.get(country_url("DE")))
    assert "Declare a closure" not in text(client.get(country_url("GH")))
    day = working_day("DE")
    assert client.post(declare_url("DE"), {"date": day.isoformat(), "reason": "Betriebsausflug"}).status_code == 302
    assert Closure.objects.get().country_id == "DE"


def test_every_authorities_route_has_a_row():
    names = set()
    for pattern in get_resolver().url_patterns:
        if getattr(pattern, "namespace", None) == "authorities":
            names |= {p.name for p in pattern.url_patterns}
    # The withdraw route serves the confirmation (GET) and the withdrawal (POST).
    rows = {name.removesuffix("_confirm") for name in CLOSURE_CALLS} | set(ROUTES_COVERED_ELSEWHERE)
    assert names == rows, names ^ rows
