"""The notification pages: dashboard, list, filing form, the notification page and its
actions, through Django's test client with the fixed cast. Each test asserts the status
code, then the rows after refresh_from_db(), then the events."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from messaging.models import OutboxMessage
from notifications import services
from notifications.models import Attachment, Event, EventKind, Notification, Response, Status
from tests.factories import file
from tests.routes import page_without_csrf

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def now():
    return timezone.now()


def text(response) -> str:
    """The page's visible text, whitespace collapsed, for assertions on sentences."""
    html = response.content.decode()
    html = re.sub(r"<(script|style|template)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def url(name, notification, *args):
    return reverse(f"notifications:{name}", args=[notification.reference, *args])


@pytest.fixture
def login(client):
    def as_user(user):
        client.logout()
        client.force_login(user)
        return client

    return as_user


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private")},
        },
    }


def filing_post(items=None, **overrides):
    """The filing form as the browser posts it: two items and a transit country."""
    data = {
        "importing_country": "GH",
        "transit_1": "NL",
        "exporter_name": "Chemie Export GmbH",
        "exporter_address": "Industriestr. 1, 20095 Hamburg",
        "exporter_licence_number": "DE-EXP-1",
        "importer_name": "Accra Pharma Ltd",
        "importer_address": "12 Ring Road, Accra",
        "point_of_exit": "Hamburg",
        "point_of_entry": "Tema",
        "mode_of_transport": "sea",
        "expected_dispatch": (now().date() + timedelta(days=20)).isoformat(),
        "end_use": "Manufacture of cough syrup",
        "national_reference": "EXP-2026-0042",
        "action": "review",
    }
    if items is None:
        items = [
            {"substance": "ephedrine", "form": "substance", "quantity": "250", "unit": "kg", "packages": "10 drums"},
            {
                "substance": "pseudoephedrine",
                "form": "preparation",
                "trade_name": "Sudo 60",
                "concentration_percent": "12.5",
                "quantity": "40",
                "unit": "kg",
            },
        ]
    data.update({"items-TOTAL_FORMS": len(items), "items-INITIAL_FORMS": 0, "items-MAX_NUM_FORMS": 50})
    for index, item in enumerate(items):
        data.update({f"items-{index}-{key}": value for key, value in item.items()})
    data.update(overrides)
    return data


ACTION_URLS = [
    # (url name, method): every page that acts on one notification
    ("edit", "get"),
    ("edit", "post"),
    ("send", "get"),
    ("send", "post"),
    ("delete", "get"),
    ("delete", "post"),
    ("acknowledge", "post"),
    ("reply", "get"),
    ("reply", "post"),
    ("answer", "post"),
    ("withdraw", "get"),
    ("withdraw", "post"),
    ("share", "post"),
    ("upload_attachment", "post"),
]


def action_markers(notification):
    """Fragments that appear on the page only when an action is offered."""
    return [
        url("acknowledge", notification),
        url("reply", notification),
        url("answer", notification),
        url("withdraw", notification),
        url("send", notification),
        url("edit", notification),
        url("delete", notification),
        url("share", notification),
        url("upload_attachment", notification),
        'name="decision"',
    ]


# --- visibility --------------------------------------------------------------------------


def test_the_outsider_gets_the_same_404_as_for_a_missing_notification_everywhere(login, cast):
    notification = file(cast, now=now())
    attachment = services.add_attachment(
        actor=cast.exporter_officer,
        notification=notification,
        upload=SimpleUploadedFile("permit.pdf", PDF),
        now=now(),
        max_bytes=10_000,
    )
    client = login(cast.outsider_officer)
    missing = client.get(reverse("notifications:detail", args=["DE-2026-999999"]))
    assert missing.status_code == 404

    response = client.get(url("detail", notification))
    assert response.status_code == 404
    assert page_without_csrf(response) == page_without_csrf(missing)
    assert client.get(url("attachment", notification, attachment.token)).status_code == 404
    for name, method in ACTION_URLS:
        response = getattr(client, method)(url(name, notification), {"version": notification.version})
        assert response.status_code == 404, (name, method)
        assert page_without_csrf(response) == page_without_csrf(missing)
    assert client.post(url("revoke_share", notification, "gh-fda")).status_code == 404

    version = notification.version
    notification.refresh_from_db()
    assert notification.status == Status.AWAITING_REPLY and notification.version == version
    assert list(notification.events.values_list("kind", flat=True)) == [
        EventKind.CREATED,
        EventKind.SUBMITTED,
        EventKind.ATTACHMENT_ADDED,
    ]
    assert notification.reference not in client.get(reverse("notifications:list")).content.decode()
    assert notification.reference not in client.get(reverse("notifications:dashboard")).content.decode()


