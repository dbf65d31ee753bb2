"""Issue 18, defect 2: a draft saves with whatever is filled in; only sending needs
everything, and sending an incomplete draft is refused with every missing field at once,
shown beside the fields of the edit page. Every page and the API cope with such a draft."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from messaging.models import OutboxMessage
from notifications import services
from notifications.models import EventKind, Notification, Status
from notifications.services import ItemData, NotificationData, PartyData
from tests.api_helpers import bearer, notification_body, token_for
from tests.factories import file
from tests.test_notification_pages import text

pytestmark = pytest.mark.django_db

# What sending still needs of a draft with only the importer's name, an end use and an
# item's quantity: the service's keys.
MISSING = {
    "importing_country",
    "exporter.name",
    "exporter.address",
    "importer.address",
    "point_of_exit",
    "point_of_entry",
    "mode_of_transport",
    "expected_dispatch",
    "items.0.substance",
}


def few_fields_post(**overrides):
    """The filing page as posted after filling in three fields (the rest left as it came)."""
    data = {
        "importer_name": "Accra Pharma Ltd",
        "end_use": "Manufacture of cough syrup",
        "items-TOTAL_FORMS": 1,
        "items-INITIAL_FORMS": 0,
        "items-MAX_NUM_FORMS": 50,
        "items-0-quantity": "250",
        "items-0-unit": "kg",
        "items-0-form": "substance",
        "action": "save",
    }
    data.update(overrides)
    return data


def partial_draft(cast, now):
    return services.file_notification(
        actor=cast.exporter_officer,
        data=NotificationData(
            importer=PartyData(name="Accra Pharma Ltd"),
            end_use="Manufacture of cough syrup",
            items=[ItemData(quantity=250, unit="kg")],
        ),
        draft=True,
        now=now,
    )


def edit_url(notification):
    return reverse("notifications:edit", args=[notification.reference])


def test_save_as_draft_keeps_an_unfinished_form(client, cast):
    client.force_login(cast.exporter_officer)
    response = client.post(reverse("notifications:create"), few_fields_post())
    assert response.status_code == 302
    draft = Notification.objects.get()
    assert response["Location"] == draft.get_absolute_url()
    assert draft.status == Status.DRAFT and draft.importing_country is None and draft.expected_dispatch is None
    assert (draft.importer_name, draft.end_use, draft.exporter_name) == (
        "Accra Pharma Ltd",
        "Manufacture of cough syrup",
        "",
    )
    item = draft.items.get()
    assert item.substance is None and item.quantity == 250
    assert list(draft.events.values_list("kind", flat=True)) == [EventKind.CREATED]

    # Reopened, the page holds what was typed, and no error: it is a draft.
    page = client.get(edit_url(draft))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="Accra Pharma Ltd"' in html and "Manufacture of cough syrup" in html and 'value="250' in html
    assert "There is a problem" not in html

    # Saved again with one more field: still a draft, still incomplete.
    response = client.post(edit_url(draft), few_fields_post(exporter_name="Chemie Export GmbH", version=draft.version))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.exporter_name == "Chemie Export GmbH" and draft.status == Status.DRAFT


def test_what_is_filled_in_must_still_be_right(client, cast):
    """A draft may lack anything, but not hold a mistake: one's own country, a quantity of 0."""
    client.force_login(cast.exporter_officer)
    response = client.post(
        reverse("notifications:create"), few_fields_post(importing_country="DE", **{"items-0-quantity": "0"})
    )
    assert response.status_code == 200
    assert "Germany is your own" in text(response)
    assert "The quantity must be more than zero." in text(response)
    assert "Give the name." not in text(response)  # what is missing is not a mistake in a draft
    assert not Notification.objects.exists()


def test_review_before_sending_still_asks_for_everything_at_once(client, cast):
    client.force_login(cast.exporter_officer)
    response = client.post(reverse("notifications:create"), few_fields_post(action="review"))
    assert response.status_code == 200
    page = response.content.decode()
    for field_id in ("id_importing_country", "id_exporter_name", "id_expected_dispatch", "id_items-0-substance"):
        assert f'href="#{field_id}"' in page, field_id
    assert not Notification.objects.exists()


