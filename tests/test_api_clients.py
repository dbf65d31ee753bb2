"""Machine clients: OAuth 2.0 client credentials bound to one authority, created by
``manage.py create_api_client`` or by the authority's administrator, revocable."""

import base64
import shlex
import subprocess
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.test import Client
from oauth2_provider.models import AccessToken
from rest_framework.request import Request

from accounts import services
from accounts.management.commands.create_api_client import Command
from accounts.models import ApiClient, User
from accounts.oauth import ApiClientAuthentication
from authorities.models import Substance


def create_client(*args) -> tuple[str, str]:
    out = StringIO()
    call_command("create_api_client", *args, stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("client_id=") and lines[1].startswith("client_secret=")
    return lines[0].removeprefix("client_id="), lines[1].removeprefix("client_secret=")


def basic(client_id, secret) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def get_token(client, client_id, secret):
    return client.post(
        "/oauth/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=basic(client_id, secret)
    )


def bearer(token) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_the_command_prints_credentials_that_obtain_a_working_token(client, cast):
    client_id, secret = create_client("--authority", "de-bopst", "--name", "Licensing system")
    api_client = ApiClient.objects.get(application__client_id=client_id)
    assert api_client.authority == cast.exporter
    assert api_client.service_user.is_machine and not api_client.service_user.has_usable_password()
    assert set(api_client.scope_list) == {
        "notifications:read",
        "notifications:write",
        "notifications:respond",
        "statistics:read",
        "incidents:read",
        "incidents:write",
    }
    # Only a hash of the secret is stored.
    assert api_client.application.client_secret != secret

    response = get_token(client, client_id, secret)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    assert set(body["scope"].split()) == set(api_client.scope_list)

    response = client.get("/api/v1/substances/", **bearer(body["access_token"]))
    assert response.status_code == 200
    payload = response.json()
    # Whether or not the reference list is paginated, all 56 substances are there.
    substances = payload["results"] if isinstance(payload, dict) else payload
    count = payload["count"] if isinstance(payload, dict) else len(payload)
    assert count == 56 == Substance.objects.count()
    assert {"code", "name", "schedule"} <= set(substances[0])


def test_the_command_prints_shell_assignments_for_eval(client, cast, monkeypatch, tmp_path):
    # A secret with every character a shell treats specially: shlex.quote keeps it one word.
    witness = tmp_path / "ran"
    nasty = f'it\'s $(touch {witness}) `touch {witness}` "q" ; & | \\ * ${{HOME}}'
    real = services.create_api_client

    def with_nasty_secret(**kwargs):
        api_client, client_id, _secret = real(**kwargs)
        return api_client, client_id, nasty

    out = StringIO()
    with monkeypatch.context() as patch:
        patch.setattr("accounts.management.commands.create_api_client.create_api_client", with_nasty_secret)
        call_command(
            "create_api_client", "--authority", "de-bopst", "--name", "DE licensing system", "--shell", "DE", stdout=out
        )
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("DE_ID=") and lines[1].startswith("DE_SECRET=")
    # What bash makes of it under eval: exactly the id and the secret, nothing run.
    shown = subprocess.run(
        ["bash", "-c", 'eval "$1" && printf "%s\\n%s" "$DE_ID" "$DE_SECRET"', "bash", out.getvalue()],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    client_id, secret = shown.split("\n")
    assert secret == nasty
    assert not witness.exists()
    api_client = ApiClient.objects.get(application__client_id=client_id)
    assert api_client.authority == cast.exporter and api_client.name == "DE licensing system"

    # The real command: the assignments it prints obtain a token.
    out = StringIO()
    call_command("create_api_client", "--authority", "gh-fda", "--name", "GH system", "--shell", "GH", stdout=out)
    values = dict(line.split("=", 1) for line in out.getvalue().splitlines())
    assert set(values) == {"GH_ID", "GH_SECRET"}
    client_id, secret = (shlex.split(values[key])[0] for key in ("GH_ID", "GH_SECRET"))
    assert get_token(client, client_id, secret).status_code == 200


@pytest.mark.parametrize("prefix", ["", "1DE", "DE-X", "DE; rm", "$X"])
def test_the_command_refuses_a_shell_prefix_that_is_not_a_variable_name(cast, prefix):
    with pytest.raises(CommandError, match="--shell takes a shell variable name"):
        call_command(
            "create_api_client", "--authority", "de-bopst", "--name", "LIS", "--shell", prefix, stdout=StringIO()
        )
    assert not ApiClient.objects.exists()


def test_a_wrong_secret_gets_no_token(client, cast):
    client_id, _secret = create_client("--authority", "de-bopst", "--name", "LIS")
    response = get_token(client, client_id, "not-the-secret")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert not AccessToken.objects.exists()


def test_a_bad_bearer_token_is_401(client, cast):
    response = client.get("/api/v1/substances/", **bearer("made-up-token"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/substances/").status_code == 401


def test_a_revoked_clients_token_stops_working(client, cast):
    client_id, secret = create_client("--authority", "gh-fda", "--name", "LIS", "--scopes", "notifications:read")
    token = get_token(client, client_id, secret).json()["access_token"]
    assert client.get("/api/v1/substances/", **bearer(token)).status_code == 200

    admin = logged_in(cast.importer_admin)
    api_client = ApiClient.objects.get(application__client_id=client_id)
    response = admin.post(f"/accounts/clients/{api_client.pk}/revoke/", {"confirm": "yes"})
    assert response.status_code == 302
    api_client.refresh_from_db()
    assert api_client.revoked_at is not None
    assert not AccessToken.objects.filter(application=api_client.application).exists()
    assert client.get("/api/v1/substances/", **bearer(token)).status_code == 401
    # Nor can it obtain a new one.
    assert get_token(client, client_id, secret).status_code == 401


def logged_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def test_a_client_gets_only_the_scopes_it_was_given(client, cast):
    client_id, secret = create_client("--authority", "de-bopst", "--name", "LIS", "--scopes", "notifications:read")
    body = get_token(client, client_id, secret).json()
    assert body["scope"] == "notifications:read"


def test_the_token_acts_as_the_clients_machine_user(cast, rf):
    client_id, secret = create_client("--authority", "de-bopst", "--name", "LIS")
    token = get_token(Client(), client_id, secret).json()["access_token"]
    request = rf.get("/api/v1/substances/", **bearer(token))
    user, _token = ApiClientAuthentication().authenticate(Request(request))
    assert user == ApiClient.objects.get(application__client_id=client_id).service_user
    assert user.authority == cast.exporter


@pytest.mark.parametrize(
    "args, message",
    [
        (["--authority", "xx-none", "--name", "LIS"], "No authority has the code"),
        (["--authority", "de-bopst", "--name", "LIS", "--scopes", "notifications:everything"], "Scopes not available"),
        (["--authority", "incb", "--name", "LIS", "--scopes", "notifications:write"], "Scopes not available"),
        (["--authority", "de-bopst", "--name", "  "], "Give the client a name"),
        (["--authority", "de-bopst"], "--name"),
    ],
)
def test_the_command_refuses_bad_arguments(cast, args, message):
    users_before = User.objects.count()
    with pytest.raises(CommandError, match=message):
        call_command("create_api_client", *args, stdout=StringIO())
    assert not ApiClient.objects.exists()
    assert User.objects.count() == users_before


def test_the_command_exits_non_zero_on_bad_arguments(cast, capsys, monkeypatch):
    # run_from_argv closes every connection when it ends, which would close the test's own.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    with pytest.raises(SystemExit) as exit_info:
        Command().run_from_argv(["manage.py", "create_api_client", "--authority", "xx-none", "--name", "LIS"])
    assert exit_info.value.code != 0
    assert "No authority has the code 'xx-none'" in capsys.readouterr().err
    assert not ApiClient.objects.exists()


# --- the web pages ----------------------------------------------------------------------


def test_the_admin_creates_a_client_and_sees_the_secret_once(client, cast):
    admin = logged_in(cast.exporter_admin)
    assert admin.get("/accounts/clients/new/").status_code == 200
    response = admin.post("/accounts/clients/new/", {"name": "National LIS", "scopes": ["notifications:read"]})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    api_client = ApiClient.objects.get()
    assert (api_client.authority, api_client.name, api_client.scopes) == (
        cast.exporter,
        "National LIS",
        "notifications:read",
    )
    assert api_client.created_by == cast.exporter_admin
    client_id, secret = response.context["client_id"], response.context["client_secret"]
    assert secret in response.content.decode()

    # Never again: not on the list, not anywhere.
    listing = admin.get("/accounts/clients/")
    assert listing.status_code == 200
    assert client_id in listing.content.decode()
    assert secret not in listing.content.decode()
    assert secret not in admin.get(f"/accounts/clients/{api_client.pk}/revoke/").content.decode()

    # And it works.
    assert get_token(client, client_id, secret).status_code == 200


def test_a_scope_the_authority_may_not_hold_is_refused_on_the_page(cast):
    admin = logged_in(cast.incb_admin)
    response = admin.post("/accounts/clients/new/", {"name": "INCB tool", "scopes": ["notifications:write"]})
    assert response.status_code == 200
    assert not ApiClient.objects.exists()


def test_revocation_needs_confirmation(cast):
    api_client, _client_id, _secret = _service_client(cast.exporter)
    admin = logged_in(cast.exporter_admin)
    response = admin.get(f"/accounts/clients/{api_client.pk}/revoke/")
    assert response.status_code == 200
    assert admin.post(f"/accounts/clients/{api_client.pk}/revoke/", {}).status_code == 200
    api_client.refresh_from_db()
    assert api_client.revoked_at is None


def test_another_authoritys_clients_are_invisible(cast):
    theirs, _client_id, _secret = _service_client(cast.importer)
    admin = logged_in(cast.exporter_admin)
    listing = admin.get("/accounts/clients/")
    assert theirs.application.client_id not in listing.content.decode()
    assert admin.get(f"/accounts/clients/{theirs.pk}/revoke/").status_code == 404
    assert admin.post(f"/accounts/clients/{theirs.pk}/revoke/", {"confirm": "yes"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_non_administrators_cannot_manage_clients(cast):
    api_client, _client_id, _secret = _service_client(cast.exporter)
    officer = logged_in(cast.exporter_officer)
    assert officer.get("/accounts/clients/").status_code == 403
    assert officer.post("/accounts/clients/new/", {"name": "x", "scopes": ["notifications:read"]}).status_code == 403
    assert officer.post(f"/accounts/clients/{api_client.pk}/revoke/", {"confirm": "yes"}).status_code == 403
    assert ApiClient.objects.count() == 1
    api_client.refresh_from_db()
    assert api_client.revoked_at is None


def _service_client(authority):
    return services.create_api_client(authority=authority, name="LIS")
