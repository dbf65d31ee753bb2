"""Timeliness: INCB's review of every importing country's record, a country's page, an
authority's own record and GET /api/v1/timeliness/, over a known history built through
the services in calendar year 2025 (long past, so every deadline has passed).

The history (reply period 15 calendar days everywhere, so reply due = sent + 15):

- Ghana always replies on time: after 2, 4 and 10 days. A notification withdrawn before
  any answer, a draft and one due in 2024 are not counted.
- Kenya replies late: after 20 days (from Germany) and 25.4 days with an objection (from
  France, the outsider).
- Nigeria never replies; it acknowledged one of its two.
- India asks for information on time (2 days), then objects; objects on time (6 days);
  asks for information late (22 days) and has not replied since.
- France replies on time after 9 days."""

from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from authorities.services import create_authority
from chasing import services as follow_ups
from chasing.models import FollowUp
from notifications import services
from tests.api_helpers import bearer, token_for
from tests.conftest import make_user
from tests.factories import file
from timeliness import stats

pytestmark = pytest.mark.django_db

API = "/api/v1/timeliness/"
YEAR = {"year": "2025"}
PERIOD_2025 = {"from": "2025-01-01", "to": "2025-12-31"}


def at(month, day, hour=9, minute=0, year=2025):
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def row(
    country, name, received, acknowledged, replied, due, on_time, rate, silence, median, p90, overdue, obj, info, **vol
):
    # ``vol``: the voluntary notifications counted apart (issue 12); none in most histories.
    return {
        "country": country,
        "country_name": name,
        "received": received,
        "acknowledged": acknowledged,
        "replied": replied,
        "due": due,
        "replied_on_time": on_time,
        "on_time_rate": rate,
        "silence_rate": silence,
        "median_days_to_reply": median,
        "p90_days_to_reply": p90,
        "overdue_now": overdue,
        "objections": obj,
        "information_requests": info,
        "voluntary_due": vol.get("voluntary_due", 0),
        "voluntary_replied_on_time": vol.get("voluntary_replied_on_time", 0),
    }


# Every figure of 2025, worked out by hand from the history above.
EXPECTED_2025 = {
    # Days to reply 2, 4, 10: median 4; 90th percentile 4 + 0.8 x (10 - 4) = 8.8.
    "GH": row("GH", "Ghana", 3, 3, 3, 3, 3, 1.0, 0.0, 4.0, 8.8, 0, 0, 0),
    # 20 and 25.4 days: median 22.7; 90th percentile 20 + 0.9 x 5.4 = 24.86.
    "KE": row("KE", "Kenya", 2, 2, 2, 2, 0, 0.0, 1.0, 22.7, 24.9, 0, 1, 0),
    "NG": row("NG", "Nigeria", 2, 1, 0, 2, 0, 0.0, 1.0, None, None, 2, 0, 0),
    # First answers after 2, 6 and 22 days: median 6; 90th percentile 6 + 0.8 x 16 = 18.8.
    "IN": row("IN", "India", 3, 3, 2, 3, 2, 0.6667, 0.3333, 6.0, 18.8, 0, 2, 2),
    "FR": row("FR", "France", 1, 1, 1, 1, 1, 1.0, 0.0, 9.0, 9.0, 0, 0, 0),
}
# Worst on-time rate first, ties by name.
DEFAULT_ORDER = ["KE", "NG", "IN", "FR", "GH"]


class History:
    def __init__(self, cast):
        self.cast = cast
        self.officers = {"GH": cast.importer_officer, "FR": cast.outsider_officer}
        for code, name in (("KE", "Pharmacy and Poisons Board"), ("NG", "NAFDAC"), ("IN", "Narcotics Commissioner")):
            authority = create_authority(
                code=f"{code.lower()}-cna",
                name=f"{name} ({code})",
                email=f"{code.lower()}@example.org",
                country_code=code,
            )[0]
            self.officers[code] = make_user(f"{code.lower()}_officer", authority, Role.OFFICER)
        self.n = {}

    def send(self, key, country, sent_at, exporter=None):
        actor = exporter or self.cast.exporter_officer
        overrides = {"transit_countries": ["NL"]} if country == "GH" else {"transit_countries": []}
        self.n[key] = file(self.cast, now=sent_at, actor=actor, importing_country=country, **overrides)
        return self.n[key]

    def reply(self, key, decision, when, comment="Reasons given."):
        notification = self.n[key]
        notification.refresh_from_db()
        officer = self.officers[notification.importing_country_id]
        self.n[key] = services.respond(
            actor=officer, notification=notification, decision=decision, comment=comment, now=when
        )

    def acknowledge(self, key, when):
        notification = self.n[key]
        officer = self.officers[notification.importing_country_id]
        self.n[key] = services.acknowledge(actor=officer, notification=notification, now=when)


