import pytest

from tests.browser import login, screenshot
from tests.conftest import PASSWORD


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_officer_logs_in_through_the_login_page(page, live_server, cast):
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.get_by_role("heading", name="Log in").is_visible()
    screenshot(page, "login")
    login(page, live_server, "exp_officer", PASSWORD)
    assert "/accounts/login/" not in page.url
    assert "Federal Opium Agency (DE)" in page.content()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_wrong_password_is_refused_with_a_message(page, live_server, cast):
    login(page, live_server, "exp_officer", "not the password")
    assert "/accounts/login/" in page.url
    assert page.get_by_role("alert").is_visible()
