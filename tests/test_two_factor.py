"""TOTP two-factor authentication (django-otp): setup with a QR code, verification after
the password, and the requirement enforced on every page when PEN_REQUIRE_2FA is on."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import PASSWORD


def code_for(device) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def wrong_code_for(device) -> str:
    return f"{(int(code_for(device)) + 1) % 1_000_000:06d}"


@pytest.fixture
def require_2fa(settings):
    settings.PEN_REQUIRE_2FA = True


def confirmed_device(user):
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def test_setup_shows_a_qr_code_and_the_secret_and_confirms_with_a_code(client, cast):
    user = cast.exporter_officer
    client.force_login(user)
    response = client.get("/accounts/two-factor/setup/")
    assert response.status_code == 200
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed is False
    page = response.content.decode()
    assert "<svg" in page and "<path" in page
    assert response.context["secret"].replace(" ", "") in device.config_url
    # Reloading the page keeps the same secret.
    client.get("/accounts/two-factor/setup/")
    assert TOTPDevice.objects.filter(user=user).count() == 1

    response = client.post("/accounts/two-factor/setup/", {"token": code_for(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.session["otp_device_id"] == device.persistent_id


def test_setup_refuses_a_wrong_code(client, cast):
    user = cast.exporter_officer
    client.force_login(user)
    client.get("/accounts/two-factor/setup/")
    device = TOTPDevice.objects.get(user=user)
    response = client.post("/accounts/two-factor/setup/", {"token": wrong_code_for(device)})
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    device.refresh_from_db()
    assert device.confirmed is False
    assert "otp_device_id" not in client.session


def test_with_only_a_password_nobody_can_replace_an_existing_device(client, cast):
    user = cast.exporter_officer
    device = confirmed_device(user)
    client.force_login(user)
    response = client.get("/accounts/two-factor/setup/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/verify/")
    assert list(TOTPDevice.objects.filter(user=user)) == [device]


def test_login_leads_to_verify_when_the_user_has_a_device(client, cast):
    confirmed_device(cast.exporter_officer)
    response = client.post("/accounts/login/", {"username": "exp_officer", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/verify/")


def test_login_without_a_device_goes_straight_in_when_not_required(client, cast):
    response = client.post("/accounts/login/", {"username": "exp_officer", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_required_2fa_sends_a_user_without_device_to_setup(client, cast, require_2fa):
    client.force_login(cast.exporter_officer)
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/verify/")
    response = client.get(response["Location"])
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/setup/")

    client.get("/accounts/two-factor/setup/")
    device = TOTPDevice.objects.get(user=cast.exporter_officer)
    response = client.post("/accounts/two-factor/setup/", {"token": code_for(device)})
    assert response.status_code == 302
    assert client.get("/notifications/").status_code == 200


def test_required_2fa_asks_for_the_code_and_a_correct_one_opens_the_dashboard(client, cast, require_2fa):
    device = confirmed_device(cast.exporter_officer)
    client.force_login(cast.exporter_officer)
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/verify/")
    assert client.get("/accounts/two-factor/verify/").status_code == 200

    response = client.post("/accounts/two-factor/verify/", {"token": code_for(device), "next": "/notifications/"})
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    assert client.get("/notifications/").status_code == 200
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_required_2fa_refuses_a_wrong_code(client, cast, require_2fa):
    device = confirmed_device(cast.exporter_officer)
    client.force_login(cast.exporter_officer)
    response = client.post("/accounts/two-factor/verify/", {"token": wrong_code_for(device)})
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    assert "otp_device_id" not in client.session
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/two-factor/verify/")


def test_required_2fa_refuses_a_code_that_is_not_six_digits(client, cast, require_2fa):
    confirmed_device(cast.exporter_officer)
    client.force_login(cast.exporter_officer)
    response = client.post("/accounts/two-factor/verify/", {"token": "abc"})
    assert response.status_code == 200
    assert "otp_device_id" not in client.session


def test_verify_does_not_redirect_off_site(client, cast, require_2fa):
    device = confirmed_device(cast.exporter_officer)
    client.force_login(cast.exporter_officer)
    response = client.post("/accounts/two-factor/verify/", {"token": code_for(device), "next": "https://evil.example/"})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_full_login_with_password_and_code(client, cast, require_2fa):
    device = confirmed_device(cast.exporter_officer)
    response = client.post("/accounts/login/?next=/notifications/", {"username": "exp_officer", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/two-factor/verify/?next=%2Fnotifications%2F"
    response = client.post(response["Location"], {"token": code_for(device)})
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    assert client.get("/notifications/").status_code == 200


def test_a_user_with_a_device_cannot_skip_verification_even_when_not_required(client, cast):
    """With PEN_REQUIRE_2FA off (the demo), having set up a device still binds the user."""
    user = cast.exporter_officer
    confirmed_device(user)
    client.force_login(user)
    response = client.get("/authorities/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/two-factor/verify/?next=%2Fauthorities%2F"
    api = client.get("/api/v1/substances/")
    assert api.status_code == 403


def test_an_unverified_session_is_refused_by_the_api_when_2fa_is_required(client, cast, require_2fa):
    client.force_login(cast.exporter_officer)
    assert client.get("/api/v1/substances/").status_code == 403
