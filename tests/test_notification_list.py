"""Issue 18, defect 9: what a case worker expects of the notification list. Sortable
columns (a fixed set of keys, aria-sort on the sorted one, a tie-breaker so pages never
overlap), filters and order kept in the URL through pagination and sorting, bad values said
on the page; a CSV and XLSX export of exactly the listed rows; "new" markers until someone
of the authority opens the notification; a print view of one notification."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from notifications import services, views
from notifications.models import EventKind, NotificationRead
from notifications.services import PartyData
from tests.factories import file
from tests.test_notification_pages import text

pytestmark = pytest.mark.django_db

LIST = "/notifications/list/"


def now():
    return timezone.now()


@pytest.fixture
def login(client):
    def as_user(user):
        client.logout()
        client.force_login(user)
        return client

    return as_user


def listed(response) -> list[str]:
    assert response.status_code == 200
    return [n.reference for n in response.context["page"].object_list]


def every_page(client, params) -> list[str]:
    """The references of every page of the list, following its own "Next page" links."""
    response = client.get(LIST, params)
    references = listed(response)
    while (found := re.search(r'<a href="(\?[^"]*)" rel="next">', response.content.decode())) is not None:
        response = client.get(LIST + found.group(1).replace("&amp;", "&"))
        references += listed(response)
    return references


def headings(response) -> dict[str, dict]:
    """Column heading text -> its aria-sort (or None) and its link (or None)."""
    found = {}
    for attrs, inner in re.findall(r"<th scope=\"col\"([^>]*)>(.*?)</th>", response.content.decode(), flags=re.S):
        label = re.sub(r"<span class=\"visually-hidden\">.*?</span>|<[^>]+>|[▲▼]", "", inner).strip()
        sort = re.search(r'aria-sort="(\w+)"', attrs)
        link = re.search(r'href="([^"]+)"', inner)
        found[label] = {
            "aria-sort": sort.group(1) if sort else None,
            "link": link.group(1).replace("&amp;", "&") if link else None,
        }
    return found


@pytest.fixture
def spread(cast):
    """Seven notifications DE -> GH, sent on different days (so different reply-due dates),
    in several statuses, and one draft."""
    start = now()
    made = []
    for days in (9, 2, 14, 5, 0, 11, 7):
        made.append(file(cast, now=start - timedelta(days=days)))
    services.respond(actor=cast.importer_officer, notification=made[1], decision="no_objection", now=start)
    services.respond(actor=cast.importer_officer, notification=made[3], decision="objection", comment="x", now=start)
    services.withdraw(actor=cast.exporter_officer, notification=made[5], reason="cancelled", now=start)
    draft = file(cast, now=start, draft=True)
    for n in made:
        n.refresh_from_db()
    return made, draft


# --- sorting ---------------------------------------------------------------------------------


def test_each_column_sorts_both_ways_with_aria_sort_on_it_only(login, cast, spread):
    made, draft = spread
    client = login(cast.exporter_officer)
    everything = [*made, draft]
    by_pk = sorted(everything, key=lambda n: n.pk)

    def expected(key, reverse=False):
        # Empty values (the draft's reply-due and sent dates) last, both ways.
        present = [n for n in by_pk if key(n) is not None]
        present.sort(key=key, reverse=reverse)
        if reverse:  # the tie-breaker follows the direction
            present = sorted(present, key=lambda n: (key(n), n.pk), reverse=True)
        return [n.reference for n in present + [n for n in by_pk if key(n) is None]]

    reply_due = lambda n: n.reply_due  # noqa: E731
    assert listed(client.get(LIST, {"sort": "reply_due"})) == expected(reply_due)
    assert listed(client.get(LIST, {"sort": "-reply_due"})) == expected(reply_due, reverse=True)
    sent = lambda n: n.submitted_at  # noqa: E731
    assert listed(client.get(LIST, {"sort": "sent"})) == expected(sent)
    assert listed(client.get(LIST, {"sort": "-sent"})) == expected(sent, reverse=True)
    assert listed(client.get(LIST, {"sort": "reference"})) == sorted(n.reference for n in everything)
    assert listed(client.get(LIST, {"sort": "-reference"})) == sorted((n.reference for n in everything), reverse=True)
    # Statuses in the order a notification lives them, not by their codes' alphabet.
    statuses = [r for r in listed(client.get(LIST, {"sort": "status"}))]
    by_reference = {n.reference: n for n in everything}
    order = ["draft", "awaiting_reply", "information_requested", "no_objection", "objection", "withdrawn"]
    ranks = [order.index(by_reference[r].status) for r in statuses]
    assert ranks == sorted(ranks) and ranks[0] == 0 and ranks[-1] == 5

    page = client.get(LIST, {"sort": "-reply_due"})
    columns = headings(page)
    assert columns["Reply due"]["aria-sort"] == "descending"
    assert [label for label, c in columns.items() if c["aria-sort"]] == ["Reply due"]
    # Its link turns the order round; another column's sorts by it, ascending.
    assert "sort=reply_due" in columns["Reply due"]["link"]
    assert "sort=reference" in columns["Reference"]["link"]
    assert columns["Items"]["link"] is None  # several values per row: not sortable
    assert headings(client.get(LIST, {"sort": "reply_due"}))["Reply due"]["aria-sort"] == "ascending"
    assert "sort=-reply_due" in headings(client.get(LIST, {"sort": "reply_due"}))["Reply due"]["link"]
    # By default, the newest first, as before, and no column claims to be sorted.
    default = client.get(LIST)
    assert listed(default) == [
        n.reference for n in sorted(everything, key=lambda n: (n.created_at, n.pk), reverse=True)
    ]
    assert not any(c["aria-sort"] for c in headings(default).values())


def test_rows_with_the_same_value_keep_one_order_across_pages(login, cast):
    moment = now()
    made = [file(cast, now=moment) for _ in range(views.PAGE_SIZE + 3)]  # one reply-due date for all
    client = login(cast.exporter_officer)
    for sort in ("reply_due", "-reply_due", "status", "route"):
        seen = every_page(client, {"sort": sort})
        assert len(seen) == len(set(seen)) == len(made), sort  # no row twice, none lost between pages
        ordered = [n.reference for n in sorted(made, key=lambda n: n.pk, reverse=sort.startswith("-"))]
        assert seen == ordered, sort


def test_an_unknown_sort_or_page_is_said_on_the_page(login, cast, spread):
    client = login(cast.exporter_officer)
    response = client.get(LIST, {"sort": "exporter_address"})  # a column, but not one of the keys
    assert response.status_code == 200
    assert "Order: Choose an order from the list." in text(response)
    assert listed(response) == []
    response = client.get(LIST, {"page": "99"})
    assert "There is no page “99” of this list (pages 1 to 1). This is the first page." in text(response)
    response = client.get(LIST, {"page": "two"})
    assert "There is no page “two”" in text(response)
    response = client.get(LIST, {"sent_from": "2026-05-10", "sent_to": "2026-05-01"})
    assert "Sent on or before: Enter a date on or after the “sent on or after” date" in text(response)


# --- filters in the URL ------------------------------------------------------------------------


def test_filters_and_order_survive_pagination_and_sorting(login, cast):
    moment = now()
    awaiting = [file(cast, now=moment - timedelta(days=i % 5)) for i in range(views.PAGE_SIZE + 4)]
    answered = file(cast, now=moment)
    services.respond(actor=cast.importer_officer, notification=answered, decision="no_objection", now=moment)
    client = login(cast.importer_officer)
    params = {"status": "awaiting_reply", "role": "importing", "sort": "-reply_due"}

    first = client.get(LIST, params)
    html = first.content.decode()
    # The form shows the order it lists in, so "Show notifications" keeps it.
    assert re.search(r'<option value="-reply_due" selected>', html)
    assert re.search(r'<option value="awaiting_reply" selected>', html)
    # The next page keeps the filters and the order.
    next_link = re.search(r'<a href="(\?[^"]*)" rel="next">', html).group(1).replace("&amp;", "&")
    for kept in ("status=awaiting_reply", "role=importing", "sort=-reply_due", "page=2"):
        assert kept in next_link
    # Sorting by another column keeps the filters, and starts again at the first page.
    sort_link = headings(client.get(LIST + next_link))["Reference"]["link"]
    assert "status=awaiting_reply" in sort_link and "role=importing" in sort_link
    assert "sort=reference" in sort_link and "page=" not in sort_link

    references = every_page(client, params)
    assert answered.reference not in references
    expected = sorted(awaiting, key=lambda n: (n.reply_due, n.pk), reverse=True)
    assert references == [n.reference for n in expected]
    resorted = listed(client.get(LIST + sort_link))
    assert resorted == sorted(n.reference for n in awaiting)[: views.PAGE_SIZE]


# --- exports ---------------------------------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="notifications-')
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def xlsx_rows(response) -> list[list]:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


HEADINGS = [
    "Reference",
    "Exporting authority's reference",
    "Status",
    "Exporting country",
    "Exporting authority",
    "Exporter",
    "Importing country",
    "Importer",
    "Items",
    "Reply due",
    "Sent (UTC)",
    "Kind",
]


def test_the_exports_hold_exactly_the_listed_rows_of_every_page_in_order(login, cast):
    moment = now()
    made = [file(cast, now=moment - timedelta(days=i % 7)) for i in range(views.PAGE_SIZE + 5)]
    for n in made[:4]:
        services.respond(actor=cast.importer_officer, notification=n, decision="no_objection", now=moment)
    file(cast, now=moment, draft=True)  # never the importer's
    client = login(cast.importer_officer)
    params = {"status": "awaiting_reply", "sort": "reply_due", "substance": "ephedrine"}
    shown = every_page(client, params)
    assert len(shown) == views.PAGE_SIZE + 1  # two pages

    rows = csv_rows(client.get(reverse("notifications:list_csv"), params))
    assert rows[0] == HEADINGS
    assert [row[0] for row in rows[1:]] == shown
    sheet = xlsx_rows(client.get(reverse("notifications:list_xlsx"), params))
    assert list(sheet[0]) == HEADINGS
    assert [row[0] for row in sheet[1:]] == shown

    # A row as a person reads it; dates in ISO 8601.
    first = next(n for n in made if n.reference == shown[0])
    first.refresh_from_db()
    assert rows[1] == [
        first.reference,
        first.national_reference,
        "Awaiting reply",
        "Germany",
        "Federal Opium Agency (DE)",
        "Chemie Export GmbH",
        "Ghana",
        "Accra Pharma Ltd",
        "Ephedrine 250 kg",
        first.reply_due.isoformat(),
        first.submitted_at.replace(microsecond=0).isoformat(),
        "scheduled",
    ]
    assert sheet[1][9].date() == first.reply_due  # a date cell, shown yyyy-mm-dd
    assert sheet[1][10] == first.submitted_at.replace(microsecond=0, tzinfo=None)

    # Another authority's export lists what its list lists: nothing of these.
    outsider = login(cast.outsider_officer)
    assert csv_rows(outsider.get(reverse("notifications:list_csv"), params)) == [HEADINGS]
    assert xlsx_rows(outsider.get(reverse("notifications:list_xlsx"))) == [HEADINGS]


def test_an_export_past_the_bound_or_with_a_bad_filter_goes_back_to_the_list_saying_why(
    login, cast, spread, monkeypatch
):
    client = login(cast.exporter_officer)
    monkeypatch.setattr(views, "EXPORT_MAX_ROWS", 3)
    response = client.get(reverse("notifications:list_csv"), {"status": "awaiting_reply"})
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?status=awaiting_reply"
    page = client.get(response["Location"])
    assert "These filters list 4 notifications; an export holds at most 3." in text(page)
    assert "This list is too long to download at once (at most 3 notifications)" in text(page)
    assert 'href="/notifications/list/export.csv' not in page.content.decode()
    assert client.get(reverse("notifications:list_xlsx"), {"status": "awaiting_reply"}).status_code == 302
    # At the bound, it is exported.
    assert len(csv_rows(client.get(reverse("notifications:list_csv"), {"status": "withdrawn"}))) == 2

    bad = client.get(reverse("notifications:list_csv"), {"sort": "nonsense"})
    assert bad.status_code == 302
    assert "Choose an order from the list." in text(client.get(bad["Location"]))

    monkeypatch.setattr(views, "EXPORT_MAX_ROWS", 10_000)
    listing = client.get(LIST, {"status": "awaiting_reply", "sort": "sent", "page": "1"}).content.decode()
    # The list links to the export of what it shows (every page: no page in the link).
    assert 'href="/notifications/list/export.csv?status=awaiting_reply&amp;sort=sent"' in listing
    assert 'href="/notifications/list/export.xlsx?status=awaiting_reply&amp;sort=sent"' in listing


@pytest.mark.parametrize("typed", ['=HYPERLINK("http://evil.example","x")', "+1+2", "-3+4", "@SUM(A1)"])
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_quoted(login, cast, typed):
    n = file(cast, now=now(), exporter=PartyData(typed, "Somewhere 1", "DE-EXP-1"))
    client = login(cast.importer_officer)
    rows = csv_rows(client.get(reverse("notifications:list_csv")))
    assert rows[1][0] == n.reference
    assert rows[1][5] == "'" + typed
    sheet = load_workbook(io.BytesIO(client.get(reverse("notifications:list_xlsx")).content)).active
    cell = sheet.cell(row=2, column=6)
    assert cell.value == "'" + typed and cell.data_type == "s"  # text, never a formula


# --- "new" markers -------------------------------------------------------------------------------


def has_new_badge(client, path, reference) -> bool:
    html = client.get(path).content.decode()
    row = re.search(rf">{re.escape(reference)}</a>(.*?)</th>", html, flags=re.S)
    assert row is not None, f"{reference} not on {path}"
    return 'class="tag tag-new">New' in row.group(1)


def test_new_until_someone_of_the_authority_opens_it_whoever_else_does(login, cast):
    n = file(cast, now=now())
    draft = file(cast, now=now(), draft=True)
    importer = login(cast.importer_officer)
    assert has_new_badge(importer, LIST, n.reference)
    assert has_new_badge(importer, "/notifications/", n.reference)  # the dashboard too

    # Another authority (the transit country) opening it changes nothing for the importer...
    login(cast.transit_officer).get(n.get_absolute_url())
    assert has_new_badge(login(cast.importer_officer), LIST, n.reference)
    # ...nor does an outsider, who gets the 404 and records nothing.
    assert login(cast.outsider_officer).get(n.get_absolute_url()).status_code == 404
    assert not NotificationRead.objects.filter(authority=cast.outsider).exists()
    # A colleague of the importing authority opens it: no longer new, for any of them.
    assert login(cast.importer_viewer).get(n.get_absolute_url()).status_code == 200
    assert not has_new_badge(login(cast.importer_officer), LIST, n.reference)
    assert not has_new_badge(login(cast.importer_officer), "/notifications/", n.reference)
    # For the transit authority, opened by its officer above: not new either.
    assert not has_new_badge(login(cast.transit_officer), LIST, n.reference)
    assert has_new_badge(login(cast.incb_reviewer), LIST, n.reference)

    # The exporter filed both: neither its draft nor its sent notification is new to it.
    exporter = login(cast.exporter_officer)
    assert not has_new_badge(exporter, LIST, n.reference)
    assert not has_new_badge(exporter, LIST, draft.reference)
    assert not has_new_badge(exporter, "/notifications/", draft.reference)


def test_opening_is_recorded_once_with_who_and_when(login, cast):
    n = file(cast, now=now())
    login(cast.importer_viewer).get(n.get_absolute_url())
    first = NotificationRead.objects.get(notification=n, authority=cast.importer)
    login(cast.importer_officer).get(n.get_absolute_url())
    login(cast.importer_viewer).get(n.get_absolute_url())
    assert NotificationRead.objects.filter(notification=n).count() == 1
    again = NotificationRead.objects.get(notification=n, authority=cast.importer)
    assert (again.by, again.first_opened_at) == (cast.importer_viewer, first.first_opened_at)
    assert not n.events.filter(kind="opened").exists()  # reading is not a timeline event


# --- the print view -------------------------------------------------------------------------------


def test_the_print_view_puts_the_reference_and_parties_first(login, cast):
    moment = now()
    n = file(
        cast,
        now=moment,
        consignee=PartyData("Kumasi Pharma", "Adum, Kumasi", "GH-CON-1"),
        import_authorization_number="GH-IA-77",
    )
    services.respond(actor=cast.importer_officer, notification=n, decision="no_objection", comment="Fine", now=moment)
    client = login(cast.transit_officer)
    detail = client.get(n.get_absolute_url()).content.decode()
    assert f'href="/notifications/{n.reference}/print/"' in detail

    response = client.get(f"/notifications/{n.reference}/print/")
    assert response.status_code == 200
    page = text(response)
    sheet = page[page.index(n.reference, page.index("Print this page")) :]  # the sheet, after the tools
    order = [
        n.reference,
        "Parties",
        "Federal Opium Agency (DE)",
        "Food and Drugs Authority (GH)",
        "Chemie Export GmbH",
        "Accra Pharma Ltd",
        "Kumasi Pharma",
        "Items",
        "Ephedrine",
        "Route and shipment",
        "Netherlands (transit)",
        "Status and dates",
        "Final reply",
        "Timeline in short",
        "Sent to the importing country",
        "Printed from the PEN Portal",
    ]
    positions = [sheet.find(fragment) for fragment in order]
    assert -1 not in positions, [f for f, p in zip(order, positions, strict=True) if p == -1]
    assert positions == sorted(positions), order
    assert "GH-IA-77" in sheet
    assert "by transit_officer, Farmatec (NL)." in sheet[sheet.index("Printed from") :]


def test_the_print_view_is_seen_by_whoever_sees_the_detail_and_shows_the_same_events(login, cast):
    moment = now()
    n = file(cast, now=moment)
    services.record_event(n, EventKind.FOLLOWED_UP, now=moment, actor=cast.incb_reviewer, detail="Called")
    draft = file(cast, now=moment, draft=True)
    path = f"/notifications/{n.reference}/print/"
    missing_path = "/notifications/DE-2099-999999/print/"
    missing = login(cast.outsider_officer).get(missing_path)
    hidden = login(cast.outsider_officer).get(path)
    assert hidden.status_code == missing.status_code == 404
    # The same page as for no such notification (but for the address asked for, if shown).
    assert text(hidden).replace(n.reference, "REF") == text(missing).replace("DE-2099-999999", "REF")
    assert login(cast.importer_officer).get(f"/notifications/{draft.reference}/print/").status_code == 404
    assert login(cast.exporter_officer).get(f"/notifications/{draft.reference}/print/").status_code == 200
    # INCB's follow-up is INCB's record: on its print, not on the importer's.
    assert "Followed up by INCB" in text(login(cast.incb_reviewer).get(path))
    assert "Followed up by INCB" not in text(login(cast.importer_officer).get(path))
    anonymous = login(cast.importer_officer)
    anonymous.logout()
    response = anonymous.get(path)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
