"""The timeliness table as CSV and XLSX: the same rows, order and filters as the review
page, every figure to the exact number, with the period and the time of generation."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook

from tests.test_timeliness import DEFAULT_ORDER, EXPECTED_2025, build_history, row

pytestmark = pytest.mark.django_db

COLUMNS = [
    "country",
    "country_name",
    "received",
    "acknowledged",
    "replied",
    "due",
    "replied_on_time",
    "on_time_rate",
    "median_days_to_reply",
    "p90_days_to_reply",
    "overdue_now",
    "silence_rate",
    "objections",
    "information_requests",
    "voluntary_due",
    "voluntary_replied_on_time",
]
HEADINGS = [
    "Code",
    "Country",
    "Received",
    "Acknowledged",
    "Replied",
    "Due",
    "Replied on time",
    "On-time rate",
    "Median days to reply",
    "90th percentile days to reply",
    "Overdue now",
    "Silence rate",
    "Objections",
    "Information requests",
    "Voluntary due",
    "Voluntary replied on time",
]


@pytest.fixture
def history(cast):
    return build_history(cast)


@pytest.fixture
def incb(client, cast):
    client.force_login(cast.incb_reviewer)
    return client


def as_csv_cells(expected: dict) -> list[str]:
    return ["" if expected[name] is None else str(expected[name]) for name in COLUMNS]


def read_csv(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def assert_recent(stamp: str):
    generated = datetime.fromisoformat(stamp)
    assert generated.tzinfo is not None
    assert abs(datetime.now(UTC) - generated) < timedelta(minutes=1)


def test_the_csv_states_the_period_and_holds_every_figure(history, incb):
    response = incb.get("/timeliness/export.csv", {"year": "2025"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="timeliness-2025-01-01-to-2025-12-31.csv"'
    lines = read_csv(response)
    preamble = dict(line for line in lines[:6])
    assert preamble["Period"] == "Calendar year 2025 (reply due 1 January to 31 December)"
    assert (preamble["Reply due from"], preamble["Reply due to"]) == ("2025-01-01", "2025-12-31")
    assert preamble["Exporting country"] == "All exporting countries"
    assert_recent(preamble["Generated at"])
    assert lines[6] == []
    assert lines[7] == HEADINGS
    # The worst on-time rate first, as on the page; rates as fractions, days with a decimal.
    assert lines[8:] == [as_csv_cells(EXPECTED_2025[code]) for code in DEFAULT_ORDER]
    assert lines[10] == [
        "IN",
        "India",
        "3",
        "3",
        "2",
        "3",
        "2",
        "0.6667",
        "6.0",
        "18.8",
        "0",
        "0.3333",
        "2",
        "2",
        "0",
        "0",
    ]
    assert lines[9] == ["NG", "Nigeria", "2", "1", "0", "2", "0", "0.0", "", "", "2", "1.0", "0", "0", "0", "0"]


def test_the_csv_follows_the_filter_and_the_sort(history, incb):
    response = incb.get(
        "/timeliness/export.csv", {"from": "2025-06-01", "to": "2025-06-30", "exporting": "FR", "sort": "country"}
    )
    assert response["Content-Disposition"] == 'attachment; filename="timeliness-2025-06-01-to-2025-06-30-from-FR.csv"'
    lines = read_csv(response)
    preamble = dict(line for line in lines[:6])
    assert preamble["Exporting country"] == "France (FR)"
    assert preamble["Period"] == "Reply due 1 June 2025 to 30 June 2025"
    assert lines[8:] == [as_csv_cells(row("KE", "Kenya", 1, 1, 1, 1, 0, 0.0, 1.0, 25.4, 25.4, 0, 1, 0))]

    response = incb.get("/timeliness/export.csv", {"year": "2025", "sort": "median_days_to_reply", "dir": "desc"})
    assert [line[0] for line in read_csv(response)[8:]] == ["KE", "FR", "IN", "GH", "NG"]


def test_the_xlsx_holds_the_same_figures_with_a_title_and_an_about_sheet(history, incb):
    response = incb.get("/timeliness/export.xlsx", {"year": "2025"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"] == 'attachment; filename="timeliness-2025-01-01-to-2025-12-31.xlsx"'
    workbook = load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Timeliness", "About"]
    sheet = workbook["Timeliness"]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "PEN Portal: timeliness of replies to pre-export notifications, by importing country"
    preamble = {r[0]: r[1] for r in values[1:6]}
    assert preamble["Period"] == "Calendar year 2025 (reply due 1 January to 31 December)"
    assert (preamble["Reply due from"], preamble["Reply due to"]) == ("2025-01-01", "2025-12-31")
    assert preamble["Exporting country"] == "All exporting countries"
    assert_recent(preamble["Generated at"])
    assert all(cell is None for cell in values[6])
    assert values[7] == HEADINGS
    # Numbers stay numbers (counts, fractions, days); nothing due or answered: an empty cell.
    assert values[8:] == [[EXPECTED_2025[code][name] for name in COLUMNS] for code in DEFAULT_ORDER]
    assert values[10] == ["IN", "India", 3, 3, 2, 3, 2, 0.6667, 6.0, 18.8, 0, 0.3333, 2, 2, 0, 0]
    assert sheet.cell(row=11, column=8).number_format == "0.0%"
    assert sheet.cell(row=11, column=9).number_format == "0.0"

    about = [r for r in workbook["About"].iter_rows(values_only=True)]
    assert {r[0]: r[1] for r in about[:6]} == {"Report": values[0][0], **preamble}
    assert about[7][0] == "Definitions"
    assert ("On-time rate", "Replied on time divided by due.") in about[8:]


def test_the_xlsx_follows_the_filter(history, incb):
    response = incb.get("/timeliness/export.xlsx", {"year": "2025", "exporting": "FR"})
    sheet = load_workbook(io.BytesIO(response.content))["Timeliness"]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert {r[0]: r[1] for r in values[1:6]}["Exporting country"] == "France (FR)"
    assert values[8:] == [["KE", "Kenya", 1, 1, 1, 1, 0, 0.0, 25.4, 25.4, 0, 1.0, 1, 0, 0, 0]]


def test_the_exports_are_linked_from_the_page_with_its_choices(history, incb):
    body = incb.get("/timeliness/", {"year": "2025", "exporting": "FR", "country": "KE"}).content.decode()
    assert 'href="/timeliness/export.csv?year=2025&amp;exporting=FR"' in body
    assert 'href="/timeliness/export.xlsx?year=2025&amp;exporting=FR"' in body


def test_an_empty_period_exports_the_headings_only(incb, cast):
    lines = read_csv(incb.get("/timeliness/export.csv", {"year": "2024"}))
    assert lines[7] == HEADINGS and lines[8:] == []
