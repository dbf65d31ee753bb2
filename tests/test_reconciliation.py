"""The reconciliation of shipments for INCB (issue 14, "Reconciliation for INCB"): notified,
shipped and received quantities per importing country and substance over a period of
dispatch dates, open discrepancies first, on the page and in its CSV; INCB's only.

The shipments (sent in February 2025, cleared the next day; the period is March 2025,
``from`` and ``to`` both included):

- A, Germany → Ghana, dispatched 1 March (the first day): ephedrine 250 kg, received 220 kg
  (a discrepancy, open); acetone 500 l, received 500 l.
- B, Germany → Ghana, dispatched 31 March (the last day): ephedrine 500 000 g notified,
  400 000 g shipped and received (400 kg).
- C, Germany → Ghana, dispatched 15 March: acetone 250 000 ml (250 l), never arrived (the
  arrival ladder flags it 30 days later).
- D, Germany → Ghana, dispatched 20 March: acetone by mass, 100 kg, 90 kg received: a
  discrepancy, explained (so not open).
- E, Germany → Kenya, dispatched 5 March: toluene 1 000 kg, 950 kg received (open).
- Not counted: F dispatched 28 February, G dispatched 1 April (outside the period), H
  dispatched 10 March under tacit consent and withdrawn the next day, I never dispatched,
  and a draft."""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from authorities.services import create_authority
from chasing import arrival
from notifications import services
from notifications.clock import arrival_reminder_at
from notifications.services import ItemData, ShippedQuantity
from tests.conftest import make_user
from tests.factories import file
from timeliness import reconciliation

pytestmark = pytest.mark.django_db

MARCH = {"from": "2025-03-01", "to": "2025-03-31"}
PAGE = "/timeliness/reconciliation/"
CSV = "/timeliness/reconciliation/export.csv"


def at(month, day, hour=9, year=2025):
    return datetime(year, month, day, hour, tzinfo=UTC)


def item(substance, quantity, unit):
    return ItemData(substance=substance, quantity=Decimal(quantity), unit=unit, packages="drums")


class Shipments:
    def __init__(self, cast):
        self.cast = cast
        kenya = create_authority(
            code="ke-ppb", name="Pharmacy and Poisons Board (KE)", email="ke@example.org", country_code="KE"
        )[0]
        self.officers = {"GH": cast.importer_officer, "KE": make_user("ke_officer", kenya, Role.OFFICER)}
        self.n = {}

    def send(self, key, items, country="GH", sent=None):
        overrides = {"transit_countries": ["NL"]} if country == "GH" else {"transit_countries": []}
        self.n[key] = file(self.cast, now=sent or at(2, 10), importing_country=country, items=items, **overrides)
        return self.n[key]

    def clear(self, key):
        n = self.n[key]
        officer = self.officers[n.importing_country_id]
        self.n[key] = services.respond(actor=officer, notification=n, decision="no_objection", now=at(2, 11))

    def dispatch(self, key, on, *quantities):
        self.n[key] = services.dispatch(
            actor=self.cast.exporter_officer,
            notification=self.n[key],
            dispatched_on=on,
            quantities=[ShippedQuantity(i, Decimal(q)) for i, q in enumerate(quantities, start=1)],
            now=datetime.combine(on, datetime.min.time(), tzinfo=UTC) + timedelta(hours=15),
        )

    def arrive(self, key, on, *quantities):
        n = self.n[key]
        self.n[key] = services.confirm_arrival(
            actor=self.officers[n.importing_country_id],
            notification=n,
            arrived_on=on,
            quantities=[ShippedQuantity(i, Decimal(q)) for i, q in enumerate(quantities, start=1)],
            now=datetime.combine(on, datetime.min.time(), tzinfo=UTC) + timedelta(hours=15),
        )