def test_a_draft_is_invisible_to_the_importing_country(login, cast):
    draft = file(cast, now=now(), draft=True)
    assert login(cast.importer_officer).get(url("detail", draft)).status_code == 404
    assert login(cast.incb_reviewer).get(url("detail", draft)).status_code == 404
    assert login(cast.exporter_viewer).get(url("detail", draft)).status_code == 200


def test_pages_need_a_login(client, cast):
    notification = file(cast, now=now())
    for path in (reverse("notifications:dashboard"), reverse("notifications:create"), url("detail", notification)):
        response = client.get(path)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_transit_officer_reads_the_page_but_cannot_reply(login, cast):
    notification = file(cast, now=now())
    version = notification.version
    client = login(cast.transit_officer)

    response = client.get(url("detail", notification))
    assert response.status_code == 200
    page = response.content.decode()
    assert notification.reference in page and "Accra Pharma Ltd" in page
    assert "on the route" in text(response)
    for marker in action_markers(notification):
        assert marker not in page

    response = client.post(
        url("reply", notification),
        {"decision": "no_objection", "confirm": "yes", "version": notification.version},
    )
    assert response.status_code == 403
    assert client.post(url("acknowledge", notification), {"version": 1}).status_code == 403
    assert client.get(url("reply", notification)).status_code == 403

    notification.refresh_from_db()
    assert notification.status == Status.AWAITING_REPLY
    assert notification.acknowledged_at is None and notification.version == version
    assert not Response.objects.filter(notification=notification).exists()
    assert notification.events.count() == 2


@pytest.mark.parametrize("who", ["exporter_viewer", "importer_viewer", "incb_reviewer"])
def test_viewers_and_incb_see_no_action_buttons(login, cast, who):
    notification = file(cast, now=now())
    response = login(getattr(cast, who)).get(url("detail", notification))
    assert response.status_code == 200
    page = response.content.decode()
    for marker in action_markers(notification):
        assert marker not in page, marker
    assert login(getattr(cast, who)).post(url("acknowledge", notification), {"version": 1}).status_code == 403
    notification.refresh_from_db()
    assert notification.acknowledged_at is None


# --- the importing authority ---------------------------------------------------------------