def test_the_draft_page_lists_what_sending_still_needs_instead_of_a_send_button(client, cast):
    draft = partial_draft(cast, timezone.now())
    client.force_login(cast.exporter_officer)
    page = client.get(draft.get_absolute_url())
    assert page.status_code == 200
    html, words = page.content.decode(), text(page)
    assert "It cannot be sent yet." in words
    assert reverse("notifications:send", args=[draft.reference]) not in html
    for message in (
        "Importing country: Choose the importing country from the list.",
        "Exporter — Name: Give the name.",
        "Expected date of dispatch: Give the expected date of dispatch.",
        "Item 1: Substance: Choose a substance from the catalogue.",
    ):
        assert message in words, message
    assert f'href="{edit_url(draft)}?check=sending#id_exporter_name"' in html
    # What the draft lacks is said, never left blank or shown as "None".
    assert "From Accra" not in words and "an exporter not given yet" in words
    assert words.count("not given yet") >= 6
    assert "None" not in words.replace("Broker None", "")


def test_sending_an_incomplete_draft_is_refused_with_every_missing_field_on_the_edit_page(client, cast):
    draft = partial_draft(cast, timezone.now())
    client.force_login(cast.exporter_officer)
    send = reverse("notifications:send", args=[draft.reference])

    confirm = client.get(send)
    assert confirm.status_code == 200
    assert f"{draft.reference} cannot be sent yet" in text(confirm)
    assert "Yes, send" not in text(confirm)

    response = client.post(send, {"version": draft.version})
    assert response.status_code == 302 and response["Location"] == f"{edit_url(draft)}?check=sending"
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT and draft.submitted_at is None
    assert not draft.events.filter(kind=EventKind.SUBMITTED).exists()
    assert not OutboxMessage.objects.exists()

    page = client.get(response["Location"])
    html, words = page.content.decode(), text(page)
    assert f"{draft.reference} is not sent: it still needs what is marked below." in words
    assert "There is a problem" in words
    # Beside each field (Django's error list id) and in the summary, linked to it.
    for field_id, message in {
        "id_importing_country": "Choose the importing country from the list.",
        "id_exporter_name": "Give the name.",
        "id_exporter_address": "Give the address.",
        "id_importer_address": "Give the address.",
        "id_point_of_exit": "Give the point of exit.",
        "id_point_of_entry": "Give the expected point of entry.",
        "id_mode_of_transport": "Choose a mode of transport.",
        "id_expected_dispatch": "Give the expected date of dispatch.",
        "id_items-0-substance": "Choose a substance from the catalogue.",
    }.items():
        assert re.search(rf'<ul class="errorlist" id="{field_id}_error"><li>{re.escape(message)}', html), field_id
        assert f'href="#{field_id}"' in html, field_id
    # What was given is kept, and not marked.
    assert 'value="Accra Pharma Ltd"' in html and 'id="id_importer_name_error"' not in html


def test_submit_names_every_missing_field_at_once(cast):
    now = timezone.now()
    draft = partial_draft(cast, now)
    with pytest.raises(ValidationError) as refused:
        services.submit(actor=cast.exporter_officer, notification=draft, now=now)
    assert set(refused.value.message_dict) == MISSING
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT
    assert not draft.events.filter(kind=EventKind.SUBMITTED).exists() and not OutboxMessage.objects.exists()


