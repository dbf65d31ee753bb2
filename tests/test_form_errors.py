"""Issue 18, defect 6, forms: the API-client form ticks no scope (a client without one is
refused, by the page and by the service); every error of the accounts forms names the
field and says what to do, never Django's bare "This field is required."; and every page
that shows a form with errors says so first in its <title> ("Error: ..."), decided once
in base.html for every form of the portal."""

import re

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms import Field, MultipleChoiceField
from django.test import Client
from django.utils import timezone

from accounts import forms as account_forms
from accounts import services
from accounts.models import ApiClient, Invitation
from accounts.oauth import INCB_ONLY_SCOPES
from messaging import webhooks
from tests.factories import file
from tests.test_notification_pages import filing_post

pytestmark = pytest.mark.django_db

DJANGO_DEFAULTS = {
    str(Field.default_error_messages["required"]),
    str(MultipleChoiceField.default_error_messages["invalid_choice"]),
}


def title(response) -> str:
    return re.search(r"<title>(.*?)</title>", response.content.decode(), re.S).group(1).strip()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the API-client form ------------------------------------------------------------------


def test_the_api_client_form_ticks_no_scope(cast):
    page = signed_in(cast.exporter_admin).get("/accounts/clients/new/").content.decode()
    boxes = re.findall(r'<input type="checkbox" name="scopes"[^>]*>', page)
    national = [scope for scope in settings.API_SCOPES if scope not in INCB_ONLY_SCOPES]
    assert len(boxes) == len(national) == 6  # every scope a national authority may hold ...
    assert not [box for box in boxes if "checked" in box]  # ... and none is chosen for the administrator


