"""Issue 18, defect 8: a help page per role (how to do the role's tasks, what each status
and risk flag means, whom to contact), an accessibility statement and a privacy notice,
linked from every page's footer, and the help from the header."""

import html
import re

import pytest
from django.test import Client

from accounts.models import Role
from notifications.clock import ladder
from notifications.models import RiskKind, Status
from pen_portal import pages
from tests.conftest import make_user

pytestmark = pytest.mark.django_db

ROLE_PAGES = {
    "exporting": ["File a notification", "Send it", "Answer a request for information", "Withdraw it"],
    "importing": ["Acknowledge receipt", "Reply", "Request information", "Deadlines"],
    "transit": ["What you see, and what you do"],
    "incb": ["Review", "Follow up silence"],
    "administrator": ["Users", "API clients", "Webhooks"],
}


def text(response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))


def headings(response) -> list[str]:
    return [html.unescape(h) for h in re.findall(r"<h2[^>]*>(.*?)</h2>", response.content.decode())]


@pytest.fixture
def officer(cast):
    client = Client()
    client.force_login(cast.exporter_officer)
    return client


@pytest.mark.parametrize("role", list(ROLE_PAGES))
def test_each_role_has_its_help_with_its_tasks_statuses_flags_and_contacts(officer, cast, role):
    response = officer.get(f"/help/{role}/")
    assert response.status_code == 200
    for task in ROLE_PAGES[role]:
        assert task in headings(response), (role, task)
    page = " ".join(text(response).split())
    for status in Status:
        assert str(status.label) in page and " ".join(str(pages.STATUS_MEANINGS[status]).split()) in page
    for kind in pages.RAISED_FLAGS:
        assert str(kind.label) in page and " ".join(str(pages.RISK_MEANINGS[kind]).split()) in page
    for kind in set(RiskKind) - set(pages.RAISED_FLAGS):
        assert str(kind.label) not in page  # not raised yet: not promised
    assert "Whom to contact" in headings(response)
    assert "exp_admin@example.org" in page  # the officer's own administrator
    assert "imp_admin@example.org" not in page  # not another authority's
    assert "incb@example.org" in page  # the secretariat, for the portal itself


def test_every_status_risk_flag_and_chase_step_has_an_explanation():
    """The pages render the statuses, flags and steps from the TextChoices and the ladder;
    a new one without its explanation fails here (and on the pages, with a KeyError)."""
    assert set(pages.STATUS_MEANINGS) == set(Status)
    assert set(pages.RISK_MEANINGS) == set(RiskKind)
    assert {name for _number, name, _offset in ladder()} <= set(pages.CHASE_STEP_MEANINGS)


def test_the_importing_help_lists_the_chase_steps_from_the_ladder(officer, settings):
    from datetime import timedelta

    settings.CHASE_LADDER = ((1, "reminder", timedelta(days=-5)), (2, "overdue", timedelta(0)))
    page = " ".join(text(officer.get("/help/importing/")).split())
    assert "5 days before the reply is due" in page and "When the reply is due" in page
    assert "7 days after the reply was due" not in page  # the default ladder's step, not this one's


def test_the_help_index_puts_the_persons_own_roles_first(client, cast):
    client.force_login(cast.incb_reviewer)
    response = client.get("/help/")
    assert response.status_code == 200
    mine = re.search(r'id="mine-heading".*?</section>', response.content.decode(), re.S).group(0)
    assert "/help/incb/" in mine and "/help/exporting/" not in mine
    client.force_login(cast.exporter_admin)
    mine = re.search(r'id="mine-heading".*?</section>', client.get("/help/").content.decode(), re.S).group(0)
    assert "/help/administrator/" in mine and "/help/exporting/" in mine and "/help/incb/" not in mine


def test_a_lone_administrator_is_told_to_ask_incb(client, cast):
    lone = make_user("lone_admin", cast.transit, Role.ADMINISTRATOR)
    client.force_login(lone)
    page = " ".join(text(client.get("/help/administrator/")).split())
    assert "You are your authority's administrator. For your own account, ask the INCB secretariat." in page


def test_help_needs_a_login(client):
    response = client.get("/help/exporting/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_accessibility_statement_is_public_and_says_target_tests_limits_and_how_to_report(client, cast):
    response = client.get("/accessibility/")
    assert response.status_code == 200
    page = " ".join(text(response).split())
    assert "WCAG) 2.2 at level AA" in page
    assert "axe-core" in page and "390 pixels" in page
    assert {"Our target", "How it is tested", "Known limitations", "Report a problem"} <= set(headings(response))
    assert "incb@example.org" in page


def test_the_privacy_notice_is_public_and_says_what_is_kept_for_how_long_who_sees_it_and_whom_to_ask(client, cast):
    response = client.get("/privacy/")
    assert response.status_code == 200
    page = " ".join(text(response).split())
    for kept in ("e-mail address", "timeline", "failed attempt", "IP address", "lockout record"):
        assert kept in page, kept
    assert {"What the portal keeps", "Who sees it", "How long", "Questions and requests"} <= set(headings(response))
    assert "incb@example.org" in page


def test_every_page_links_the_footer_pages_and_signed_in_pages_link_help(client, officer):
    login = client.get("/accounts/login/").content.decode()
    footer = re.search(r'<footer class="site-footer">.*?</footer>', login, re.S).group(0)
    assert 'href="/accessibility/"' in footer and 'href="/privacy/"' in footer
    assert 'href="/help/"' not in footer  # help is for people who are signed in
    dashboard = officer.get("/notifications/").content.decode()
    footer = re.search(r'<footer class="site-footer">.*?</footer>', dashboard, re.S).group(0)
    assert {'href="/help/"', 'href="/accessibility/"', 'href="/privacy/"'} <= set(re.findall(r'href="[^"]+"', footer))
    header = re.search(r'<nav class="main-nav".*?</nav>', dashboard, re.S).group(0)
    assert 'href="/help/"' in header