def test_the_importer_acknowledges_asks_and_objects_through_the_pages(login, cast):
    notification = file(cast, now=now())
    client = login(cast.importer_officer)

    page = client.get(url("detail", notification)).content.decode()
    assert url("acknowledge", notification) in page and 'name="decision"' in page

    response = client.post(url("acknowledge", notification), {"version": notification.version})
    assert response.status_code == 302 and response["Location"] == url("detail", notification)
    notification.refresh_from_db()
    assert notification.acknowledged_at is not None
    assert notification.events.filter(kind=EventKind.ACKNOWLEDGED, actor=cast.importer_officer).count() == 1

    # A request for information is not final: it is sent without a confirmation page.
    response = client.post(
        url("reply", notification),
        {"decision": "information_requested", "comment": "Who is the end user?", "version": notification.version},
    )
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.status == Status.INFORMATION_REQUESTED
    assert Response.objects.get(notification=notification).comment == "Who is the end user?"

    exporter = login(cast.exporter_officer)
    page = exporter.get(url("detail", notification))
    assert "Who is the end user?" in text(page)
    response = exporter.post(
        url("answer", notification), {"comment": "Accra General Hospital.", "version": notification.version}
    )
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.status == Status.AWAITING_REPLY

    client = login(cast.importer_officer)
    response = client.post(
        url("reply", notification),
        {"decision": "objection", "comment": "The importer holds no licence.", "version": notification.version},
    )
    assert response.status_code == 200
    assert "This cannot be undone" in text(response)
    notification.refresh_from_db()
    assert notification.status == Status.AWAITING_REPLY  # nothing happens before confirmation

    response = client.post(
        url("reply", notification),
        {
            "decision": "objection",
            "comment": "The importer holds no licence.",
            "version": notification.version,
            "confirm": "yes",
        },
    )
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.status == Status.OBJECTION and notification.replied_at is not None
    assert list(notification.responses.values_list("kind", flat=True)) == [
        "information_requested",
        "information_provided",
        "objection",
    ]
    assert notification.events.filter(kind=EventKind.REPLIED, actor=cast.importer_officer).count() == 1
    assert OutboxMessage.objects.filter(notification=notification, topic="notification.replied").count() == 1
    # Final: no reply form any more.
    assert 'name="decision"' not in client.get(url("detail", notification)).content.decode()


def test_no_objection_goes_through_the_confirmation_page(login, cast):
    notification = file(cast, now=now())
    client = login(cast.importer_officer)
    response = client.get(url("reply", notification))
    assert response.status_code == 200 and 'name="decision"' in response.content.decode()

    version = notification.version
    response = client.post(url("reply", notification), {"decision": "no_objection", "version": version})
    assert response.status_code == 200 and "Yes, send this reply" in text(response)
    response = client.post(
        url("reply", notification), {"decision": "no_objection", "version": version, "confirm": "yes"}
    )
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.status == Status.NO_OBJECTION
    assert notification.events.filter(kind=EventKind.REPLIED).count() == 1


def test_an_objection_without_reasons_is_refused_on_the_form(login, cast):
    notification = file(cast, now=now())
    response = login(cast.importer_officer).post(
        url("reply", notification), {"decision": "objection", "comment": " ", "confirm": "yes", "version": 1}
    )
    assert response.status_code == 200
    assert "Give the reasons for the objection." in text(response)
    assert 'href="#id_comment"' in response.content.decode()
    notification.refresh_from_db()
    assert notification.status == Status.AWAITING_REPLY
    assert not Response.objects.exists()


