"""The second net under idempotency (issue 19): the same shipment sent twice without an
Idempotency-Key — a licensing system that lost the answer and retried — is a 409 that
names the open notification, and nothing is filed; a genuine second shipment carries its
own national reference, and a closed notification's reference may be used again."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from notifications import services
from notifications.models import Notification, Status
from tests.api_helpers import bearer, notification_body, token_for
from tests.factories import file

API = "/api/v1/notifications/"


@pytest.mark.django_db
def test_the_same_national_reference_while_open_is_a_409_naming_the_first(client, cast):
    headers = bearer(token_for(client, cast.exporter))
    first = client.post(API, notification_body(national_reference="LIC-77"), "application/json", headers=headers)
    assert first.status_code == 201
    reference = first.json()["reference"]

    again = client.post(API, notification_body(national_reference=" lic-77 "), "application/json", headers=headers)
    assert again.status_code == 409
    assert reference in again.json()["detail"] and "LIC-77" in again.json()["detail"].upper()
    assert Notification.objects.count() == 1  # nothing filed, not even a draft

    other = client.post(API, notification_body(national_reference="LIC-78"), "application/json", headers=headers)
    assert other.status_code == 201


@pytest.mark.django_db
def test_a_closed_notifications_reference_may_be_used_again_and_other_authorities_are_apart(cast):
    now = timezone.now()
    first = file(cast, now=now, national_reference="LIC-9")
    services.withdraw(actor=cast.exporter_officer, notification=first, reason="Cancelled order.", now=now)
    again = file(cast, now=now, national_reference="LIC-9")
    assert again.status == Status.AWAITING_REPLY
    # A draft with the same reference is kept; only sending it is refused.
    draft = file(cast, now=now, national_reference="LIC-9", draft=True)
    with pytest.raises(services.Conflict, match=again.reference):
        services.submit(actor=cast.exporter_officer, notification=draft, now=now)
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


@pytest.mark.django_db
def test_the_officer_sees_why_on_the_page(cast):
    now = timezone.now()
    first = file(cast, now=now, national_reference="LIC-5")
    draft = file(cast, now=now, national_reference="LIC-5", draft=True)
    browser = Client()
    browser.force_login(cast.exporter_officer)
    page = browser.post(reverse("notifications:send", args=[draft.reference]), {"version": draft.version}, follow=True)
    assert first.reference in page.content.decode()
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT
