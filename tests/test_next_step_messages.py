"""Issue 18, defect 5: the message after each action says what happens next, on the page
the officer lands on. A request for information is not a final reply: the exporter is
asked, the reply clock stops until it answers, and the importer is told when it does."""

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications import services
from notifications.models import Status
from tests.factories import file
from tests.test_notification_pages import text
from web.dates import for_people

pytestmark = pytest.mark.django_db


def url(name, notification):
    return reverse(f"notifications:{name}", args=[notification.reference])


def message_after(client, path, data):
    """The messages shown on the page the action leads to."""
    response = client.post(path, data, follow=True)
    assert response.status_code == 200
    return " ".join(str(message) for message in response.context["messages"]), text(response)


def test_a_request_for_information_says_it_is_not_the_final_reply_and_what_comes_next(client, cast):
    notification = file(cast, now=timezone.now())
    client.force_login(cast.importer_officer)
    message, page = message_after(
        client,
        url("reply", notification),
        {"decision": "information_requested", "comment": "Who is the end user?", "version": notification.version},
    )
    notification.refresh_from_db()
    assert notification.status == Status.INFORMATION_REQUESTED
    assert "Your reply is sent" not in page
    assert message in page  # rendered on the notification's page
    assert f"Your question is sent to {cast.exporter.name}" in message
    assert "This is not your final reply" in message
    assert "the reply clock is stopped until they answer" in message
    assert "you are told by e-mail when they do" in message
    assert for_people(notification.reply_due) in message


def test_a_final_reply_says_it_is_final(client, cast):
    notification = file(cast, now=timezone.now())
    client.force_login(cast.importer_officer)
    message, page = message_after(
        client,
        url("reply", notification),
        {"decision": "no_objection", "version": notification.version, "confirm": "yes"},
    )
    assert message in page
    assert f"Your final reply, “No objection”, is sent to {cast.exporter.name}" in message
    assert "It cannot be changed" in message


def test_acknowledging_says_it_is_not_a_reply_and_when_the_reply_is_due(client, cast):
    notification = file(cast, now=timezone.now())
    client.force_login(cast.importer_officer)
    message, page = message_after(client, url("acknowledge", notification), {"version": notification.version})
    assert message in page
    assert f"{cast.exporter.name} is told by e-mail" in message
    assert f"This is not a reply: your reply is still due {for_people(notification.reply_due)}" in message


def test_the_exporters_answer_says_the_clock_runs_again_and_the_new_due_date(client, cast):
    now = timezone.now()
    notification = file(cast, now=now)
    services.respond(
        actor=cast.importer_officer, notification=notification, decision="information_requested", comment="?", now=now
    )
    client.force_login(cast.exporter_officer)
    message, page = message_after(
        client, url("answer", notification), {"comment": "Accra General Hospital.", "version": notification.version}
    )
    notification.refresh_from_db()
    assert message in page
    assert f"Your answer is sent to {cast.importer.name}" in message
    assert f"the reply is now due {for_people(notification.reply_due)}" in message


def test_withdrawing_says_who_is_told_and_that_it_cannot_be_undone(client, cast):
    notification = file(cast, now=timezone.now())
    client.force_login(cast.exporter_officer)
    message, page = message_after(
        client, url("withdraw", notification), {"reason": "The buyer cancelled.", "version": notification.version}
    )
    assert message in page
    assert f"{cast.importer.name} is told by e-mail" in message
    assert "It can no longer be replied to, and this cannot be undone" in message


def test_sending_says_who_is_told_when_the_reply_is_due_and_that_the_portal_chases_it(client, cast):
    draft = file(cast, now=timezone.now(), draft=True)
    client.force_login(cast.exporter_officer)
    message, page = message_after(client, url("send", draft), {"version": draft.version})
    draft.refresh_from_db()
    assert draft.status == Status.AWAITING_REPLY
    assert message in page
    assert f"{draft.reference} is sent to Ghana. {cast.importer.name} is told by e-mail" in message
    assert f"its reply is due {for_people(draft.reply_due)}" in message
    assert "You will be told when it replies or asks for information" in message