def test_a_client_without_a_scope_is_refused_with_a_clear_message(cast):
    response = signed_in(cast.exporter_admin).post("/accounts/clients/new/", {"name": "National LIS"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Choose at least one scope: what the system may do." in page
    assert "This field is required." not in page
    assert not ApiClient.objects.exists()


def test_the_service_refuses_an_empty_list_of_scopes_rather_than_granting_all(cast):
    with pytest.raises(ValidationError) as refused:
        services.create_api_client(authority=cast.exporter, name="LIS", scopes=[], actor=cast.exporter_admin)
    assert "Choose at least one scope" in str(refused.value.message_dict["scopes"])
    assert not ApiClient.objects.exists()
    # Without --scopes the command still grants what the authority may hold (its documented default).
    client, _id, _secret = services.create_api_client(authority=cast.exporter, name="LIS")
    assert set(client.scope_list) == set(settings.API_SCOPES) - set(INCB_ONLY_SCOPES)


# --- every message says what to do ----------------------------------------------------------------


def test_the_invitation_form_says_which_field_and_what_to_do(cast):
    response = signed_in(cast.exporter_admin).post("/accounts/users/invite/", {"email": "", "role": ""})
    page = response.content.decode()
    assert "Enter the person&#x27;s e-mail address." in page
    assert "Choose the person&#x27;s role." in page
    assert "This field is required." not in page
    assert not Invitation.objects.exists()
    wrong = signed_in(cast.exporter_admin).post("/accounts/users/invite/", {"email": "k.neumann", "role": "officer"})
    assert "Enter the person&#x27;s e-mail address in full, like name@example.org." in wrong.content.decode()


def _empty_forms(cast):
    authority = cast.exporter
    return {
        "InviteForm": account_forms.InviteForm({}, authority=authority),
        "RoleForm": account_forms.RoleForm({}, authority=authority),
        "AcceptInvitationForm": account_forms.AcceptInvitationForm({}, email="x@example.org"),
        "TokenForm": account_forms.TokenForm({}),
        "RecoveryCodeForm": account_forms.RecoveryCodeForm({}),
        "ApiClientForm": account_forms.ApiClientForm({}, authority=authority),
        # Django's own auth forms, as the portal's pages use them.
        "PortalAuthenticationForm": account_forms.PortalAuthenticationForm(None, data={}),
        "PortalPasswordChangeForm": account_forms.PortalPasswordChangeForm(cast.exporter_officer, {}),
        "PortalPasswordResetForm": account_forms.PortalPasswordResetForm({}),
        "PortalSetPasswordForm": account_forms.PortalSetPasswordForm(cast.exporter_officer, {}),
    }


def test_no_accounts_form_answers_an_empty_field_with_djangos_bare_message(cast):
    bare = {}
    for name, form in _empty_forms(cast).items():
        assert not form.is_valid()
        for field, messages in form.errors.items():
            for message in messages:
                if message in DJANGO_DEFAULTS:
                    bare[f"{name}.{field}"] = message
    assert bare == {}


def test_an_empty_login_says_what_is_missing_beside_the_fields(client, cast):
    page = client.post("/accounts/login/", {"username": "", "password": ""}).content.decode()
    assert page.count("Enter your user name.") == 2  # in the summary and beside the field
    assert page.count("Enter your password.") == 2
    assert 'href="#id_username"' in page and 'aria-invalid="true"' in page


def test_a_choice_outside_the_list_is_explained(cast):
    form = account_forms.ApiClientForm({"name": "LIS", "scopes": ["notifications:everything"]}, authority=cast.exporter)
    assert form.errors["scopes"] == ["Choose only scopes from the list."]
    form = account_forms.InviteForm({"email": "a@example.org", "role": "superuser"}, authority=cast.exporter)
    assert form.errors["role"] == ["Choose one of the roles listed."]


# --- "Error: " in the title, for every form of the portal -------------------------------------


def test_a_page_whose_form_has_errors_says_so_first_in_its_title(cast):
    """Accounts, filing, reply, withdraw, webhooks, policies and login: each refused form's
    page title starts with "Error: "; the same page without errors does not."""
    now = timezone.now()
    sent = file(cast, now=now)
    admin, exporter, importer = (
        signed_in(cast.exporter_admin),
        signed_in(cast.exporter_officer),
        signed_in(cast.importer_officer),
    )
    incb = signed_in(cast.incb_reviewer)
    cases = {
        "invite": (admin, "/accounts/users/invite/", {"email": ""}),
        "api client": (admin, "/accounts/clients/new/", {"name": ""}),
        "password change": (exporter, "/accounts/password/change/", {"old_password": "wrong"}),
        "filing": (exporter, "/notifications/new/", filing_post(expected_dispatch="31.31.2026")),
        "reply": (importer, f"/notifications/{sent.reference}/reply/", {"version": sent.version}),
        "withdraw": (exporter, f"/notifications/{sent.reference}/withdraw/", {"version": sent.version, "reason": ""}),
        "webhooks": (admin, "/webhooks/", {"url": "not an address", "events": []}),
        "policies": (incb, "/authorities/policies/GH/", {"reply_period_days": "many"}),
        "login": (Client(), "/accounts/login/", {"username": "exp_officer", "password": "wrong"}),
    }
    wrong = {}
    for name, (client, url, data) in cases.items():
        clean = title(client.get(url))
        assert not clean.startswith("Error:"), (name, clean)
        refused = client.post(url, data)
        assert refused.status_code in (200, 400), (name, refused.status_code)
        if not title(refused).startswith(f"Error: {clean.split(' · ')[0]}"):
            wrong[name] = title(refused)
    assert wrong == {}


def test_a_user_page_with_an_action_error_says_so_in_its_title(cast):
    admin = signed_in(cast.exporter_admin)
    refused = admin.post(f"/accounts/users/{cast.exporter_admin.pk}/", {"action": "deactivate", "confirm": "yes"})
    assert refused.status_code == 400
    assert title(refused).startswith("Error: ")


def test_a_webhook_registration_refused_by_the_service_says_so_in_its_title(cast, monkeypatch):
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["10.0.0.1"])  # not a public address
    refused = signed_in(cast.exporter_admin).post(
        "/webhooks/", {"url": "https://lis.example.org/hook", "events": ["notification.received"]}
    )
    assert title(refused).startswith("Error: ")