def build_shipments(cast) -> Shipments:
    s = Shipments(cast)
    s.send("A", [item("ephedrine", "250", "kg"), item("acetone", "500", "l")])
    s.clear("A")
    s.dispatch("A", date(2025, 3, 1), "250", "500")
    s.arrive("A", date(2025, 3, 10), "220", "500")  # ephedrine -12 %: open
    s.send("B", [item("ephedrine", "500000", "g")])
    s.clear("B")
    s.dispatch("B", date(2025, 3, 31), "400000")
    s.arrive("B", date(2025, 4, 2), "400000")
    s.send("C", [item("acetone", "250000", "ml")])
    s.clear("C")
    s.dispatch("C", date(2025, 3, 15), "250000")
    assert arrival.sweep(now=arrival_reminder_at(date(2025, 3, 15))) == 1  # 30 days: the flag
    s.send("D", [item("acetone", "100", "kg")])
    s.clear("D")
    s.dispatch("D", date(2025, 3, 20), "100")
    s.arrive("D", date(2025, 3, 25), "90")
    services.explain_discrepancy(
        actor=cast.importer_officer, notification=s.n["D"], comment="Customs sample.", now=at(3, 26)
    )
    s.send("E", [item("toluene", "1000", "kg")], country="KE")
    s.clear("E")
    s.dispatch("E", date(2025, 3, 5), "1000")
    s.arrive("E", date(2025, 3, 20), "950")  # -5 %: open
    # Not counted.
    s.send("F", [item("ephedrine", "10", "kg")])
    s.clear("F")
    s.dispatch("F", date(2025, 2, 28), "10")
    s.arrive("F", date(2025, 3, 2), "1")
    s.send("G", [item("ephedrine", "10", "kg")])
    s.clear("G")
    s.dispatch("G", date(2025, 4, 1), "10")
    s.arrive("G", date(2025, 4, 3), "1")
    ghana = cast.importer.country
    ghana.reply_regime = "tacit_consent"
    ghana.save()
    s.send("H", [item("ephedrine", "70", "kg")], sent=at(1, 5))
    s.dispatch("H", date(2025, 3, 10), "70")  # the reply period is over, no reply: tacit consent
    s.n["H"] = services.withdraw(actor=cast.exporter_officer, notification=s.n["H"], reason="x", now=at(3, 11))
    s.send("I", [item("ephedrine", "33", "kg")])
    file(cast, now=at(2, 10), draft=True, items=[item("ephedrine", "44", "kg")])
    return s


@pytest.fixture
def shipments(cast):
    return build_shipments(cast)


@pytest.fixture
def incb(client, cast):
    client.force_login(cast.incb_reviewer)
    return client


def q(text):
    return Decimal(text).quantize(Decimal("0.000001"))


def as_tuples(rows):
    return [
        (
            r.country,
            r.substance,
            r.unit,
            r.notified,
            r.shipped,
            r.received,
            r.difference,
            r.notifications,
            r.arrival_unconfirmed,
            r.open_discrepancies,
        )
        for r in rows
    ]


# Worked out by hand from the shipments above, in the page's order: the two rows with an
# open discrepancy first (the larger difference, Kenya's 50 kg, before Ghana's 30 kg), then
# the others by the size of their difference.
EXPECTED_MARCH = [
    ("KE", "toluene", "kg", q("1000"), q("1000"), q("950"), q("50"), 1, 0, 1),
    # A's 250 kg and B's 500 000 g; shipped 250 + 400; received 220 + 400.
    ("GH", "ephedrine", "kg", q("750"), q("650"), q("620"), q("30"), 2, 0, 1),
    # D by mass, its difference explained: not open, but still a difference.
    ("GH", "acetone", "kg", q("100"), q("100"), q("90"), q("10"), 1, 0, 0),
    # A's 500 l and C's 250 000 ml, never added to the kilograms. C has not arrived: it adds to
    # shipped, not to the difference.
    ("GH", "acetone", "l", q("750"), q("750"), q("500"), q("0"), 2, 1, 0),
]


def test_the_figures_of_a_period(shipments):
    rows = reconciliation.figures(period_from=date(2025, 3, 1), period_to=date(2025, 3, 31))
    assert as_tuples(rows) == EXPECTED_MARCH
    assert [(r.country_name, r.substance_name) for r in rows][:2] == [("Kenya", "Toluene"), ("Ghana", "Ephedrine")]