def build_history(cast) -> History:
    h = History(cast)
    # Ghana: always on time.
    h.send("g1", "GH", at(3, 3))
    h.reply("g1", "no_objection", at(3, 5))
    h.send("g2", "GH", at(4, 1))
    h.acknowledge("g2", at(4, 1, 12))
    h.reply("g2", "no_objection", at(4, 5))
    h.send("g3", "GH", at(5, 2))
    h.reply("g3", "no_objection", at(5, 12))
    withdrawn = h.send("gw", "GH", at(3, 10))
    services.withdraw(actor=cast.exporter_officer, notification=withdrawn, reason="Order cancelled", now=at(3, 12))
    file(cast, now=at(3, 10), draft=True, reply_due=date(2025, 3, 30))
    h.send("g0", "GH", at(12, 1, year=2024))  # due 2024-12-16: another year
    # Kenya: late.
    h.send("k1", "KE", at(3, 3))
    h.reply("k1", "no_objection", at(3, 23))
    h.send("k2", "KE", at(6, 2), exporter=cast.outsider_officer)
    h.acknowledge("k2", at(6, 3))
    h.reply("k2", "objection", at(6, 27, 18, 36))  # 25.4 days
    # Nigeria: silent.
    h.send("n1", "NG", at(7, 1))
    h.acknowledge("n1", at(7, 2))
    h.send("n2", "NG", at(8, 1))
    # India: requests for information and objections.
    h.send("i1", "IN", at(9, 1))
    h.reply("i1", "information_requested", at(9, 3), comment="Which importer licence?")
    h.n["i1"] = services.provide_information(
        actor=cast.exporter_officer, notification=h.n["i1"], comment="Licence GH-IMP-7.", now=at(9, 5)
    )
    h.reply("i1", "objection", at(9, 10))
    h.send("i2", "IN", at(10, 1))
    h.reply("i2", "objection", at(10, 7))
    h.send("i3", "IN", at(11, 3))
    h.reply("i3", "information_requested", at(11, 25), comment="End user?")
    # France: on time.
    h.send("f1", "FR", at(4, 1))
    h.reply("f1", "no_objection", at(4, 10))
    return h


@pytest.fixture
def history(cast):
    return build_history(cast)


def as_dicts(figures):
    return {row.country: asdict(row) for row in figures}


# --- the figures -------------------------------------------------------------------------


def test_every_figure_of_the_known_history(history):
    """stats.timeliness gives, for 2025, exactly the figures worked out by hand."""
    figures = stats.timeliness(period_from=date(2025, 1, 1), period_to=date(2025, 12, 31), today=date(2026, 6, 1))
    assert as_dicts(figures) == EXPECTED_2025
    assert history.n["i1"].reply_due == date(2025, 9, 18)  # moved by the two days the question was open


def test_before_the_deadline_a_silent_notification_is_not_yet_due(history):
    """On 2025-08-10, Nigeria's second notification (due 08-16) is received but not due."""
    figures = as_dicts(
        stats.timeliness(period_from=date(2025, 1, 1), period_to=date(2025, 12, 31), today=date(2025, 8, 10))
    )
    assert {key: figures["NG"][key] for key in ("received", "due", "overdue_now", "on_time_rate")} == {
        "received": 2,
        "due": 1,
        "overdue_now": 1,
        "on_time_rate": 0.0,
    }