def test_a_stale_page_gets_a_message_and_changes_nothing(login, cast):
    notification = file(cast, now=now())
    seen = notification.version  # the page the officer opened
    services.acknowledge(actor=cast.importer_admin, notification=notification, now=now())  # a colleague, meanwhile
    client = login(cast.importer_officer)
    response = client.post(
        url("reply", notification), {"decision": "no_objection", "version": seen, "confirm": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert "changed since you opened it" in text(response)
    notification.refresh_from_db()
    assert notification.status == Status.AWAITING_REPLY and notification.version == seen + 1
    assert not Response.objects.exists()


def test_acting_in_the_wrong_state_is_a_message_not_an_error(login, cast):
    notification = file(cast, now=now())
    services.withdraw(actor=cast.exporter_officer, notification=notification, reason="Cancelled", now=now())
    notification.refresh_from_db()
    response = login(cast.importer_officer).post(
        url("reply", notification),
        {"decision": "no_objection", "version": notification.version, "confirm": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert "This cannot be done now" in text(response)
    notification.refresh_from_db()
    assert notification.status == Status.WITHDRAWN
    assert not Response.objects.exists()


def test_the_exporting_officer_cannot_reply_to_its_own_notification(login, cast):
    notification = file(cast, now=now())
    response = login(cast.exporter_officer).post(
        url("reply", notification), {"decision": "no_objection", "version": 1, "confirm": "yes"}
    )
    assert response.status_code == 403
    notification.refresh_from_db()
    assert notification.status == Status.AWAITING_REPLY


# --- filing ------------------------------------------------------------------------------


def test_the_exporter_files_two_items_and_a_transit_country_reviews_and_sends(login, cast):
    client = login(cast.exporter_officer)
    response = client.get(reverse("notifications:create"))
    assert response.status_code == 200
    assert "Ephedrine — CAS 299-42-3 — HS 2939.41" in response.content.decode()

    response = client.post(reverse("notifications:create"), filing_post())
    assert response.status_code == 302
    notification = Notification.objects.get()
    assert response["Location"] == url("detail", notification) + "#review"
    assert notification.status == Status.DRAFT
    assert notification.exporting_authority == cast.exporter and notification.created_by == cast.exporter_officer
    items = list(notification.items.order_by("position"))
    assert [(i.substance.code, i.quantity, i.form) for i in items] == [
        ("ephedrine", 250, "substance"),
        ("pseudoephedrine", 40, "preparation"),
    ]
    assert items[1].trade_name == "Sudo 60" and float(items[1].concentration_percent) == 12.5
    assert [t.country_id for t in notification.transits.all()] == ["NL"]
    assert list(notification.events.values_list("kind", flat=True)) == [EventKind.CREATED]

    review = client.get(url("detail", notification))
    assert review.status_code == 200
    assert "Send to Ghana" in text(review) and "Back to edit" in text(review)
    assert "Sudo 60" in text(review) and "Netherlands" in text(review)

    confirm = client.get(url("send", notification))
    assert confirm.status_code == 200
    assert "This cannot be undone" in text(confirm)
    notification.refresh_from_db()
    assert notification.status == Status.DRAFT

    response = client.post(url("send", notification), {"version": notification.version})
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.status == Status.AWAITING_REPLY
    assert notification.reply_due == notification.submitted_at.date() + timedelta(days=15)
    assert list(notification.events.values_list("kind", flat=True)) == [EventKind.CREATED, EventKind.SUBMITTED]
    assert OutboxMessage.objects.filter(notification=notification, topic="notification.received").count() == 1


def test_save_as_draft_then_edit_the_draft(login, cast):
    client = login(cast.exporter_officer)
    response = client.post(reverse("notifications:create"), filing_post(action="save"))
    assert response.status_code == 302
    notification = Notification.objects.get()
    assert response["Location"] == url("detail", notification)

    page = client.get(url("edit", notification))
    assert page.status_code == 200
    assert 'value="Chemie Export GmbH"' in page.content.decode()

    response = client.post(
        url("edit", notification),
        filing_post(importer_name="Tema Labs Ltd", transit_1="", version=notification.version, action="save"),
    )
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.importer_name == "Tema Labs Ltd" and notification.status == Status.DRAFT
    assert not notification.transits.exists()
    assert notification.items.count() == 2
    assert notification.events.filter(kind=EventKind.EDITED).count() == 1

    # The first page, now stale: refused with a message, what was typed kept on the page.
    response = client.post(url("edit", notification), filing_post(importer_name="Old name", version=1, action="save"))
    assert response.status_code == 200
    assert "Someone changed this draft since you opened it" in text(response)
    assert 'value="Old name"' in response.content.decode()
    assert f'name="version" value="{notification.version}"' in response.content.decode()
    notification.refresh_from_db()
    assert notification.importer_name == "Tema Labs Ltd"
    assert notification.events.filter(kind=EventKind.EDITED).count() == 1


def test_add_another_item_without_javascript_keeps_what_was_typed(login, cast):
    client = login(cast.exporter_officer)
    data = filing_post(items=[{"substance": "ephedrine", "quantity": "12.5", "unit": "kg"}], action="add_item")
    response = client.post(reverse("notifications:create"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="items-1-substance"' in page and 'name="items-2-substance"' not in page
    assert 'name="items-TOTAL_FORMS" value="2"' in page
    assert 'value="Chemie Export GmbH"' in page and 'value="12.5"' in page
    assert "There is a problem" not in page
    assert not Notification.objects.exists()


def test_invalid_input_shows_field_errors_keeps_the_input_and_creates_nothing(login, cast):
    client = login(cast.exporter_officer)
    yesterday = (now().date() - timedelta(days=1)).isoformat()
    data = filing_post(
        importing_country="DE",
        expected_dispatch=yesterday,
        items=[
            {"substance": "ephedrine", "quantity": "0", "unit": "kg"},
            {"substance": "", "quantity": "", "unit": "kg", "form": "substance"},  # an empty row: left out
        ],
    )
    response = client.post(reverse("notifications:create"), data)
    assert response.status_code == 200
    page = response.content.decode()
    errors = {
        "id_importing_country": "Germany is your own",
        "id_items-0-quantity": "The quantity must be more than zero.",
        "id_expected_dispatch": "cannot be in the past",
    }
    for field_id, message in errors.items():
        # The message beside the field (Django's error list id) and in the summary, linked.
        assert re.search(rf'<ul class="errorlist" id="{field_id}_error"><li>[^<]*{message}', page), field_id
        assert f'href="#{field_id}"' in page
    assert 'value="Chemie Export GmbH"' in page and f'value="{yesterday}"' in page
    assert not Notification.objects.exists()
    assert not Event.objects.exists()


def test_shape_and_service_errors_are_shown_together(login, cast):
    data = filing_post(exporter_name="", items=[{"substance": "ephedrine", "quantity": "lots", "unit": "kg"}])
    response = login(cast.exporter_officer).post(reverse("notifications:create"), data)
    assert response.status_code == 200
    assert "Enter a number." in text(response)  # the form's shape check
    assert "Give the name." in text(response)  # the service's rule, in the same pass
    assert not Notification.objects.exists()


def test_no_items_and_a_reply_due_too_early_are_explained(login, cast):
    data = filing_post(items=[], reply_due=(now().date() + timedelta(days=2)).isoformat())
    response = login(cast.exporter_officer).post(reverse("notifications:create"), data)
    assert response.status_code == 200
    assert "Add at least one item." in text(response)
    assert "cannot be due before" in text(response)
    assert not Notification.objects.exists()


def test_a_route_through_the_importing_country_is_explained_on_the_first_transit_field(login, cast):
    data = filing_post(transit_1="NL", transit_2="GH")
    response = login(cast.exporter_officer).post(reverse("notifications:create"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r'id="id_transit_1_error"><li>Ghana is the exporting or importing country', page)
    assert 'href="#id_transit_1"' in page
    assert not Notification.objects.exists()


@pytest.mark.parametrize("who", ["exporter_viewer", "incb_reviewer"])
def test_only_officers_of_a_national_authority_may_file(login, cast, who):
    client = login(getattr(cast, who))
    assert client.get(reverse("notifications:create")).status_code == 403
    assert client.post(reverse("notifications:create"), filing_post()).status_code == 403
    assert not Notification.objects.exists()


def test_delete_a_draft_through_the_confirmation_page(login, cast):
    draft = file(cast, now=now(), draft=True)
    client = login(cast.exporter_officer)
    confirm = client.get(url("delete", draft))
    assert confirm.status_code == 200 and "This cannot be undone" in text(confirm)
    assert Notification.objects.filter(pk=draft.pk).exists()
    response = client.post(url("delete", draft))
    assert response.status_code == 302 and response["Location"] == reverse("notifications:dashboard")
    assert not Notification.objects.filter(pk=draft.pk).exists()


def test_withdraw_through_the_confirmation_page_with_a_reason(login, cast):
    notification = file(cast, now=now())
    client = login(cast.exporter_officer)
    confirm = client.get(url("withdraw", notification))
    assert confirm.status_code == 200 and "This cannot be undone" in text(confirm)

    response = client.post(url("withdraw", notification), {"reason": "", "version": notification.version})
    assert response.status_code == 200
    assert "Give the reason for withdrawing the notification." in text(response)
    notification.refresh_from_db()
    assert notification.status == Status.AWAITING_REPLY

    response = client.post(
        url("withdraw", notification), {"reason": "Order cancelled", "version": notification.version}
    )
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.status == Status.WITHDRAWN
    assert notification.events.get(kind=EventKind.WITHDRAWN).detail == "Order cancelled"


# --- attachments and shares ---------------------------------------------------------------


def test_a_text_file_named_pdf_is_refused(login, cast):
    notification = file(cast, now=now())
    upload = SimpleUploadedFile("permit.pdf", b"just some text, not a PDF", content_type="application/pdf")
    response = login(cast.exporter_officer).post(url("upload_attachment", notification), {"file": upload})
    assert response.status_code == 200
    assert "Attach a PDF, PNG or JPEG file." in text(response)
    assert not Attachment.objects.exists()
    assert not notification.events.filter(kind=EventKind.ATTACHMENT_ADDED).exists()


def test_a_pdf_is_attached_and_served_to_parties_only(login, cast):
    notification = file(cast, now=now())
    response = login(cast.exporter_officer).post(
        url("upload_attachment", notification), {"file": SimpleUploadedFile("import permit.pdf", PDF)}
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get(notification=notification)
    assert attachment.content_type == "application/pdf"
    assert notification.events.filter(kind=EventKind.ATTACHMENT_ADDED).count() == 1

    client = login(cast.importer_officer)
    assert url("attachment", notification, attachment.token) in client.get(url("detail", notification)).content.decode()
    download = client.get(url("attachment", notification, attachment.token))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == PDF

    assert login(cast.outsider_officer).get(url("attachment", notification, attachment.token)).status_code == 404
    other = file(cast, now=now())
    assert client.get(url("attachment", other, attachment.token)).status_code == 404  # token of another


def test_only_the_exporting_officer_may_attach(login, cast):
    notification = file(cast, now=now())
    response = login(cast.importer_officer).post(
        url("upload_attachment", notification), {"file": SimpleUploadedFile("permit.pdf", PDF)}
    )
    assert response.status_code == 403
    assert not Attachment.objects.exists()


def test_sharing_makes_the_page_visible_read_only_and_revoking_hides_it(login, cast):
    notification = file(cast, now=now())
    exporter = login(cast.exporter_officer)
    response = exporter.post(url("share", notification), {"authority": "fr-ansm"})
    assert response.status_code == 302
    assert notification.events.filter(kind=EventKind.SHARED).count() == 1
    assert "ANSM (FR)" in text(exporter.get(url("detail", notification)))

    outsider = login(cast.outsider_officer)
    page = outsider.get(url("detail", notification))
    assert page.status_code == 200
    assert "shared this notification with your authority" in text(page)
    for marker in action_markers(notification):
        assert marker not in page.content.decode()
    assert outsider.post(url("acknowledge", notification), {"version": 1}).status_code == 403

    exporter = login(cast.exporter_officer)
    response = exporter.post(url("revoke_share", notification, "fr-ansm"))
    assert response.status_code == 302
    assert notification.events.filter(kind=EventKind.SHARE_REVOKED).count() == 1
    assert login(cast.outsider_officer).get(url("detail", notification)).status_code == 404


def test_sharing_a_draft_is_not_offered(login, cast):
    draft = file(cast, now=now(), draft=True)
    client = login(cast.exporter_officer)
    assert url("share", draft) not in client.get(url("detail", draft)).content.decode()
    response = client.post(url("share", draft), {"authority": "fr-ansm"}, follow=True)
    assert "This cannot be done now" in text(response)
    assert not draft.events.filter(kind=EventKind.SHARED).exists()


# --- dashboard and list ----------------------------------------------------------------------


def test_the_importers_dashboard_lists_overdue_first_with_days_left(login, cast):
    on_time = file(cast, now=now())
    late = file(cast, now=now() - timedelta(days=40), expected_dispatch=now().date() + timedelta(days=5))
    response = login(cast.importer_officer).get(reverse("notifications:dashboard"))
    assert response.status_code == 200
    page = text(response)
    assert page.index(late.reference) < page.index(on_time.reference)
    assert "Overdue by 25 days" in page and "15 days left" in page


def test_the_exporters_dashboard_shows_drafts_outgoing_and_recent_replies(login, cast):
    draft = file(cast, now=now(), draft=True)
    outgoing = file(cast, now=now())
    replied = file(cast, now=now())
    services.respond(actor=cast.importer_officer, notification=replied, decision="no_objection", now=now())
    response = login(cast.exporter_officer).get(reverse("notifications:dashboard"))
    assert response.status_code == 200
    page = text(response)
    drafts, recent = page.index("Drafts"), page.index("Final replies in the last")
    assert page.index(outgoing.reference) < recent
    assert recent < page.index(replied.reference) < drafts < page.index(draft.reference)
    assert "Nothing awaits a reply from Germany" in page


def test_an_empty_dashboard_says_what_to_do_next(login, cast):
    page = text(login(cast.outsider_officer).get(reverse("notifications:dashboard")))
    assert "Nothing awaits a reply from France" in page
    assert "File a new notification" in page
    assert "No drafts." in page


def test_incb_sees_a_system_wide_overview(login, cast):
    file(cast, now=now())
    file(cast, now=now() - timedelta(days=40), expected_dispatch=now().date() + timedelta(days=5))
    file(cast, now=now(), draft=True)
    response = login(cast.incb_reviewer).get(reverse("notifications:dashboard"))
    assert response.status_code == 200
    assert response.context["counts"] == {
        "awaiting": 2,
        "overdue": 1,
        "information_requested": 0,
        "replied_recently": 0,
    }
    assert len(response.context["recent"]["rows"]) == 2  # the draft is the exporter's alone


def _queries(client, path):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_dashboards_and_the_list_take_the_same_number_of_queries_for_3_or_30_notifications(login, cast):
    def fill(count):
        for _ in range(count):
            file(cast, now=now())
            file(cast, now=now(), draft=True)

    paths = {
        "importer": (cast.importer_officer, reverse("notifications:dashboard")),
        "exporter": (cast.exporter_officer, reverse("notifications:dashboard")),
        "incb": (cast.incb_reviewer, reverse("notifications:dashboard")),
        "list": (cast.exporter_officer, reverse("notifications:list")),
    }
    fill(3)
    few = {name: _queries(login(user), path) for name, (user, path) in paths.items()}
    fill(27)
    many = {name: _queries(login(user), path) for name, (user, path) in paths.items()}
    assert many == few


def test_the_list_filters_and_paginates(login, cast):
    sent = [file(cast, now=now()) for _ in range(26)]
    late = file(cast, now=now() - timedelta(days=40), expected_dispatch=now().date() + timedelta(days=5))
    draft = file(cast, now=now(), draft=True)
    client = login(cast.exporter_officer)
    listing = reverse("notifications:list")

    first = client.get(listing)
    assert first.status_code == 200
    assert first.context["page"].paginator.count == 28
    assert len(first.context["page"].object_list) == 25
    second = client.get(listing, {"page": 2})
    assert len(second.context["page"].object_list) == 3

    def refs(params):
        response = client.get(listing, params)
        assert response.status_code == 200
        return {n.reference for n in response.context["page"].object_list}

    assert refs({"overdue": "on"}) == {late.reference}
    assert refs({"status": "draft"}) == {draft.reference}
    assert refs({"q": sent[3].reference}) == {sent[3].reference}
    assert refs({"role": "importing"}) == set()
    assert len(refs({"role": "exporting", "importing_country": "GH", "substance": "ephedrine"})) == 25
    assert refs({"exporting_country": "FR"}) == set()

    importer = login(cast.importer_officer)
    response = importer.get(listing, {"role": "importing", "q": "Accra Pharma"})
    assert response.context["page"].paginator.count == 27  # not the draft
    transit = login(cast.transit_officer)
    response = transit.get(listing, {"role": "transit", "overdue": "on"})
    assert [n.reference for n in response.context["page"].object_list] == [late.reference]