def test_the_period_is_by_dispatch_date_both_days_included(shipments):
    def ephedrine(start, end):
        rows = reconciliation.figures(period_from=start, period_to=end, substance="ephedrine")
        return [(r.notified, r.shipped, r.notifications) for r in rows]

    assert ephedrine(date(2025, 3, 1), date(2025, 3, 1)) == [(q("250"), q("250"), 1)]  # A, on the first day
    assert ephedrine(date(2025, 3, 31), date(2025, 3, 31)) == [(q("500"), q("400"), 1)]  # B, on the last day
    assert ephedrine(date(2025, 3, 2), date(2025, 3, 30)) == []  # H withdrawn, I never dispatched
    # F (28 February) and G (1 April) only in a period that reaches them.
    assert ephedrine(date(2025, 2, 28), date(2025, 4, 1)) == [(q("770"), q("670"), 4)]


def test_the_filters(shipments):
    march = {"period_from": date(2025, 3, 1), "period_to": date(2025, 3, 31)}
    assert as_tuples(reconciliation.figures(**march, importing_country="KE")) == EXPECTED_MARCH[:1]
    assert as_tuples(reconciliation.figures(**march, substance="acetone")) == EXPECTED_MARCH[2:]
    assert reconciliation.figures(**march, exporting_country="FR") == []
    assert as_tuples(reconciliation.figures(**march, exporting_country="DE")) == EXPECTED_MARCH


def test_the_open_cases_are_the_open_flags_of_the_period(shipments):
    march = {"period_from": date(2025, 3, 1), "period_to": date(2025, 3, 31)}
    cases = reconciliation.open_cases(**march)
    n = shipments.n
    assert [(c.reference, c.kind) for c in cases] == [
        (n["A"].reference, "quantity_discrepancy"),
        (n["E"].reference, "quantity_discrepancy"),
        (n["C"].reference, "arrival_unconfirmed"),
    ]
    assert reconciliation.open_case_counts(**march) == {"quantity_discrepancy": 2, "arrival_unconfirmed": 1}
    assert [c.reference for c in reconciliation.open_cases(**march, substance="acetone")] == [n["C"].reference]


def test_the_page(shipments, incb):
    response = incb.get(PAGE, MARCH)
    assert response.status_code == 200
    assert as_tuples(response.context["figures"]) == EXPECTED_MARCH
    body = response.content.decode()
    assert "Dispatched 1 March 2025 to 31 March 2025" in body
    assert "Period (by dispatch date)" in body
    # The open cases link to their notifications.
    for key in ("A", "E", "C"):
        assert f'href="{shipments.n[key].get_absolute_url()}"' in body
    for key in ("B", "D", "F", "G", "H", "I"):
        assert shipments.n[key].reference not in body
    assert "Item 1 (Ephedrine): 250.000 kg dispatched, 220.000 kg received (-12.0 %)." in body
    # The definitions say how each figure is computed.
    for term, _text in reconciliation.DEFINITIONS:
        assert str(term) in body
    assert "grams to kilograms (divided by 1000)" in body
    # Mass and volume in their own rows: acetone in kg, then in l.
    cells = [[cell.text for cell in r["cells"]] for r in response.context["rows"]]
    assert cells[2][:3] == ["Ghana", "Acetone", "kg"] and cells[3][:3] == ["Ghana", "Acetone", "l"]
    assert cells[1][3:] == ["750.000", "650.000", "620.000", "30.000", "2", "0", "1"]
    # The download keeps the period and the filters.
    filtered = incb.get(PAGE, {**MARCH, "importing": "GH", "substance": "acetone"})
    assert as_tuples(filtered.context["figures"]) == EXPECTED_MARCH[2:]
    assert "shipments to Ghana" in filtered.content.decode()
    assert (
        'href="/timeliness/reconciliation/export.csv?from=2025-03-01&amp;to=2025-03-31&amp;importing=GH'
        '&amp;substance=acetone"' in filtered.content.decode()
    )