def test_a_late_reply_adds_to_replied_and_never_to_on_time(history):
    """Nigeria's silent notification is answered months late: replied +1, overdue now -1,
    on time and the silence rate unchanged; the days to reply now count it."""
    before = as_dicts(
        stats.timeliness(period_from=date(2025, 1, 1), period_to=date(2025, 12, 31), today=date(2026, 6, 1))
    )
    history.reply("n2", "no_objection", at(12, 1))  # 122 days after it was sent
    after = as_dicts(
        stats.timeliness(period_from=date(2025, 1, 1), period_to=date(2025, 12, 31), today=date(2026, 6, 1))
    )
    assert after["NG"] == {
        **before["NG"],
        "acknowledged": 2,  # a reply is proof of receipt
        "replied": 1,
        "overdue_now": 1,
        "median_days_to_reply": 122.0,
        "p90_days_to_reply": 122.0,
    }
    assert after["NG"]["replied_on_time"] == 0 and after["NG"]["silence_rate"] == 1.0
    assert {code: row for code, row in after.items() if code != "NG"} == {
        code: row for code, row in EXPECTED_2025.items() if code != "NG"
    }


def test_a_silence_stays_counted_when_the_exporter_withdraws_after_the_deadline(history, cast):
    """Withdrawn unanswered before the deadline: not counted (Ghana's, above). Withdrawn
    unanswered after it: still counted, as a silence; no longer overdue."""
    services.withdraw(actor=cast.exporter_officer, notification=history.n["n2"], reason="Gave up", now=at(9, 1))
    figures = as_dicts(
        stats.timeliness(period_from=date(2025, 1, 1), period_to=date(2025, 12, 31), today=date(2026, 6, 1))
    )
    assert figures["NG"] == {**EXPECTED_2025["NG"], "overdue_now": 1}
    assert stats.silence_rate("NG", today=date(2025, 9, 2)).silent == 2
    # Withdrawn on its reply-due day, it was withdrawn in time: not counted.
    on_the_day = history.send("n3", "NG", at(10, 1))
    services.withdraw(actor=cast.exporter_officer, notification=on_the_day, reason="Cancelled", now=at(10, 16, 23, 59))
    again = as_dicts(
        stats.timeliness(period_from=date(2025, 1, 1), period_to=date(2025, 12, 31), today=date(2026, 6, 1))
    )
    assert again["NG"]["received"] == 2


def test_the_monthly_series_for_the_system_and_by_country(history):
    system = stats.monthly_on_time(period_from=date(2025, 1, 1), period_to=date(2025, 12, 31), today=date(2026, 6, 1))
    assert [(p.month, p.due, p.on_time) for p in system] == [
        (date(2025, 3, 1), 2, 1),
        (date(2025, 4, 1), 2, 2),
        (date(2025, 5, 1), 1, 1),
        (date(2025, 6, 1), 1, 0),
        (date(2025, 7, 1), 1, 0),
        (date(2025, 8, 1), 1, 0),
        (date(2025, 9, 1), 1, 1),
        (date(2025, 10, 1), 1, 1),
        (date(2025, 11, 1), 1, 0),
    ]
    by_country = stats.monthly_on_time_by_country(
        period_from=date(2025, 1, 1), period_to=date(2025, 12, 31), today=date(2026, 6, 1)
    )
    assert {code: [(p.month.month, p.due, p.on_time) for p in points] for code, points in by_country.items()} == {
        "GH": [(3, 1, 1), (4, 1, 1), (5, 1, 1)],
        "KE": [(3, 1, 0), (6, 1, 0)],
        "NG": [(7, 1, 0), (8, 1, 0)],
        "IN": [(9, 1, 1), (10, 1, 1), (11, 1, 0)],
        "FR": [(4, 1, 1)],
    }
    assert [(p.month, p.due, p.on_time) for p in stats.all_countries(by_country)] == [
        (p.month, p.due, p.on_time) for p in system
    ]
    kenya = stats.monthly_on_time(
        period_from=date(2025, 1, 1), period_to=date(2025, 12, 31), today=date(2026, 6, 1), country="KE"
    )
    assert [(p.month.month, p.due, p.on_time, p.rate) for p in kenya] == [(3, 1, 0, 0.0), (6, 1, 0, 0.0)]


