"""Issue 18, defect 2, in headless Chromium: an unfinished filing form saves as a draft,
Enter in a field neither saves nor sends (with and without JavaScript), and the draft's
page and its edit page say what sending still needs. Screenshots at 1280 and 390 px."""

import pytest

from notifications.models import Notification, Status
from tests.browser import login, screenshot
from tests.conftest import PASSWORD

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def watch_posts(page) -> list[str]:
    """Every form submission the page makes from now on (a POST is the only way the filing
    form can save or send)."""
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    return posts


def press_enter_in(page, selector):
    page.focus(selector)
    page.keyboard.press("Enter")
    page.wait_for_timeout(700)  # long enough for a submission to have left


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_unfinished_form_saves_as_a_draft_and_enter_submits_nothing(page, live_server, cast):
    login(page, live_server, "exp_officer", PASSWORD)
    page.goto(f"{live_server.url}/notifications/new/")
    new_url = page.url
    page.fill("#id_importer_name", "Accra Pharma Ltd")
    page.fill("#id_end_use", "Manufacture of cough syrup")
    page.fill("#id_items-0-quantity", "250")

    # Enter in a text input: nothing is posted, the page stays, no draft, no message.
    posts = watch_posts(page)
    press_enter_in(page, "#id_importer_name")
    press_enter_in(page, "#id_items-0-quantity")
    press_enter_in(page, "#id_items-0-substance_search")  # the picker's search box (JavaScript's)
    press_enter_in(page, "#id_expected_dispatch")  # Chromium's date input presses another button
    press_enter_in(page, "#id_importing_country")
    assert posts == []
    assert page.url == new_url
    assert not Notification.objects.exists()
    assert page.locator("fieldset.item").count() == 1  # nor did it add an item
    assert page.locator(".messages").count() == 0 and page.locator("#error-summary").count() == 0
    # Enter in a text area still starts a new line.
    page.focus("#id_end_use")
    page.keyboard.press("End")
    page.keyboard.press("Enter")
    page.keyboard.type("in Accra")
    assert page.input_value("#id_end_use") == "Manufacture of cough syrup\nin Accra"
    assert posts == [] and not Notification.objects.exists()

    page.get_by_role("button", name="Save as draft").click()
    page.wait_for_load_state("networkidle")
    draft = Notification.objects.get()
    assert page.url == f"{live_server.url}{draft.get_absolute_url()}"
    assert page.locator("#error-summary").count() == 0
    assert page.get_by_text(f"The draft {draft.reference} is saved.").is_visible()
    assert draft.status == Status.DRAFT and draft.importing_country is None
    assert draft.importer_name == "Accra Pharma Ltd"
    assert draft.end_use.splitlines() == ["Manufacture of cough syrup", "in Accra"]  # the browser posts CR LF
    # The draft's page: what sending still needs, each a link to its field, no "Send" button.
    problems = page.locator("#sending-problems")
    assert problems.get_by_role("link", name="Exporter — Name: Give the name.").is_visible()
    assert page.get_by_role("link", name="Send to").count() == 0
    screenshot(page, "draft-incomplete")
    page.set_viewport_size(PHONE)
    screenshot(page, "draft-incomplete-390")
    page.set_viewport_size(DESKTOP)

    # Reopened: everything typed is there; "Complete the draft" marks what is missing.
    page.get_by_role("link", name="Complete the draft").click()
    page.wait_for_load_state("networkidle")
    assert page.input_value("#id_importer_name") == "Accra Pharma Ltd"
    assert page.input_value("#id_items-0-quantity") == "250.000"
    assert "Give the name." in page.locator("#id_exporter_name_error").inner_text()
    assert page.locator("#id_importer_name_error").count() == 0
    screenshot(page, "draft-complete-the-fields")
    page.set_viewport_size(PHONE)
    screenshot(page, "draft-complete-the-fields-390")
    page.set_viewport_size(DESKTOP)

    # Enter on the edit page saves nothing either.
    edit_url, version = page.url, draft.version
    posts.clear()
    page.fill("#id_exporter_name", "Chemie Export GmbH")
    press_enter_in(page, "#id_exporter_name")
    assert posts == [] and page.url == edit_url
    draft.refresh_from_db()
    assert draft.version == version and draft.exporter_name == ""


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_enter_submits_nothing_without_javascript(browser, live_server, cast):
    context = browser.new_context(java_script_enabled=False, viewport=DESKTOP)
    page = context.new_page()
    try:
        login(page, live_server, "exp_officer", PASSWORD)
        page.goto(f"{live_server.url}/notifications/new/")
        new_url = page.url
        posts = watch_posts(page)
        page.fill("#id_exporter_name", "Chemie Export GmbH")
        press_enter_in(page, "#id_exporter_name")
        page.fill("#id_expected_dispatch", "2031-01-15")
        press_enter_in(page, "#id_expected_dispatch")
        assert posts == [] and page.url == new_url
        assert not Notification.objects.exists()

        page.get_by_role("button", name="Save as draft").click()
        page.wait_for_load_state("networkidle")
        draft = Notification.objects.get()
        assert draft.exporter_name == "Chemie Export GmbH" and draft.status == Status.DRAFT
        assert str(draft.expected_dispatch) == "2031-01-15"
    finally:
        context.close()