def test_unknown_filters_are_said_and_dropped(shipments, incb):
    response = incb.get(PAGE, {**MARCH, "importing": "Ghana", "substance": "cocaine", "exporting": "XX"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "There is no importing country “Ghana”" in body
    assert "There is no substance “cocaine”" in body
    assert "There is no exporting country “XX”" in body
    assert as_tuples(response.context["figures"]) == EXPECTED_MARCH


def read_csv(response):
    text = response.content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    blank = lines.index([])
    return dict(lines[:blank]), lines[blank + 1], lines[blank + 2 :]


@pytest.mark.parametrize("filters", [{}, {"importing": "GH"}, {"substance": "acetone", "exporting": "DE"}])
def test_the_csv_is_the_pages_rows(shipments, incb, filters):
    page = incb.get(PAGE, {**MARCH, **filters})
    response = incb.get(CSV, {**MARCH, **filters})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="reconciliation-2025-03-01-to-2025-03-31')
    preamble, heading, rows = read_csv(response)
    assert heading == [str(label) for _a, label, _k in reconciliation.COLUMNS]
    figures = page.context["figures"]
    assert len(rows) == len(figures) > 0
    for line, row, shown in zip(rows, figures, page.context["rows"], strict=True):
        assert line[0] == row.country and line[2] == row.substance
        # Every other cell exactly as the page shows it.
        assert [line[1], *line[3:]] == [cell.text for cell in shown["cells"]]
    assert preamble["Dispatched from"] == "2025-03-01" and preamble["Dispatched to"] == "2025-03-31"
    if "importing" in filters:
        assert preamble["Importing country"] == "Ghana (GH)"
    if "substance" in filters:
        assert preamble["Substance"] == "Acetone (acetone)"


def test_a_millilitre_keeps_its_digits(cast, incb):
    s = Shipments(cast)
    s.send("tiny", [item("acetone", "0.5", "ml")])
    s.clear("tiny")
    s.dispatch("tiny", date(2025, 3, 3), "0.5")
    [row] = reconciliation.figures(period_from=date(2025, 3, 1), period_to=date(2025, 3, 31))
    assert (row.unit, row.notified) == ("l", q("0.0005"))
    assert reconciliation.quantity_text(row.notified) == "0.0005"
    assert reconciliation.quantity_text(q("250")) == "250.000"


def test_only_incb_staff_see_the_reconciliation(shipments, client, cast):
    for user in (cast.exporter_officer, cast.importer_admin, cast.outsider_officer):
        client.force_login(user)
        for path in (PAGE, CSV):
            assert client.get(path, MARCH).status_code == 404, (user, path)  # as INCB's other pages
    client.logout()
    for path in (PAGE, CSV):
        response = client.get(path, MARCH)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), path
    client.force_login(cast.incb_reviewer)
    assert client.post(PAGE).status_code == 405


def test_the_review_and_country_pages_link_to_the_reconciliation(incb):
    body = incb.get("/timeliness/", {"year": "2025"}).content.decode()
    assert f'href="{reverse("timeliness:reconciliation")}?year=2025"' in body
    body = incb.get("/timeliness/countries/GH/", {"year": "2025"}).content.decode()
    assert f'href="{reverse("timeliness:reconciliation")}?year=2025&amp;importing=GH"' in body


def test_the_page_and_the_csv_run_a_bounded_number_of_queries(shipments, incb, cast):
    """The count does not grow with the number of notifications, items, rows or open cases."""
    incb.get(PAGE, MARCH)  # warm the session and the caches

    def counted(path):
        with CaptureQueriesContext(connection) as captured:
            assert incb.get(path, MARCH).status_code == 200
        return len(captured.captured_queries)

    first_page, first_csv = counted(PAGE), counted(CSV)
    for index in range(6):
        key = f"more{index}"
        shipments.send(key, [item("ephedrine", "10", "kg"), item("potassium-permanganate", "5", "kg")])
        shipments.clear(key)
        shipments.dispatch(key, date(2025, 3, 2 + index), "10", "5")
        shipments.arrive(key, date(2025, 3, 20), "5", "5")  # open discrepancies
    more = reconciliation.figures(period_from=date(2025, 3, 1), period_to=date(2025, 3, 31))
    assert len(more) == len(EXPECTED_MARCH) + 1
    assert counted(PAGE) == first_page and counted(CSV) == first_csv
    assert first_page <= 10, first_page