def test_the_exporting_country_filter(history):
    """Only France's notifications: one to Kenya, answered late after 25.4 days."""
    figures = stats.timeliness(
        period_from=date(2025, 1, 1), period_to=date(2025, 12, 31), today=date(2026, 6, 1), exporting_country="FR"
    )
    assert as_dicts(figures) == {"KE": row("KE", "Kenya", 1, 1, 1, 1, 0, 0.0, 1.0, 25.4, 25.4, 0, 1, 0)}


def test_who_sees_whose_timeliness(history, cast):
    """INCB everyone; an authority its own country and the countries it notifies."""
    assert stats.visible_countries(cast.incb_reviewer) is None
    assert stats.visible_countries(cast.exporter_officer) == ["DE", "FR", "GH", "IN", "KE", "NG"]
    assert stats.visible_countries(cast.outsider_officer) == ["FR", "KE"]
    assert stats.visible_countries(cast.importer_viewer) == ["GH"]
    assert stats.visible_countries(cast.transit_officer) == ["NL"]


# --- the review page ---------------------------------------------------------------------


def test_the_review_page_shows_every_figure_worst_first(history, client, cast):
    client.force_login(cast.incb_reviewer)
    response = client.get("/timeliness/", YEAR)
    assert response.status_code == 200
    context = response.context
    assert (context["selection"].period.start, context["selection"].period.end) == (
        date(2025, 1, 1),
        date(2025, 12, 31),
    )
    assert [row.country for row in context["figures"]] == DEFAULT_ORDER
    assert as_dicts(context["figures"]) == EXPECTED_2025
    assert [r.figures.country for r in context["rows"]] == DEFAULT_ORDER
    assert context["summary"] == {
        "countries": 5,
        "received": 11,
        "due": 11,
        "on_time": 6,
        "on_time_rate_text": "54.5%",
        "overdue_now": 2,
    }
    body = response.content.decode()
    # The displayed cells of India's row, in column order.
    india = next(r for r in context["rows"] if r.figures.country == "IN")
    assert [cell.text for cell in india.cells] == [
        "3",
        "3",
        "2",
        "3",
        "2",
        "66.7%",
        "6.0",
        "18.8",
        "0",
        "33.3%",
        "2",
        "2",
        "0",
        "0",
    ]
    assert 'href="/timeliness/countries/IN/?year=2025"' in body
    # The definitions beside the table, from stats.DEFINITIONS.
    assert "How the figures are counted" in body
    assert "Replied on time divided by due." in body
    # The chart renders without JavaScript and says what it shows.
    assert "<svg" in body and "On-time rate by month of the reply-due date</title>" in body
    assert "<script" not in body
    assert context["chart_rows"][2]["cells"] == [{"due": 2, "on_time": 1, "rate": "50%"}]  # March
    assert 'aria-label="On-time rate by month, Ghana: 100% in March 2025, 100% in May 2025, lowest 100%"' in body


def test_the_default_period_is_the_last_12_months(history, client, cast):
    from django.utils import timezone

    client.force_login(cast.incb_reviewer)
    response = client.get("/timeliness/")
    today = timezone.now().date()
    period = response.context["selection"].period
    assert (period.start, period.end) == (today - timedelta(days=365), today)
    assert "The last 12 months" in response.content.decode()


def test_custom_periods_and_bad_input(history, client, cast):
    client.force_login(cast.incb_reviewer)
    response = client.get("/timeliness/", {"from": "2025-03-01", "to": "2025-04-30"})
    # Due in March and April: Ghana (2), Kenya (1), France (1).
    assert {r.country: r.received for r in response.context["figures"]} == {"GH": 2, "KE": 1, "FR": 1}
    # A whole calendar year given as dates is that year's preset.
    selection = client.get("/timeliness/", PERIOD_2025).context["selection"]
    assert (selection.period.year, selection.custom) == (2025, False)
    for params in (
        {"from": "2025-02-30"},
        {"from": "2025-05-01", "to": "2025-04-01"},
        {"year": "abc"},
        {"from": "0001-01-01", "to": "9999-12-31"},
    ):
        response = client.get("/timeliness/", params)
        assert response.status_code == 200
        assert response.context["selection"].errors
        assert response.context["selection"].period.is_last_12_months


