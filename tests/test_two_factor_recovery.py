"""Two-factor recovery (issue 16, finding 9): single-use recovery codes, kept only as
hashes, shown once; the verify page's second option; and an administrator's reset of a
member's lost authenticator, recorded and e-mailed to the member."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import models, services
from accounts.models import LoginSession
from tests.conftest import PASSWORD
from tests.test_two_factor import code_for, confirmed_device, wrong_code_for

CODE_SHAPE = re.compile(r"^[a-z2-9]{5}-[a-z2-9]{5}$")
RECOVERY_URL = "/accounts/two-factor/verify/recovery/"
REGENERATE_URL = "/accounts/two-factor/recovery-codes/"


@pytest.fixture
def require_2fa(settings):
    settings.PEN_REQUIRE_2FA = True


@pytest.fixture
def slow_throttle(settings):
    """A minute's wait after one wrong code, so a test never races django-otp's delay."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 60


def enrolled(user):
    """A confirmed authenticator and a fresh set of recovery codes."""
    device = confirmed_device(user)
    codes = services.issue_recovery_codes(user=user, now=timezone.now())
    return device, codes


def wait_out_the_throttle(user):
    """As if the wait after a wrong code had passed (the count stays)."""
    past = timezone.now() - timedelta(hours=1)
    TOTPDevice.objects.filter(user=user).update(throttling_failure_timestamp=past)


def verify_with_totp(client, device):
    response = client.post("/accounts/two-factor/verify/", {"token": code_for(device)})
    assert response.status_code == 302, response


# --- codes shown once, stored hashed ------------------------------------------------------


