"""The user-management pages in a real browser, and the screenshot in docs/screenshots/."""

import pytest
from django.utils import timezone

from accounts import services
from accounts.models import Role, User
from tests.browser import login, screenshot
from tests.conftest import PASSWORD, make_user


def name(user, first, last):
    User.objects.filter(pk=user.pk).update(first_name=first, last_name=last)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_administrator_manages_the_users_of_their_authority(page, live_server, cast):
    name(cast.exporter_admin, "Anna", "Albrecht")
    name(cast.exporter_officer, "Jonas", "Becker")
    name(cast.exporter_viewer, "Miriam", "Vogel")
    make_user("exp_retired", cast.exporter, Role.OFFICER, first_name="Renate", last_name="Richter", is_active=False)
    services.invite_user(
        actor=cast.exporter_admin, email="k.neumann@example.org", role=Role.OFFICER, now=timezone.now()
    )

    login(page, live_server, "exp_admin", PASSWORD)
    page.get_by_role("link", name="Users", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert page.url.endswith("/accounts/users/")
    assert page.get_by_role("heading", name="Users", exact=True).is_visible()
    content = page.content()
    assert "Jonas Becker" in content and "exp_viewer@example.org" in content
    assert "k.neumann@example.org" in content
    assert "imp_officer" not in content and "out_admin" not in content
    screenshot(page, "user-management")

    page.get_by_role("link", name="Manage Jonas Becker").click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("link", name="Deactivate this account").click()
    page.wait_for_load_state("networkidle")
    page.get_by_role("button", name="Yes, deactivate").click()
    page.wait_for_load_state("networkidle")
    assert "is deactivated" in page.content()
    assert User.objects.get(username="exp_officer").is_active is False