@pytest.mark.parametrize(
    ("sort", "direction", "order"),
    [
        ("on_time_rate", "desc", ["FR", "GH", "IN", "KE", "NG"]),
        ("median_days_to_reply", "desc", ["KE", "FR", "IN", "GH", "NG"]),  # Nigeria: no value, last
        ("median_days_to_reply", "asc", ["GH", "IN", "FR", "KE", "NG"]),  # still last
        ("p90_days_to_reply", "desc", ["KE", "IN", "FR", "GH", "NG"]),
        ("received", "desc", ["GH", "IN", "KE", "NG", "FR"]),
        ("acknowledged", "asc", ["FR", "NG", "KE", "GH", "IN"]),
        ("replied", "asc", ["NG", "FR", "IN", "KE", "GH"]),
        ("due", "asc", ["FR", "KE", "NG", "GH", "IN"]),
        ("replied_on_time", "desc", ["GH", "IN", "FR", "KE", "NG"]),
        ("overdue_now", "desc", ["NG", "FR", "GH", "IN", "KE"]),
        ("silence_rate", "desc", ["KE", "NG", "IN", "FR", "GH"]),
        ("objections", "desc", ["IN", "KE", "FR", "GH", "NG"]),
        ("information_requests", "desc", ["IN", "FR", "GH", "KE", "NG"]),
        ("country", "desc", ["NG", "KE", "IN", "GH", "FR"]),
    ],
)
def test_every_column_sorts(history, client, cast, sort, direction, order):
    client.force_login(cast.incb_reviewer)
    response = client.get("/timeliness/", {**YEAR, "sort": sort, "dir": direction})
    assert [row.country for row in response.context["figures"]] == order
    heading = next(h for h in response.context["headings"] if h.key == sort)
    assert heading.aria_sort == ("ascending" if direction == "asc" else "descending")
    # Its link turns the order round, and keeps the period.
    flipped = "asc" if direction == "desc" else "desc"
    assert heading.url == f"/timeliness/?year=2025&sort={sort}&dir={flipped}"


def test_the_exporting_filter_and_the_country_overlay(history, client, cast):
    client.force_login(cast.incb_reviewer)
    response = client.get("/timeliness/", {**YEAR, "exporting": "FR", "country": "KE"})
    assert as_dicts(response.context["figures"]) == {
        "KE": row("KE", "Kenya", 1, 1, 1, 1, 0, 0.0, 1.0, 25.4, 25.4, 0, 1, 0)
    }
    labels = [line.label for line in response.context["chart"].series]
    assert labels == ["All countries", "Kenya"]
    body = response.content.decode()
    assert "notifications from France" in body
    assert "Kenya, June 2025: 0% on time (0 of 1 due)" in body  # the point's own title


def test_national_officers_get_404_on_the_incb_pages(history, client, cast):
    for user in (cast.exporter_officer, cast.importer_admin, cast.outsider_officer):
        client.force_login(user)
        for path in (
            "/timeliness/",
            "/timeliness/countries/GH/",
            "/timeliness/export.csv",
            "/timeliness/export.xlsx",
            "/timeliness/reconciliation/",
            "/timeliness/reconciliation/export.csv",
        ):
            assert client.get(path).status_code == 404, (user, path)
    client.logout()
    assert client.get("/timeliness/").status_code == 302  # to the login page


def test_the_review_page_runs_a_bounded_number_of_queries(cast, client):
    """The count does not grow with the number of countries or notifications."""
    history = build_history(cast)
    client.force_login(cast.incb_reviewer)
    client.get("/timeliness/", YEAR)  # warm the session and the caches
    with CaptureQueriesContext(connection) as first:
        assert client.get("/timeliness/", {**YEAR, "country": "GH"}).status_code == 200
    for index, code in enumerate(("TZ", "UG", "ZA", "BR")):
        authority = create_authority(
            code=f"{code.lower()}-x", name=code, email=f"{code}@example.org", country_code=code
        )[0]
        history.officers[code] = make_user(f"{code.lower()}_officer", authority, Role.OFFICER)
        for day in (1, 2, 3):
            history.send(f"{code}{day}", code, at(2 + index, day))
        history.reply(f"{code}1", "no_objection", at(2 + index, 5))
    with CaptureQueriesContext(connection) as second:
        response = client.get("/timeliness/", {**YEAR, "country": "GH"})
    assert len(response.context["figures"]) == 9
    assert len(second) == len(first)
    assert len(first) <= 12, [q["sql"] for q in first.captured_queries]