def test_confirming_the_authenticator_shows_ten_codes_once_and_keeps_only_their_hashes(client, cast):
    user = cast.exporter_officer
    client.force_login(user)
    client.get("/accounts/two-factor/setup/")
    device = TOTPDevice.objects.get(user=user)

    response = client.post("/accounts/two-factor/setup/", {"token": code_for(device), "next": "/notifications/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/two-factor/recovery-codes/new/?next=%2Fnotifications%2F"
    assert not models.RecoveryCode.objects.filter(user=user).exists()

    response = client.get(response["Location"])
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    codes = response.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(CODE_SHAPE.match(code) for code in codes)
    page = response.content.decode()
    assert all(code in page for code in codes)
    assert "somewhere safe" in page
    assert 'href="/notifications/"' in page
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.session["otp_device_id"] == device.persistent_id

    rows = list(models.RecoveryCode.objects.filter(user=user).values())
    assert len(rows) == 10
    stored = " ".join(str(value) for row in rows for value in row.values())
    for code in codes:
        assert code not in stored and code.replace("-", "") not in stored
    assert len({row["code_hash"] for row in rows}) == 10
    assert len({row["salt"] for row in rows}) == 10
    event = models.SecurityEvent.objects.get(user=user)
    assert event.kind == models.SecurityEvent.Kind.RECOVERY_CODES_ISSUED and event.actor == user

    # Shown once: reloading the page, or any later page, shows them no more.
    again = client.get("/accounts/two-factor/recovery-codes/new/", follow=True)
    assert again.redirect_chain[0] == (REGENERATE_URL, 302)
    later = again.content.decode()
    assert "shown once already" in later
    assert not any(code in later for code in codes)
    assert models.RecoveryCode.objects.filter(user=user).count() == 10


# --- signing in with a recovery code ---------------------------------------------------------


def test_the_verify_page_offers_a_recovery_code_which_signs_in_once_and_never_twice(client, cast, require_2fa):
    user = cast.exporter_officer
    device, codes = enrolled(user)
    client.force_login(user)
    page = client.get("/accounts/two-factor/verify/?next=/notifications/").content.decode()
    assert "Use a recovery code" in page and RECOVERY_URL in page
    # The 2FA gate lets the recovery page through.
    assert client.get(RECOVERY_URL).status_code == 200

    # Typed loosely: capitals and spaces instead of the hyphen.
    typed = codes[3].upper().replace("-", " ")
    response = client.post(RECOVERY_URL, {"code": typed, "next": "/notifications/"}, follow=True)
    assert response.redirect_chain[0] == ("/notifications/", 302)
    assert response.status_code == 200
    assert "9 recovery codes left" in response.content.decode()
    assert client.session["otp_device_id"] == device.persistent_id
    used = models.RecoveryCode.objects.get(user=user, used_at__isnull=False)
    assert used.matches(codes[3])
    assert (
        models.SecurityEvent.objects.filter(user=user, kind=models.SecurityEvent.Kind.RECOVERY_CODE_USED).count() == 1
    )

    # The same code in another session fails.
    other = client.__class__()
    other.force_login(user)
    response = other.post(RECOVERY_URL, {"code": codes[3]})
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    assert "otp_device_id" not in other.session
    assert other.get("/notifications/").status_code == 302
    # Another, unused, code still works (once the wait after the wrong one is over).
    wait_out_the_throttle(user)
    assert other.post(RECOVERY_URL, {"code": codes[4]}).status_code == 302


def test_two_uses_of_one_code_at_once_cannot_both_succeed(cast, monkeypatch):
    """The claim is a conditional UPDATE on the unused row: when another request uses the
    code between this one reading it and claiming it, this one fails."""
    user = cast.exporter_officer
    _device, codes = enrolled(user)
    now = timezone.now()
    real_matches = models.RecoveryCode.matches

    def matches_then_lose_the_race(self, raw):
        result = real_matches(self, raw)
        if result:
            models.RecoveryCode.objects.filter(pk=self.pk).update(used_at=now)  # the other request
        return result

    monkeypatch.setattr(models.RecoveryCode, "matches", matches_then_lose_the_race)
    attempt = services.use_recovery_code(user=user, code=codes[0], now=now)
    assert attempt.device is None
    assert models.RecoveryCode.objects.filter(user=user, used_at__isnull=True).count() == 9

    monkeypatch.setattr(models.RecoveryCode, "matches", real_matches)
    wait_out_the_throttle(user)
    assert services.use_recovery_code(user=user, code=codes[0], now=now).device is None
    wait_out_the_throttle(user)
    assert services.use_recovery_code(user=user, code=codes[1], now=now).device is not None


def test_wrong_recovery_codes_count_towards_the_lockout(client, cast, require_2fa, slow_throttle):
    user = cast.exporter_officer
    device, codes = enrolled(user)
    client.force_login(user)

    response = client.post(RECOVERY_URL, {"code": "aaaaa-bbbbb"})
    assert response.status_code == 200
    assert "not right" in response.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1

    # Now even a right code is refused until the wait is over, and it is not used up.
    response = client.post(RECOVERY_URL, {"code": codes[0]})
    assert response.status_code == 200
    assert "Too many wrong codes" in response.content.decode()
    assert "otp_device_id" not in client.session
    assert models.RecoveryCode.objects.filter(user=user, used_at__isnull=True).count() == 10


def test_wrong_authenticator_codes_also_lock_the_recovery_codes(client, cast, require_2fa, slow_throttle):
    user = cast.exporter_officer
    device, codes = enrolled(user)
    client.force_login(user)
    client.post("/accounts/two-factor/verify/", {"token": wrong_code_for(device)})
    response = client.post(RECOVERY_URL, {"code": codes[0]})
    assert "Too many wrong codes" in response.content.decode()
    assert "otp_device_id" not in client.session


def test_a_recovery_code_resets_the_wrong_code_count(cast):
    user = cast.exporter_officer
    device, codes = enrolled(user)
    services.use_recovery_code(user=user, code="zzzzz-zzzzz", now=timezone.now())
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    device.throttling_failure_timestamp = timezone.now() - timedelta(minutes=5)
    device.save()
    assert services.use_recovery_code(user=user, code=codes[0], now=timezone.now()).device == device
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


# --- regenerating ----------------------------------------------------------------------------


def test_regenerating_needs_a_current_code_and_invalidates_the_old_ones(client, cast, require_2fa):
    user = cast.exporter_officer
    device, old = enrolled(user)
    client.force_login(user)
    # Only a verified session may.
    response = client.get(REGENERATE_URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/two-factor/verify/")
    verify_with_totp(client, device)

    response = client.get(REGENERATE_URL)
    assert response.status_code == 200
    assert "10" in response.content.decode()

    response = client.post(REGENERATE_URL, {"token": wrong_code_for(device)})
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    assert "codes" not in response.context or not response.context["codes"]
    assert models.RecoveryCode.objects.filter(user=user).count() == 10
    device.refresh_from_db()
    device.throttle_reset()

    # A TOTP code cannot be used twice: wait for the next step's code.
    device.last_t = -1
    device.save()
    response = client.post(REGENERATE_URL, {"token": code_for(device)})
    assert response.status_code == 200
    new = response.context["codes"]
    assert len(new) == 10 and not set(new) & set(old)
    assert "somewhere safe" in response.content.decode()
    assert models.RecoveryCode.objects.filter(user=user).count() == 10
    now = timezone.now()
    assert services.use_recovery_code(user=user, code=old[0], now=now).device is None
    device.refresh_from_db()
    device.throttle_reset()
    assert services.use_recovery_code(user=user, code=new[0], now=now).device is not None


# --- the administrator's reset ---------------------------------------------------------------


def reset_url(member):
    return f"/accounts/users/{member.pk}/"


def test_an_administrator_resets_a_members_second_factor(client, cast, require_2fa, django_capture_on_commit_callbacks):
    admin, member = cast.exporter_admin, cast.exporter_officer
    enrolled(member)
    member_client = client.__class__()
    member_client.force_login(member)
    assert LoginSession.objects.filter(user=member).exists()
    admin_device = confirmed_device(admin)
    client.force_login(admin)
    verify_with_totp(client, admin_device)

    page = client.get(reset_url(member)).content.decode()
    assert "Reset two-factor sign-in" in page
    confirm = client.get(reset_url(member), {"confirm": "reset_two_factor"})
    assert confirm.status_code == 200
    assert "This cannot be undone" in confirm.content.decode()
    assert TOTPDevice.objects.filter(user=member).exists()

    # Without the explicit confirmation nothing happens.
    response = client.post(reset_url(member), {"action": "reset_two_factor"})
    assert response.status_code == 200 and "This cannot be undone" in response.content.decode()
    assert TOTPDevice.objects.filter(user=member).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reset_url(member), {"action": "reset_two_factor", "confirm": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=member).exists()
    assert not models.RecoveryCode.objects.filter(user=member).exists()
    assert not LoginSession.objects.filter(user=member).exists()
    assert member_client.get("/notifications/")["Location"].startswith("/accounts/login/")
    event = models.SecurityEvent.objects.get(user=member, kind=models.SecurityEvent.Kind.TWO_FACTOR_RESET)
    assert event.actor == admin and event.at is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [member.email]
    assert "two-factor" in message.subject.lower()
    assert str(admin) in message.body and not message.alternatives
    # The admin's own second factor is untouched.
    assert TOTPDevice.objects.filter(user=admin).exists()

    # The member sets up a new authenticator at the next login, and gets new codes.
    response = member_client.post("/accounts/login/", {"username": member.username, "password": PASSWORD})
    assert response["Location"].startswith("/accounts/two-factor/setup/")
    member_client.get("/accounts/two-factor/setup/")
    device = TOTPDevice.objects.get(user=member)
    response = member_client.post("/accounts/two-factor/setup/", {"token": code_for(device)}, follow=True)
    assert response.status_code == 200 and len(response.context["codes"]) == 10
    assert member_client.get("/notifications/").status_code == 200


def test_an_administrator_cannot_reset_their_own_second_factor(client, cast, django_capture_on_commit_callbacks):
    admin = cast.exporter_admin
    enrolled(admin)
    client.force_login(admin)
    verify_with_totp(client, TOTPDevice.objects.get(user=admin))
    page = client.get(reset_url(admin)).content.decode()
    assert "Reset two-factor sign-in" in page  # the section is there, explaining why not
    assert "confirm=reset_two_factor" not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reset_url(admin), {"action": "reset_two_factor", "confirm": "yes"})
    assert response.status_code == 400
    assert TOTPDevice.objects.filter(user=admin).exists()
    assert models.RecoveryCode.objects.filter(user=admin).count() == 10
    assert not models.SecurityEvent.objects.filter(kind=models.SecurityEvent.Kind.TWO_FACTOR_RESET).exists()
    assert mail.outbox == []


def test_no_reset_of_another_authoritys_member_or_by_a_non_administrator(
    client, cast, django_capture_on_commit_callbacks
):
    member = cast.exporter_officer
    enrolled(member)
    client.force_login(cast.importer_admin)
    response = client.post(reset_url(member), {"action": "reset_two_factor", "confirm": "yes"})
    assert response.status_code == 404
    with pytest.raises(services.PermissionDenied):
        services.reset_two_factor(actor=cast.importer_admin, user=member, now=timezone.now())

    client.force_login(cast.exporter_viewer)
    response = client.post(reset_url(member), {"action": "reset_two_factor", "confirm": "yes"})
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=member).exists()
    assert models.RecoveryCode.objects.filter(user=member).count() == 10
    assert not models.SecurityEvent.objects.filter(kind=models.SecurityEvent.Kind.TWO_FACTOR_RESET).exists()
    assert mail.outbox == []


# --- the pages at 390 px ---------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_recovery_pages_fit_a_390_px_phone_without_csp_errors(browser, live_server, cast):
    from django_otp.oath import totp

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    problems = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)

    def fits(path):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)"
            ".map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 8)"
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, (path, wide)

    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "exp_admin")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    fits("/accounts/two-factor/setup/")
    device = TOTPDevice.objects.get(user=cast.exporter_admin)
    page.fill("#id_token", f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}")
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.url.split("?")[0].endswith("/accounts/two-factor/recovery-codes/new/")
    assert page.locator(".recovery-codes li").count() == 10
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path="/tmp/recovery-codes-390.png", full_page=True)
    fits(REGENERATE_URL)
    enrolled(cast.exporter_officer)
    fits(f"/accounts/users/{cast.exporter_officer.pk}/")
    fits(f"/accounts/users/{cast.exporter_officer.pk}/?confirm=reset_two_factor")
    page.screenshot(path="/tmp/reset-390.png", full_page=True)
    context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "exp_officer")
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/accounts/two-factor/verify/" in page.url
    page.get_by_role("link", name="Use a recovery code").click()
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path="/tmp/recovery-verify-390.png", full_page=True)
    context.close()
    assert not [p for p in problems if "Content Security Policy" in p or "Content-Security-Policy" in p], problems


def test_the_account_page_links_to_new_recovery_codes(client, cast):
    client.force_login(cast.exporter_officer)
    page = client.get(reverse("accounts:password_change"))
    assert reverse("accounts:two_factor_recovery_codes") in page.content.decode()
