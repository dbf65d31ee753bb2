"""Issue 18, defect 9, in headless Chromium: an importing officer filters the list, sorts it
by a column heading, pages through it with the filter and order kept, sees which
notifications nobody of the authority has opened, and prints one on a single clean page.
Screenshots: docs/screenshots/notification-list-sorted-*.png, notification-print-*.png."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import services, views
from notifications.services import PartyData
from tests.browser import login, screenshot
from tests.conftest import PASSWORD
from tests.factories import file


def references(page) -> list[str]:
    return page.locator("tbody th a.ref").all_inner_texts()


def pdf_pages(page) -> int:
    """The number of A4 pages the browser prints the current page on."""
    document = page.pdf(format="A4", print_background=True)
    return len(re.findall(rb"/Type\s*/Page[^s]", document))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_officer_sorts_filters_pages_and_prints(page, live_server, cast):
    moment = timezone.now()
    made = [file(cast, now=moment - timedelta(days=i % 9)) for i in range(views.PAGE_SIZE + 4)]
    for n in made[:3]:
        services.respond(actor=cast.importer_officer, notification=n, decision="no_objection", now=moment)
    printed = file(
        cast,
        now=moment,
        transit_countries=["NL", "BE"],
        consignee=PartyData("Kumasi Pharma Distribution", "Adum Road 4\nKumasi", "GH-CON-19"),
        import_authorization_number="GH-IA-2026-0311",
    )
    services.acknowledge(actor=cast.importer_officer, notification=printed, now=moment)
    awaiting = [n for n in [*made[3:], printed]]
    for n in awaiting:
        n.refresh_from_db()

    login(page, live_server, "imp_officer", PASSWORD)
    page.goto(f"{live_server.url}/notifications/list/")
    # Nobody of the importing authority has opened any: each row says "New", in words.
    first_row = page.locator("tbody tr").first
    assert first_row.locator(".tag-new").inner_text().startswith("New")
    assert page.locator("tbody .tag-new").count() == views.PAGE_SIZE

    page.select_option("#id_status", "awaiting_reply")
    page.get_by_role("button", name="Show notifications").click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name="Reply due", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert "status=awaiting_reply" in page.url and "sort=reply_due" in page.url
    sorted_heading = page.locator("thead th[aria-sort]")
    assert sorted_heading.count() == 1
    assert sorted_heading.get_attribute("aria-sort") == "ascending"
    assert sorted_heading.inner_text().startswith("Reply due")
    ascending = [n.reference for n in sorted(awaiting, key=lambda n: (n.reply_due, n.pk))]
    assert references(page) == ascending[: views.PAGE_SIZE]
    assert page.locator("#id_sort").input_value() == "reply_due"  # the form keeps the order too
    screenshot(page, "notification-list-sorted-1280")

    # The next page goes on in the same order, still filtered.
    page.get_by_role("link", name="Next page").click()
    page.wait_for_load_state("networkidle")
    assert "status=awaiting_reply" in page.url and "sort=reply_due" in page.url and "page=2" in page.url
    assert references(page) == ascending[views.PAGE_SIZE :]
    assert page.locator("#id_status").input_value() == "awaiting_reply"

    # The heading again: the other way round, from the first page.
    page.get_by_role("link", name="Reply due", exact=True).click()  # sorted: now the other way
    page.wait_for_load_state("networkidle")
    assert "page=" not in page.url and "status=awaiting_reply" in page.url
    assert page.locator("thead th[aria-sort]").get_attribute("aria-sort") == "descending"
    descending = [n.reference for n in sorted(awaiting, key=lambda n: (n.reply_due, n.pk), reverse=True)]
    assert references(page) == descending[: views.PAGE_SIZE]

    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "notification-list-sorted-390")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Opened: no longer new, for this officer and the authority's other users.
    page.goto(f"{live_server.url}/notifications/list/?sort=-reference")
    row = page.locator("tbody tr", has=page.get_by_role("link", name=printed.reference, exact=True))
    assert row.locator(".tag-new").count() == 1
    row.get_by_role("link", name=printed.reference, exact=True).click()
    page.wait_for_load_state("networkidle")
    page.go_back()
    page.reload()
    row = page.locator("tbody tr", has=page.get_by_role("link", name=printed.reference, exact=True))
    assert row.locator(".tag-new").count() == 0

    # The print view, from the detail's "Print" link.
    page.goto(f"{live_server.url}{printed.get_absolute_url()}")
    page.get_by_role("link", name=f"Print {printed.reference}").click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/notifications/{printed.reference}/print/")
    assert page.get_by_role("button", name="Print this page").is_visible()  # static/js/print.js
    sheet = page.locator(".print-sheet")
    assert sheet.locator("h1").inner_text() == printed.reference
    assert sheet.locator("h2").all_inner_texts()[:2] == ["Parties", "Items"]
    screenshot(page, "notification-print-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "notification-print-390")
    page.set_viewport_size({"width": 1280, "height": 900})

    # On paper: the sheet alone, on one page; no header, menus, footer or buttons.
    page.emulate_media(media="print")
    assert sheet.is_visible()
    for hidden in (".site-header", ".site-footer", ".print-tools"):
        assert not page.locator(hidden).is_visible(), hidden
    assert pdf_pages(page) == 1
    screenshot(page, "notification-print-paper")

    # The detail printed from the browser: no menus, buttons or forms either.
    page.goto(f"{live_server.url}{printed.get_absolute_url()}")
    assert page.locator("h1").is_visible()
    for hidden in (".site-header", ".site-footer", "#actions form", "a.button"):
        assert not page.locator(hidden).first.is_visible(), hidden