# --- a country's page --------------------------------------------------------------------


def test_the_country_page(history, client, cast):
    follow_ups.record_follow_up(
        actor=cast.incb_reviewer, notification=history.n["n1"], channel="phone", note="Called the desk", now=at(7, 20)
    )
    follow_ups.record_follow_up(
        actor=cast.incb_reviewer, notification=history.n["n2"], channel="email", note="Reminder sent", now=at(8, 20)
    )
    client.force_login(cast.incb_reviewer)
    response = client.get("/timeliness/countries/ng/", YEAR)
    assert response.status_code == 200
    context = response.context
    assert asdict(context["figures"]) == EXPECTED_2025["NG"]
    assert [n.reference for n in context["overdue"]] == [history.n["n1"].reference, history.n["n2"].reference]
    assert [(f.note, f.notification_id) for f in context["follow_ups"]] == [
        ("Reminder sent", history.n["n2"].pk),
        ("Called the desk", history.n["n1"].pk),
    ]
    assert [(y["period"].year, y["figures"].received if y["figures"] else None) for y in context["by_year"]][1] == (
        2025,
        2,
    )
    body = response.content.decode()
    assert 'href="/incb/follow-up/?country=NG"' in body
    assert "ng@example.org" in body  # the focal point's contacts
    assert "Explicit consent required." in body  # the declared policy
    assert "Reminder sent" in body and body.index("Reminder sent") < body.index("Called the desk")
    assert [line.label for line in context["chart"].series] == ["All countries", "Nigeria"]
    assert client.get("/timeliness/countries/XX/").status_code == 404
    assert FollowUp.objects.count() == 2


# --- the authorities' own page -----------------------------------------------------------


def test_an_authority_sees_its_own_record_and_the_countries_it_notifies(history, client, cast):
    client.force_login(cast.outsider_officer)
    response = client.get("/timeliness/mine/", YEAR)
    assert response.status_code == 200
    assert asdict(response.context["own"]) == EXPECTED_2025["FR"]
    assert [r.figures.country for r in response.context["rows"]] == ["KE"]
    assert asdict(response.context["rows"][0].figures) == EXPECTED_2025["KE"]
    body = response.content.decode()
    assert "Of the 1 notifications to France due in this period, 1 were answered by their deadline (100%)." in body
    assert "Ghana" not in body and "Nigeria" not in body and "India" not in body
    assert "/timeliness/countries/" not in body  # no drill-down: that is INCB's

    client.force_login(cast.exporter_officer)
    response = client.get("/timeliness/mine/", YEAR)
    assert response.context["own"] is None  # Germany receives nothing
    assert "Nothing was due in this period: there is nothing to chart." in response.content.decode()
    assert [r.figures.country for r in response.context["rows"]] == DEFAULT_ORDER

    client.force_login(cast.incb_reviewer)
    assert client.get("/timeliness/mine/").url == "/timeliness/"


def test_the_navigation_links_to_the_right_timeliness_page(client, cast):
    # The current section's item is marked aria-current="page" (issue 18, defect 4).
    client.force_login(cast.incb_reviewer)
    assert 'href="/timeliness/" aria-current="page">Timeliness</a>' in client.get("/timeliness/").content.decode()
    client.force_login(cast.importer_viewer)
    page = client.get("/timeliness/mine/").content.decode()
    assert 'href="/timeliness/mine/" aria-current="page">Timeliness</a>' in page


# --- the API -----------------------------------------------------------------------------


def test_the_api_gives_every_figure_to_incb(history, client, cast):
    token = bearer(token_for(client, cast.incb))
    response = client.get(API, PERIOD_2025, headers=token)
    assert response.status_code == 200
    assert response.json() == [EXPECTED_2025[code] for code in ("FR", "GH", "IN", "KE", "NG")]


