"""Issue 18, defect 7: one way to write a date for people. The follow-up queue said
"2026-11-06", the tables "16 Dec 2026", the detail "16 December 2026". Now every page, e-mail
and timeline text writes "16 December 2026" (with the time: "16 December 2026, 14:05 UTC"),
set once per language (web/formats/), and ISO 8601 only for machines (<time datetime>,
CSV, the API)."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services as accounts
from accounts.models import Role
from chasing import services as follow_ups
from chasing import sweep
from messaging import outbox, webhooks
from messaging.models import OutboxMessage
from notifications import services
from notifications.models import Event, EventKind
from tests.factories import file
from tests.routes import callers, every_route
from web.dates import for_people

pytestmark = pytest.mark.django_db

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
SHORT_MONTHS = "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
# Every other way a date has been or could be written for people on these pages.
OTHER_FORMATS = {
    "ISO 8601 (for machines only)": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    "abbreviated month": re.compile(rf"\b\d{{1,2}} (?:{SHORT_MONTHS})\.? \d{{4}}\b"),
    "month first": re.compile(rf"\b(?:{MONTHS}|{SHORT_MONTHS})\.? \d{{1,2}}, \d{{4}}\b"),
    "numeric with slashes or dots": re.compile(r"\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b"),
}


def shown(html: str) -> str:
    """What a person reads: no tags (so no attributes: <time datetime>, input values), no
    scripts or styles, and no text typed into a form (a <textarea>'s content)."""
    html = re.sub(r"<(script|style|textarea)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def other_formats(text: str) -> list[str]:
    return [f"{name}: {match.group(0)!r}" for name, rx in OTHER_FORMATS.items() for match in rx.finditer(text)]


@pytest.fixture
def history(cast, monkeypatch, settings, tmp_path):
    """Notifications with every kind of date the pages show: sent, due, acknowledged,
    replied, asked, withdrawn, chased (silence signal, timeline), followed up; an
    invitation, an API client and a webhook endpoint with its deliveries."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    monkeypatch.setattr(webhooks, "resolve", lambda host, port: ["93.184.216.34"])  # no DNS in tests
    now = timezone.now()
    overdue = file(cast, now=now - timedelta(days=40))
    services.acknowledge(actor=cast.importer_officer, notification=overdue, now=now - timedelta(days=39))
    asked = file(cast, now=now - timedelta(days=3))
    services.respond(
        actor=cast.importer_officer, notification=asked, decision="information_requested", comment="?", now=now
    )
    replied = file(cast, now=now - timedelta(days=5))
    services.respond(actor=cast.importer_officer, notification=replied, decision="no_objection", now=now)
    withdrawn = file(cast, now=now - timedelta(days=5))
    services.withdraw(actor=cast.exporter_officer, notification=withdrawn, reason="Cancelled.", now=now)
    file(cast, now=now, draft=True)
    sweep.sweep(now=now)  # the overdue one: reminder, overdue, escalation; the silence signal
    follow_ups.record_follow_up(
        actor=cast.incb_reviewer, notification=overdue, channel="phone", note="Called.", now=now
    )
    accounts.invite_user(actor=cast.exporter_admin, email="new.officer@example.org", role=Role.OFFICER, now=now)
    accounts.create_api_client(authority=cast.exporter, name="Licensing system", actor=cast.exporter_admin)
    webhooks.register_endpoint(
        actor=cast.exporter_admin, url="https://licensing.example.org/hooks", description="Licensing", now=now
    )
    for pk in OutboxMessage.objects.filter(dispatched_at__isnull=True).values_list("pk", flat=True):
        outbox.dispatch(pk, now=now)
    overdue.refresh_from_db()
    return overdue


def test_the_one_format_is_day_month_name_year():
    assert for_people(date(2026, 11, 6)) == "6 November 2026"
    assert for_people(datetime(2026, 12, 16, 14, 5, tzinfo=UTC)) == "16 December 2026, 14:05 UTC"


def test_no_page_of_any_route_writes_a_date_another_way(cast, history):
    """Every route, as every kind of caller (and the importing officer and an
    administrator, whose pages show other dates), with a notification whose timeline,
    signals and follow-ups hold every kind of date."""
    routes = every_route(history.reference)
    clients = callers(cast)
    for name, user in (("importer", cast.importer_officer), ("exporter_admin", cast.exporter_admin)):
        clients[name] = Client(raise_request_exception=False)
        clients[name].force_login(user)
    offenders, pages = [], 0
    for path in routes:
        for name, client in clients.items():
            response = client.get(path, follow=True)
            if not response.get("Content-Type", "").startswith("text/html"):
                continue
            pages += 1
            for found in other_formats(shown(response.content.decode())):
                offenders.append(f"{name} GET {path}: {found}")
    assert offenders == []
    assert pages > 80


def test_the_main_pages_write_dates_in_the_one_format(cast, history, client):
    """The pages the issue names, with the dates they show, as the people who read them."""
    due = for_people(history.reply_due)
    client.force_login(cast.incb_reviewer)
    queue = shown(client.get(reverse("followup:queue")).content.decode())
    assert due in queue and other_formats(queue) == []
    detail = shown(client.get(history.get_absolute_url()).content.decode())
    # The timeline's own text ("Reply due …."), the silence signal, the instants.
    assert f"Reply due {due}." in detail
    assert f"No reply by {due}" in detail
    follow_up = Event.objects.get(notification=history, kind=EventKind.FOLLOWED_UP)
    assert for_people(follow_up.at) in detail
    assert other_formats(detail) == []
    client.force_login(cast.importer_officer)
    dashboard = shown(client.get(reverse("notifications:dashboard")).content.decode())
    assert due in dashboard and other_formats(dashboard) == []
    listed = shown(client.get(reverse("notifications:list")).content.decode())
    assert due in listed and other_formats(listed) == []


def test_machines_still_get_iso_8601(cast, history, client):
    client.force_login(cast.incb_reviewer)
    html = client.get(reverse("followup:queue")).content.decode()
    assert f'<time datetime="{history.reply_due.isoformat()}">{for_people(history.reply_due)}</time>' in html
    event = Event.objects.get(notification=history, kind=EventKind.SUBMITTED)
    assert event.data["reply_due"] == history.reply_due.isoformat()
    api = client.get(f"/api/v1/notifications/{history.reference}/")
    if api.status_code == 200:  # the session API, where enabled
        assert api.json()["reply_due"] == history.reply_due.isoformat()


def test_the_chase_e_mails_write_the_due_date_for_people(cast, history):
    due = for_people(history.reply_due)
    chased = [m for m in mail.outbox if history.reference in m.subject]
    assert chased, [m.subject for m in mail.outbox]
    for message in chased:
        assert other_formats(message.subject + "\n" + message.body) == [], message.subject
    assert any(due in message.body for message in chased)
