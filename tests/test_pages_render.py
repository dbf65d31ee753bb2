"""Issue 18, defect 1: no page shows template code. Django has no multi-line {# #}
comment, so one printed itself on the filing form; this walks every route as every kind
of caller, and the filing form with errors, and fails on any {#, {% or {{ in a page."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.factories import file
from tests.routes import callers, every_route
from tests.test_notification_pages import filing_post

pytestmark = pytest.mark.django_db

TEMPLATE_CODE = re.compile(r"\{#|\{%|\{\{")


def shown(html: str) -> str:
    """What the page shows and says: scripts and styles are code of their own."""
    return re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)


def test_no_page_of_any_route_shows_template_code(cast):
    routes = every_route(file(cast, now=timezone.now()).reference)
    offenders, pages = [], 0
    for path in routes:
        for name, client in callers(cast).items():
            response = client.get(path)
            if not response.get("Content-Type", "").startswith("text/html"):
                continue
            pages += 1
            found = TEMPLATE_CODE.search(shown(response.content.decode()))
            if found:
                start = max(found.start() - 40, 0)
                offenders.append(f"{name} GET {path}: …{shown(response.content.decode())[start : found.end() + 40]}…")
    assert offenders == []
    assert pages > 60


def test_the_filing_form_shown_again_with_errors_shows_no_template_code(client, cast):
    client.force_login(cast.exporter_officer)
    response = client.post(reverse("notifications:create"), filing_post(importing_country="GH", end_use=""))
    assert response.status_code == 200
    assert TEMPLATE_CODE.search(shown(response.content.decode())) is None
