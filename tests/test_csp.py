"""Issue 16, finding 7: every HTML page carries a Content-Security-Policy that allows no
inline script or style and no third party, and the API docs are served by the
installation (no CDN). The walk covers every URL pattern of the project, so a new page
is checked the day it is added."""

import re

import pytest
from django.utils import timezone

from tests.factories import file
from tests.routes import callers, every_route

pytestmark = pytest.mark.django_db


def test_every_html_response_of_every_route_has_the_policy(cast):
    routes = every_route(file(cast, now=timezone.now()).reference)
    html_seen = 0
    missing = []
    for path in routes:
        for name, client in callers(cast).items():
            response = client.get(path)
            if not response.get("Content-Type", "").startswith("text/html"):
                continue
            html_seen += 1
            policy = response.get("Content-Security-Policy", "")
            if not policy or "'unsafe-inline'" in policy or "script-src 'self'" not in policy:
                missing.append(f"{name} GET {path} -> {response.status_code}: {policy!r}")
    assert missing == []
    assert html_seen > 60


def test_no_template_has_inline_script_style_or_event_handler():
    """What the policy would block, found before a browser does: inline <script> bodies,
    <style> blocks, style="" and on*="" attributes in the project's templates."""
    from pathlib import Path

    offenders = []
    for template in Path(__file__).resolve().parent.parent.joinpath("templates").rglob("*.html"):
        text = template.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"<style\b", r"\sstyle=\"", r"\son[a-z]+=\""):
            if re.search(pattern, text):
                offenders.append(f"{template.name}: {pattern}")
    assert offenders == []


def test_the_api_docs_load_swagger_ui_from_the_installation(client):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") or s.startswith("?") for s in sources), sources
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    assert any("swagger-ui" in s for s in sources)
    script = client.get("/api/docs/?script")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
