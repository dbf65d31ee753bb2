"""The Django admin, for the installation's operators."""

import pytest
from django.test import Client

from accounts import services
from accounts.models import ApiClient, Role, User


@pytest.fixture
def operator(cast):
    user = User.objects.create_superuser("operator", "operator@example.org", "operator passphrase 1")
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.mark.parametrize(
    "path",
    ["/admin/accounts/user/", "/admin/accounts/user/add/", "/admin/accounts/invitation/", "/admin/accounts/apiclient/"],
)
def test_operators_see_the_accounts_in_the_admin(operator, path):
    assert operator.get(path).status_code == 200


def test_the_user_admin_shows_authority_and_role(operator, cast):
    page = operator.get("/admin/accounts/user/").content.decode()
    assert "Federal Opium Agency (DE)" in page
    response = operator.get(f"/admin/accounts/user/{cast.exporter_officer.pk}/change/")
    assert response.status_code == 200
    assert 'name="authority"' in response.content.decode() and 'name="role"' in response.content.decode()


def test_an_operator_creates_the_first_administrator_of_an_authority(operator, cast):
    response = operator.post(
        "/admin/accounts/user/add/",
        {
            "username": "gh_first_admin",
            "email": "first@example.org",
            "authority": cast.importer.pk,
            "role": Role.ADMINISTRATOR,
            "usable_password": "true",
            "password1": "a long operator passphrase 3",
            "password2": "a long operator passphrase 3",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="gh_first_admin")
    assert (user.authority, user.role) == (cast.importer, Role.ADMINISTRATOR)
    assert user.is_authority_admin


def test_an_operator_revokes_a_client_through_the_service(operator, cast):
    api_client, _client_id, _secret = services.create_api_client(authority=cast.exporter, name="LIS")
    response = operator.post("/admin/accounts/apiclient/", {"action": "revoke", "_selected_action": [api_client.pk]})
    assert response.status_code == 302
    api_client.refresh_from_db()
    assert api_client.revoked_at is not None
    assert not User.objects.get(pk=api_client.service_user_id).is_active
    assert not ApiClient.objects.filter(revoked_at__isnull=True).exists()


def test_authority_users_cannot_use_the_admin(client, cast):
    client.force_login(cast.exporter_admin)
    response = client.get("/admin/accounts/user/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
