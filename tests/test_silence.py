"""Silence as a signal: per-country silence rate and INCB's follow-up queue."""

from datetime import UTC, date, datetime, timedelta

import pytest

from chasing import sweep
from chasing.models import FollowUp
from notifications import services
from notifications.models import Event, EventKind
from tests.factories import file
from timeliness import stats

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DUE = date(2026, 3, 17)
AFTER = datetime(2026, 3, 25, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def test_the_silence_rate_counts_due_notifications_not_answered_by_the_due_date(cast):
    on_time = file(cast, now=NOW)
    late = file(cast, now=NOW)
    silent = file(cast, now=NOW)
    asked = file(cast, now=NOW)
    file(cast, now=NOW)  # a second silent one
    services.respond(actor=cast.importer_officer, notification=on_time, decision="no_objection", now=NOW)
    services.respond(
        actor=cast.importer_officer,
        notification=asked,
        decision="information_requested",
        comment="?",
        now=NOW + timedelta(days=1),
    )
    services.respond(actor=cast.importer_officer, notification=late, decision="objection", comment="no", now=AFTER)
    rate = stats.silence_rate("GH", today=AFTER.date())
    # 5 due: answered on time 2 (the reply and the request for information); late 1; silent 2.
    assert (rate.due, rate.silent, rate.rate) == (5, 3, 0.6)
    assert silent.reply_due == DUE
    # Before the due date the unanswered ones do not count yet; the answered ones do.
    early = stats.silence_rate("GH", today=date(2026, 3, 5))
    assert (early.due, early.silent) == (3, 1)


def test_the_follow_up_queue_is_incb_only_grouped_and_keeps_followed_up_items(cast, client):
    silent = file(cast, now=NOW)
    answered = file(cast, now=NOW)
    services.respond(actor=cast.importer_officer, notification=answered, decision="no_objection", now=NOW)
    sweep.sweep(now=AFTER)

    client.force_login(cast.exporter_officer)
    assert client.get("/incb/follow-up/").status_code == 404

    client.force_login(cast.incb_reviewer)
    page = client.get("/incb/follow-up/")
    assert page.status_code == 200
    body = page.content.decode()
    assert silent.reference in body and answered.reference not in body
    assert "gh-fda@example.org" in body  # the focal point's contacts

    response = client.post(f"/incb/follow-up/{silent.reference}/", {"channel": "phone", "note": "Called the desk"})
    assert response.status_code == 302
    follow_up = FollowUp.objects.get(notification=silent)
    assert (follow_up.channel, follow_up.user, follow_up.note) == ("phone", cast.incb_reviewer, "Called the desk")
    assert Event.objects.filter(notification=silent, kind=EventKind.FOLLOWED_UP, actor=cast.incb_reviewer).exists()
    body = client.get("/incb/follow-up/").content.decode()
    assert silent.reference in body and "Called the desk" in body

    services.respond(actor=cast.importer_officer, notification=silent, decision="no_objection", now=AFTER)
    assert silent.reference not in client.get("/incb/follow-up/").content.decode()


def test_a_national_officer_cannot_record_a_follow_up(cast, client):
    silent = file(cast, now=NOW)
    client.force_login(cast.importer_admin)
    assert client.post(f"/incb/follow-up/{silent.reference}/", {"channel": "phone"}).status_code == 404
    assert not FollowUp.objects.exists()


def test_the_filing_form_and_the_notification_page_show_the_importing_countrys_silence(cast, client):
    from django.utils import timezone

    now = timezone.now()
    for _ in range(3):
        file(cast, now=now - timedelta(days=40))  # all three went unanswered
    answered = file(cast, now=now - timedelta(days=40))
    services.respond(
        actor=cast.importer_officer, notification=answered, decision="no_objection", now=now - timedelta(days=39)
    )
    client.force_login(cast.exporter_officer)
    signal = client.get("/notifications/countries/GH/signal.json").json()
    assert (signal["due"], signal["silent"]) == (4, 3)
    assert signal["sentence"] == "Ghana left 3 of its last 4 notifications unanswered by the due date (last 12 months)."
    assert "never ship on silence" in signal["advice"]
    assert signal["focal_point"]["email"] == "gh-fda@example.org"

    current = file(cast, now=now)
    page = client.get(f"/notifications/{current.reference}/").content.decode()
    assert "Ghana left 3 of its last 4 notifications unanswered" in page
    assert "gh-fda@example.org" in page
    # The form shows it again when it is re-rendered with Ghana chosen.
    form = client.post("/notifications/new/", {"importing_country": "GH", "action": "add_item"}).content.decode()
    assert "Ghana left 3 of its last 4 notifications unanswered" in form
