"""The notification story in headless Chromium: an exporter files through the real form
(two items, a transit country, review, send with confirmation); the importer sees it on
the dashboard, acknowledges, asks for information; the exporter answers and attaches the
permit; the transit authority reads it only; an outsider gets 404 on the page and the
attachment; the importer objects.
The screenshots in docs/screenshots/ are taken here."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import services
from notifications.models import EventKind, Notification, Status
from tests.browser import SCREENSHOTS, login, screenshot
from tests.conftest import PASSWORD
from tests.factories import file


def logout(page):
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state("networkidle")


def fill_filing_form(page, dispatch):
    page.select_option("#id_importing_country", "GH")
    page.select_option("#id_transit_1", "NL")
    page.fill("#id_exporter_name", "Chemie Export GmbH")
    page.fill("#id_exporter_address", "Industriestraße 1\n20095 Hamburg")
    page.fill("#id_exporter_licence_number", "DE-EXP-2026-118")
    page.fill("#id_importer_name", "Accra Pharma Ltd")
    page.fill("#id_importer_address", "12 Ring Road Central\nAccra")
    page.fill("#id_importer_licence_number", "GH-IMP-7")
    # The substance picker finds by CAS number as well as by name.
    page.fill("#id_items-0-substance_search", "299-42-3")
    assert page.locator("#id_items-0-substance option[value=ephedrine]").count() == 1
    assert page.locator("#id_items-0-substance option[value=pseudoephedrine]").count() == 0
    page.select_option("#id_items-0-substance", "ephedrine")
    page.fill("#id_items-0-quantity", "250")
    page.fill("#id_items-0-packages", "10 drums of 25 kg")
    page.fill("#id_point_of_exit", "Port of Hamburg")
    page.fill("#id_point_of_entry", "Port of Tema")
    page.select_option("#id_mode_of_transport", "sea")
    page.fill("#id_carrier", "Nordsee Lines")
    page.fill("#id_expected_dispatch", dispatch.isoformat())
    page.fill("#id_import_authorization_number", "GH-IA-2026-0311")
    page.fill("#id_national_reference", "EXP-2026-9001")
    page.fill("#id_end_use", "Manufacture of cough and cold syrups")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_exporter_files_and_sends_and_the_importer_replies(page, live_server, cast):
    now = timezone.now()
    # Some history, so the dashboards show what they are for.
    late = file(cast, now=now - timedelta(days=30), expected_dispatch=now.date() + timedelta(days=10))
    answered = file(cast, now=now - timedelta(days=3))
    services.respond(actor=cast.importer_officer, notification=answered, decision="no_objection", now=now)

    login(page, live_server, "exp_officer", PASSWORD)
    page.get_by_role("link", name="File a new notification").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="New pre-export notification").is_visible()
    fill_filing_form(page, now.date() + timedelta(days=21))

    # JavaScript adds the second item in place (the page does not reload).
    page.click("#add-item")
    assert page.locator("#id_items-1-substance").is_visible()
    assert page.evaluate("document.activeElement.id") == "id_items-1-substance_search"  # focus moves to it
    page.fill("#id_items-1-substance_search", "pseudo")
    page.select_option("#id_items-1-substance", "pseudoephedrine")
    page.select_option("#id_items-1-form", "preparation")
    page.fill("#id_items-1-trade_name", "Sudafed base 60")
    page.fill("#id_items-1-concentration_percent", "12.5")
    page.fill("#id_items-1-quantity", "40")
    page.fill("#id_items-1-packages", "4 cartons")
    screenshot(page, "filing-form")

    page.get_by_role("button", name="Review before sending").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="This draft has not been sent").is_visible()
    notification = Notification.objects.get(exporter_licence_number="DE-EXP-2026-118")
    assert notification.status == Status.DRAFT
    assert notification.items.count() == 2
    assert [t.country_id for t in notification.transits.all()] == ["NL"]

    page.get_by_role("link", name="Send to Ghana").click()
    page.wait_for_load_state("networkidle")
    assert "This cannot be undone" in page.content()
    page.get_by_role("button", name="Yes, send to Ghana").click()
    page.wait_for_load_state("networkidle")
    notification.refresh_from_db()
    assert notification.status == Status.AWAITING_REPLY
    assert page.get_by_text(f"{notification.reference} is sent to Ghana.").is_visible()
    logout(page)

    login(page, live_server, "imp_officer", PASSWORD)
    incoming = page.locator("section", has=page.get_by_role("heading", name="Incoming: awaiting a reply from us"))
    assert incoming.get_by_role("link", name=notification.reference).is_visible()
    rows = incoming.locator("tbody tr th a").all_inner_texts()
    assert rows.index(late.reference) < rows.index(notification.reference)  # overdue first
    screenshot(page, "dashboard")

    incoming.get_by_role("link", name=notification.reference).click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Acknowledge receipt").click()
    page.wait_for_load_state("networkidle")
    notification.refresh_from_db()
    assert notification.acknowledged_at is not None
    screenshot(page, "notification")

    # The importer asks a question; the reply clock stops.
    page.get_by_label("Request information from the exporting authority (stops the reply clock)").check()
    page.get_by_label("Comment").fill("Which plant will receive the pseudoephedrine preparation?")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state("networkidle")
    notification.refresh_from_db()
    assert notification.status == Status.INFORMATION_REQUESTED
    logout(page)

    # The exporter answers it, and attaches the import permit.
    login(page, live_server, "exp_officer", PASSWORD)
    page.goto(f"{live_server.url}/notifications/{notification.reference}/")
    page.get_by_label("Your answer").fill("Plant 3 of Accra Pharma, Spintex Road.")
    page.get_by_role("button", name="Send the answer").click()
    page.wait_for_load_state("networkidle")
    notification.refresh_from_db()
    assert notification.status == Status.AWAITING_REPLY
    permit = SCREENSHOTS.parent / "permit-for-test.pdf"
    permit.write_bytes(b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
    try:
        page.set_input_files("#id_file", str(permit))
        page.get_by_role("button", name="Attach the file").click()
        page.wait_for_load_state("networkidle")
    finally:
        permit.unlink()
    attachment = notification.attachments.get()
    logout(page)

    # The transit authority reads it and can do nothing to it.
    login(page, live_server, "transit_officer", PASSWORD)
    page.goto(f"{live_server.url}/notifications/{notification.reference}/")
    assert page.get_by_role("heading", name=notification.reference).is_visible()
    assert "Your country is on the route of this shipment" in page.content()
    assert page.get_by_role("button", name="Continue").count() == 0
    assert page.get_by_role("button", name="Acknowledge receipt").count() == 0
    logout(page)

    # An outsider is not even told it exists: 404 on the page and on its attachment.
    login(page, live_server, "out_officer", PASSWORD)
    assert page.goto(f"{live_server.url}/notifications/{notification.reference}/").status == 404
    assert (
        page.goto(f"{live_server.url}/notifications/{notification.reference}/attachments/{attachment.token}/").status
        == 404
    )
    page.goto(f"{live_server.url}/notifications/")  # the 404 page has no navigation to log out from
    logout(page)

    # The importer, answered, objects.
    login(page, live_server, "imp_officer", PASSWORD)
    page.goto(f"{live_server.url}/notifications/{notification.reference}/")
    page.get_by_label("Objection: the export should not proceed").check()
    page.get_by_label("Comment").fill(
        "The importer's licence does not cover pseudoephedrine preparations. Please do not ship."
    )
    page.locator("#actions").screenshot(path=str(SCREENSHOTS / "reply-form.png"))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state("networkidle")
    assert "This cannot be undone" in page.content()
    screenshot(page, "reply-confirmation")
    page.get_by_role("button", name="Yes, send this reply").click()
    page.wait_for_load_state("networkidle")

    notification.refresh_from_db()
    assert notification.status == Status.OBJECTION
    assert notification.events.filter(kind=EventKind.REPLIED, actor=cast.importer_officer).count() == 1
    assert page.locator(".status-line").get_by_text("Objection").is_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_filing_form_works_without_javascript(browser, live_server, cast):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        login(page, live_server, "exp_officer", PASSWORD)
        page.goto(f"{live_server.url}/notifications/new/")
        fill_filing_form_without_search(page, timezone.now().date() + timedelta(days=21))
        # Without JavaScript "Add another item" asks the server for one more row.
        page.get_by_role("button", name="Add another item").click()
        page.wait_for_load_state("networkidle")
        assert page.locator("#id_exporter_name").input_value() == "Chemie Export GmbH"
        page.select_option("#id_items-1-substance", "pseudoephedrine")
        page.fill("#id_items-1-quantity", "40")
        # A mistake is shown beside its field; nothing typed is lost.
        page.fill("#id_items-0-quantity", "0")
        page.get_by_role("button", name="Save as draft").click()
        page.wait_for_load_state("networkidle")
        assert page.get_by_role("alert").is_visible()
        assert "The quantity must be more than zero." in page.locator("#id_items-0-quantity_error").inner_text()
        assert page.locator("#id_items-1-quantity").input_value() == "40"
        assert not Notification.objects.exists()

        page.fill("#id_items-0-quantity", "250")
        page.get_by_role("button", name="Save as draft").click()
        page.wait_for_load_state("networkidle")
        notification = Notification.objects.get()
        assert notification.status == Status.DRAFT and notification.items.count() == 2
    finally:
        context.close()


def fill_filing_form_without_search(page, dispatch):
    page.select_option("#id_importing_country", "GH")
    page.fill("#id_exporter_name", "Chemie Export GmbH")
    page.fill("#id_exporter_address", "Industriestraße 1, Hamburg")
    page.fill("#id_importer_name", "Accra Pharma Ltd")
    page.fill("#id_importer_address", "12 Ring Road Central, Accra")
    page.select_option("#id_items-0-substance", "ephedrine")
    page.fill("#id_items-0-quantity", "250")
    page.fill("#id_point_of_exit", "Hamburg")
    page.fill("#id_point_of_entry", "Tema")
    page.select_option("#id_mode_of_transport", "sea")
    page.fill("#id_expected_dispatch", dispatch.isoformat())
    page.fill("#id_end_use", "Manufacture of cough syrup")
