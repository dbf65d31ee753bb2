"""Issue 18, defects 6 and 8, as a person meets them in headless Chromium: a refused form
says "Error:" in the page title and names what to do; the API-client form ticks no scope;
every secret shown once has a copy button that copies it and says "Copied" to a screen
reader (and without JavaScript stays plain, selectable text); pending invitations are sent
again or cancelled from the users page; the error and help pages fit a phone.
Screenshots in docs/screenshots/."""

import pytest
from django.conf import settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from accounts.models import ApiClient, Invitation
from accounts.oauth import INCB_ONLY_SCOPES
from messaging import webhooks
from tests.browser import login, screenshot
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def go(page, url):
    page.goto(url)
    page.wait_for_load_state("networkidle")


def submit(page, name):
    page.locator("main").get_by_role("button", name=name).click()
    page.wait_for_load_state("networkidle")


def fits_a_phone(page, name=None):
    """At 390 px the page does not scroll sideways (WCAG 1.4.10); its screenshot at both widths."""
    if name:
        screenshot(page, f"{name}-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    if name:
        screenshot(page, f"{name}-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert width <= 390, (page.url, width)


def clipboard_context(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    return context


def copies(page, button_name, target, expected):
    """Press the copy button beside ``target``: it says "Copied", so does the live region,
    and the clipboard holds exactly the secret."""
    button = page.locator(f"button[aria-controls={target}]")
    assert button.count() == 1
    expect(button).to_have_accessible_name(button_name)
    button.click()
    expect(button).to_have_text("Copied")  # set once the clipboard has taken the text
    status = page.locator("#copy-status")
    expect(status).to_have_text("Copied")
    assert status.get_attribute("aria-live") == "polite" and status.get_attribute("role") == "status"
    assert page.evaluate("navigator.clipboard.readText()") == expected


def test_the_api_client_form_and_its_secret(browser, live_server, cast):
    context = clipboard_context(browser, live_server)
    page = context.new_page()
    login(page, live_server, "exp_admin", PASSWORD)
    go(page, f"{live_server.url}/accounts/clients/new/")
    assert not page.title().startswith("Error:")
    boxes = page.locator("input[name=scopes]")
    national = [scope for scope in settings.API_SCOPES if scope not in INCB_ONLY_SCOPES]
    assert boxes.count() == len(national)  # every scope a national authority may hold
    assert not any(boxes.nth(i).is_checked() for i in range(boxes.count()))  # least privilege is chosen, not unticked

    submit(page, "Create the client")
    assert page.title().startswith("Error: Create an API client")
    summary = page.locator(".error-summary")
    assert summary.get_by_text("Give the client a name: which system uses it.").is_visible()
    assert summary.get_by_text("Choose at least one scope: what the system may do.", exact=False).is_visible()
    assert "This field is required." not in page.content()
    assert not ApiClient.objects.exists()
    fits_a_phone(page, "api-client-form-errors")

    page.fill("#id_name", "National licensing system")
    page.get_by_label("notifications:read", exact=False).check()
    submit(page, "Create the client")
    client = ApiClient.objects.get()
    assert client.scope_list == ["notifications:read"]
    assert not page.title().startswith("Error:")
    secret = page.locator("#client-secret").inner_text()
    assert len(secret) > 40
    copies(page, "Copy the client secret", "client-secret", secret)
    copies(page, "Copy the client ID", "client-id", client.application.client_id)
    fits_a_phone(page, "api-client-created")
    context.close()

    # Without JavaScript: the secret is there as plain text to select, and no dead button.
    plain = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page = plain.new_page()
    login(page, live_server, "exp_admin", PASSWORD)
    go(page, f"{live_server.url}/accounts/clients/new/")
    page.fill("#id_name", "Second system")
    page.get_by_label("statistics:read", exact=False).check()
    submit(page, "Create the client")
    assert page.locator("#client-secret").is_visible()
    assert len(page.locator("#client-secret").inner_text()) > 40
    assert page.get_by_role("button", name="Copy the client secret").count() == 0
    plain.close()


def test_the_webhook_signing_secret_and_the_recovery_codes_can_be_copied(browser, live_server, cast, monkeypatch):
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["93.184.216.34"])
    context = clipboard_context(browser, live_server)
    page = context.new_page()
    login(page, live_server, "exp_admin", PASSWORD)

    go(page, f"{live_server.url}/webhooks/")
    page.fill("#id_url", "https://lis.example.org/pen-hook")
    page.locator("input[name=events]").first.check()
    submit(page, "Register the endpoint")
    secret = page.locator("#webhook-secret").inner_text()
    assert len(secret) > 20
    copies(page, "Copy the signing secret", "webhook-secret", secret)

    # Two-factor setup: the key (copied without the spaces it is shown with), then the codes.
    go(page, f"{live_server.url}/accounts/two-factor/setup/")
    device = TOTPDevice.objects.get(user=cast.exporter_admin)
    shown = page.locator("#totp-key").inner_text()
    copies(page, "Copy the key", "totp-key", shown.replace(" ", ""))
    page.fill("#id_token", f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}")
    submit(page, "Confirm and turn on")
    codes = page.locator(".recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    copies(page, "Copy the codes", "recovery-codes", "\n".join(code.strip() for code in codes))
    fits_a_phone(page, "recovery-codes-copy")
    context.close()


def test_an_administrator_resends_and_cancels_an_invitation_and_a_refused_invite_says_error(page, live_server, cast):
    login(page, live_server, "exp_admin", PASSWORD)
    go(page, f"{live_server.url}/accounts/users/invite/")
    assert page.title() == "Invite a user · PEN Portal"
    page.fill("#id_email", "k.neumann")
    submit(page, "Send the invitation")
    assert page.title() == "Error: Invite a user · PEN Portal"
    assert page.locator(".error-summary").get_by_text("Enter the person's e-mail address in full").is_visible()
    fits_a_phone(page, "invite-errors")

    page.fill("#id_email", "k.neumann@example.org")
    submit(page, "Send the invitation")
    assert page.url.endswith("/accounts/users/") and not page.title().startswith("Error:")
    first = Invitation.objects.get()

    submit(page, "Send again to k.neumann@example.org")
    assert page.get_by_text("A new invitation was sent to k.neumann@example.org").is_visible()
    first.refresh_from_db()
    assert first.revoked_by == cast.exporter_admin
    fresh = Invitation.objects.get(replaces=first)
    fits_a_phone(page, "users-invitations")

    page.get_by_role("link", name="Cancel the invitation to k.neumann@example.org").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Cancel the invitation to k.neumann@example.org?").is_visible()
    fits_a_phone(page)
    submit(page, "Yes, cancel the invitation")
    assert page.get_by_text("The invitation to k.neumann@example.org is cancelled").is_visible()
    assert page.get_by_text("k.neumann@example.org", exact=True).count() == 0
    fresh.refresh_from_db()
    assert fresh.revoked_at is not None


def test_the_error_and_help_pages_in_the_browser(page, live_server, cast):
    """Found as a person finds them (the footer, the header's Help); their screenshots and
    axe checks are tests/test_every_page_browser.py's (help-*, accessibility, error-*)."""
    go(page, f"{live_server.url}/accounts/login/")
    page.locator("footer").get_by_role("link", name="Accessibility").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Accessibility statement").is_visible()
    fits_a_phone(page)
    page.locator("footer").get_by_role("link", name="Privacy").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Privacy notice").is_visible()
    fits_a_phone(page)
    login(page, live_server, "imp_officer", PASSWORD)
    page.locator("header").get_by_role("link", name="Help").click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name="Importing officers").first.click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name="Help for Importing officers").is_visible()
    assert page.get_by_role("term").filter(has_text="Information requested").is_visible()
    assert page.locator("header").get_by_role("link", name="Help").get_attribute("aria-current") == "page"
    fits_a_phone(page)
    go(page, f"{live_server.url}/accounts/logout/")
    assert page.get_by_role("heading", name="This address is for a button").is_visible()
    assert page.title().startswith("This address is for a button")
    fits_a_phone(page)
    go(page, f"{live_server.url}/notifications/XX-2026-999999/")
    assert page.get_by_role("heading", name="Page not found").is_visible()
    fits_a_phone(page)