def test_an_outsider_sees_only_its_own_country_and_the_countries_it_notifies(history, client, cast):
    token = bearer(token_for(client, cast.outsider))
    response = client.get(API, PERIOD_2025, headers=token)
    assert response.status_code == 200
    assert response.json() == [EXPECTED_2025["FR"], EXPECTED_2025["KE"]]
    # Ghana's authority notifies nobody and only sees Ghana.
    response = client.get(API, PERIOD_2025, headers=bearer(token_for(client, cast.importer)))
    assert [r["country"] for r in response.json()] == ["GH"]


def test_the_api_follows_a_late_reply(history, client, cast):
    token = bearer(token_for(client, cast.incb))
    history.reply("n2", "no_objection", at(12, 1))
    nigeria = next(r for r in client.get(API, PERIOD_2025, headers=token).json() if r["country"] == "NG")
    assert nigeria == {
        **EXPECTED_2025["NG"],
        "acknowledged": 2,
        "replied": 1,
        "overdue_now": 1,
        "median_days_to_reply": 122.0,
        "p90_days_to_reply": 122.0,
    }


def test_the_api_period_defaults_and_errors(history, client, cast):
    token = bearer(token_for(client, cast.incb))
    # The last 12 months: nothing of 2025 but the notifications due from 365 days ago.
    assert client.get(API, headers=token).status_code == 200
    response = client.get(API, {"to": "2025-03-31"}, headers=token)  # the 365 days up to it
    # 2024-03-31 to 2025-03-31: Ghana's notification due in December 2024 and one in March.
    assert {r["country"]: r["received"] for r in response.json()} == {"GH": 2, "KE": 1}
    response = client.get(API, {"from": "2025-11-01", "to": "2025-11-30"}, headers=token)
    assert response.json() == [row("IN", "India", 1, 1, 0, 1, 0, 0.0, 1.0, 22.0, 22.0, 0, 0, 1)]
    response = client.get(API, {"from": "2025-02-30", "to": "yesterday"}, headers=token)
    assert response.status_code == 400
    assert set(response.json()) == {"from", "to"}
    response = client.get(API, {"from": "2025-06-01", "to": "2025-05-01"}, headers=token)
    assert response.status_code == 400 and "to" in response.json()
    # Dates are held to 2000-2099 (issue 16: the edges of the calendar overflowed); an empty
    # parameter is absent.
    edges = client.get(API, {"from": "0001-01-01", "to": "9999-12-31"}, headers=token)
    assert edges.status_code == 400 and set(edges.json()) == {"from", "to"}
    assert "2099" in edges.json()["to"][0]
    assert client.get(API, {"from": "2000-01-01", "to": "2000-12-31"}, headers=token).json() == []
    assert client.get(API, {"from": "", "to": ""}, headers=token).status_code == 200
    assert client.get(API, {"from": "9999-12-31"}, headers=token).status_code == 400
    assert client.get(API, {"to": "0001-01-01"}, headers=token).status_code == 400


def test_the_api_needs_the_statistics_scope(history, client, cast):
    without = bearer(token_for(client, cast.exporter, scopes=["notifications:read"]))
    assert client.get(API, PERIOD_2025, headers=without).status_code == 403
    assert client.get(API, PERIOD_2025).status_code == 401
    assert client.get(API, PERIOD_2025, headers=bearer("not-a-token")).status_code == 401
    # A browser session is governed by the user's authority, as on the pages.
    client.force_login(cast.outsider_officer)
    assert [r["country"] for r in client.get(API, PERIOD_2025).json()] == ["FR", "KE"]


def test_the_api_is_documented(client, cast):
    client.force_login(cast.incb_reviewer)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/timeliness/"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"from", "to"}
    # With what the framework answers everywhere (Accept, rate: api.schema.complete_schema).
    assert set(operation["responses"]) == {"200", "400", "401", "403", "406", "429"}
    assert {"oauth2": ["statistics:read"]} in operation["security"]
    fields = schema["components"]["schemas"]["TimelinessRow"]["properties"]
    for name in (
        "country",
        "received",
        "replied",
        "replied_on_time",
        "on_time_rate",
        "median_days_to_reply",
        "overdue_now",
        "silence_rate",
    ):
        assert fields[name]["description"], name
    assert fields["on_time_rate"]["nullable"] is True and fields["on_time_rate"]["maximum"] == 1
