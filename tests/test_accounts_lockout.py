"""django-axes locks an account after repeated wrong passwords."""

import pytest
from axes.models import AccessAttempt

from tests.conftest import PASSWORD


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5


def attempt(client, password):
    return client.post("/accounts/login/", {"username": "exp_officer", "password": password})


def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(client, cast, axes_on):
    for _ in range(4):
        response = attempt(client, "wrong password")
        assert response.status_code == 200  # the form again, with its error
    response = attempt(client, "wrong password")
    assert response.status_code == 429
    assert AccessAttempt.objects.get(username="exp_officer").failures_since_start == 5

    response = attempt(client, PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Account locked for now" in page
    assert "15 minutes" in page
    assert "/accounts/password/reset/" in page
    assert "_auth_user_id" not in client.session
    assert client.get("/notifications/").status_code == 302


def test_fewer_wrong_passwords_do_not_lock_and_success_resets_the_count(client, cast, axes_on):
    for _ in range(4):
        assert attempt(client, "wrong password").status_code == 200
    response = attempt(client, PASSWORD)
    assert response.status_code == 302
    assert client.get("/notifications/").status_code == 200
    assert not AccessAttempt.objects.filter(username="exp_officer").exists()


def test_another_account_is_not_locked_by_someone_elses_failures(client, cast, axes_on):
    for _ in range(5):
        attempt(client, "wrong password")
    response = client.post("/accounts/login/", {"username": "exp_viewer", "password": PASSWORD})
    assert response.status_code == 302