def test_the_api_refuses_to_submit_an_incomplete_draft_and_shows_it_with_nulls(client, cast):
    draft = partial_draft(cast, timezone.now())
    token = bearer(token_for(client, cast.exporter))
    shown = client.get(f"/api/v1/notifications/{draft.reference}/", headers=token)
    assert shown.status_code == 200
    body = shown.json()
    assert (body["importing_country"], body["importing_authority"], body["draft"]) == (None, None, True)
    assert body["shipment"]["expected_dispatch"] is None
    assert (body["items"][0]["substance"], body["items"][0]["quantity"]) == (None, "250.000")
    listed = client.get("/api/v1/notifications/?status=draft", headers=token)
    assert listed.status_code == 200 and listed.json()["results"][0]["importing_country"] is None

    response = client.post(
        f"/api/v1/notifications/{draft.reference}/submit/", {}, content_type="application/json", headers=token
    )
    assert response.status_code == 400
    errors = response.json()  # field -> messages, named as in the body
    assert {"importing_country", "exporter.name", "shipment.expected_dispatch", "items.0.substance"} <= set(errors)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_an_api_draft_follows_the_same_rule_and_an_api_filing_still_needs_everything(client, cast):
    token = bearer(token_for(client, cast.exporter))
    body = notification_body(draft=True, end_use="")
    body["exporter"] = {"name": "", "address": ""}
    created = client.post("/api/v1/notifications/", body, content_type="application/json", headers=token)
    assert created.status_code == 201, created.content
    draft = Notification.objects.get(reference=created.json()["reference"])
    assert draft.status == Status.DRAFT and draft.exporter_name == "" and draft.end_use == ""

    submitted = client.post(
        f"/api/v1/notifications/{draft.reference}/submit/", {}, content_type="application/json", headers=token
    )
    assert submitted.status_code == 400
    assert {"exporter.name", "exporter.address", "end_use"} <= set(submitted.json())

    # Sent at once ("draft": false), the same body is refused and nothing is filed.
    body["draft"] = False
    refused = client.post("/api/v1/notifications/", body, content_type="application/json", headers=token)
    assert refused.status_code == 400 and "exporter.name" in refused.json()
    assert Notification.objects.count() == 1


def test_a_draft_whose_dispatch_date_has_passed_saves_but_does_not_send(client, cast):
    """The rules that age with the calendar wait for sending: last month's draft still saves."""
    filed_at = timezone.now() - timedelta(days=40)
    draft = file(cast, now=filed_at, draft=True)  # complete, dispatch 20 days after filing
    now = timezone.now()
    services.update_draft(
        actor=cast.exporter_officer,
        notification=draft,
        data=services.stored_data(draft),
        now=now,
    )
    assert set(services.sending_problems(draft, now=now)) == {"expected_dispatch"}
    with pytest.raises(ValidationError) as refused:
        services.submit(actor=cast.exporter_officer, notification=draft, now=now)
    assert "cannot be in the past" in str(refused.value.message_dict["expected_dispatch"])


def test_the_database_refuses_a_sent_notification_without_an_importing_country(cast):
    draft = partial_draft(cast, timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.filter(pk=draft.pk).update(status=Status.AWAITING_REPLY)
    # A complete one is sent; then taking its importing country away is refused too.
    sent = file(cast, now=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.filter(pk=sent.pk).update(importing_country=None)


@pytest.mark.parametrize(
    "page",
    ["notifications:dashboard", "notifications:list", "detail", "print", "edit", "send", "delete"],
)
def test_every_page_of_an_incomplete_draft_renders_without_none(client, cast, page):
    draft = partial_draft(cast, timezone.now())
    client.force_login(cast.exporter_officer)
    path = reverse(page) if ":" in page else reverse(f"notifications:{page}", args=[draft.reference])
    response = client.get(path)
    assert response.status_code == 200
    words = text(response)
    assert draft.reference in words
    if page != "edit":  # the form's transit lists offer "None" as a choice
        for meant in ("Broker None", "Transit countries None", "None of your authority"):  # the page's own words
            words = words.replace(meant, "")
        assert "None" not in words, page


def test_the_list_export_of_an_incomplete_draft_says_nothing_is_none(client, cast):
    draft = partial_draft(cast, timezone.now())
    client.force_login(cast.exporter_officer)
    response = client.get(reverse("notifications:list_csv"), {"status": "draft"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert draft.reference in body and "None" not in body
