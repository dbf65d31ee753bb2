"""What an officer does on the page, a licensing system does through the API (issue 19):
change and delete a draft, share and stop sharing, attach and download documents. The
same services, access rules, scopes and idempotency as every other action; who may call
what is tests/test_permission_matrix.py, this file is what each call does and refuses."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from notifications.models import Attachment, Event, EventKind, Notification, Status
from tests.api_helpers import bearer, token_for
from tests.factories import file

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 import permit GH-7"


@pytest.fixture(name="de")
def de_headers(cast, client):
    return bearer(token_for(client, cast.exporter))


@pytest.fixture(name="gh")
def gh_headers(cast, client):
    return bearer(token_for(client, cast.importer, name="GH system"))


def url(notification, suffix=""):
    return f"/api/v1/notifications/{notification.reference}/{suffix}"


def patch(client, notification, body, headers, if_match="current"):
    extra = dict(headers)
    if if_match == "current":
        notification.refresh_from_db()
        extra["If-Match"] = notification.etag
    elif if_match is not None:
        extra["If-Match"] = if_match
    return client.patch(url(notification), body, content_type="application/json", headers=extra)


def snapshot(notification):
    notification.refresh_from_db()
    return (notification.version, notification.importer_address, notification.end_use, notification.items.count())


# --- PATCH of a draft -------------------------------------------------------------------


def test_patch_changes_only_what_is_sent(cast, client, de):
    draft = file(cast, now=timezone.now(), draft=True)
    before = client.get(url(draft), headers=de).json()
    response = patch(
        client,
        draft,
        {
            "importer": {"address": "14 Ring Road, Accra"},
            "shipment": {"point_of_entry": "Takoradi"},
            "items": [{"substance": "pseudoephedrine", "quantity": "40", "unit": "kg"}],
        },
        de,
    )
    assert response.status_code == 200, response.content
    body = response.json()
    # A party and the shipment merge key by key; the items list is replaced whole.
    assert body["importer"] == {**before["importer"], "address": "14 Ring Road, Accra"}
    assert body["shipment"] == {**before["shipment"], "point_of_entry": "Takoradi"}
    assert [(i["substance"], i["quantity"]) for i in body["items"]] == [("pseudoephedrine", "40.000")]
    assert body["exporter"] == before["exporter"] and body["end_use"] == before["end_use"]
    assert body["status"] == "draft"
    assert response["ETag"] != before["version"] and body["version"] == before["version"] + 1
    assert Event.objects.filter(notification=draft, kind=EventKind.EDITED).count() == 1


def test_patch_needs_if_match_and_refuses_a_stale_one(cast, client, de):
    draft = file(cast, now=timezone.now(), draft=True)
    stale = draft.etag
    assert patch(client, draft, {"end_use": "Once"}, de).status_code == 200
    unchanged = snapshot(draft)
    missing = patch(client, draft, {"end_use": "Twice"}, de, if_match=None)
    assert missing.status_code == 428 and "If-Match" in missing.json()["detail"]
    assert patch(client, draft, {"end_use": "Twice"}, de, if_match=stale).status_code == 412
    assert snapshot(draft) == unchanged


def test_patch_with_bad_input_names_the_field_and_stores_nothing(cast, client, de):
    draft = file(cast, now=timezone.now(), draft=True)
    unchanged = snapshot(draft)
    # An item is always sent whole: one without its substance and unit is refused.
    response = patch(client, draft, {"items": [{"quantity": "5"}]}, de)
    assert response.status_code == 400
    assert set(response.json()) == {"items.0.substance", "items.0.unit"}
    own_country = patch(client, draft, {"importing_country": "DE"}, de)
    assert own_country.status_code == 400 and "importing_country" in own_country.json()
    unknown = patch(client, draft, {"items": [{"substance": "nonsense", "quantity": "5", "unit": "kg"}]}, de)
    assert unknown.status_code == 400 and "items.0.substance" in unknown.json()
    assert snapshot(draft) == unchanged


def test_a_draft_may_stay_incomplete_and_submit_lists_what_is_missing(cast, client, de):
    draft = file(cast, now=timezone.now(), draft=True)
    assert patch(client, draft, {"importer": {"name": ""}}, de).status_code == 200
    refused = client.post(url(draft, "submit/"), {}, content_type="application/json", headers=de)
    assert refused.status_code == 400 and "importer.name" in refused.json()
    assert patch(client, draft, {"importer": {"name": "Accra Pharma Ltd"}}, de).status_code == 200
    sent = client.post(url(draft, "submit/"), {}, content_type="application/json", headers=de)
    assert sent.status_code == 200 and sent.json()["status"] == "awaiting_reply"


def test_patch_of_a_withdrawn_notification_is_409_and_changes_nothing(cast, client, de):
    # An open one is amended instead (tests/test_amendment.py).
    sent = file(cast, now=timezone.now())
    client.post(url(sent, "withdraw/"), {"reason": "Cancelled"}, content_type="application/json", headers=de)
    unchanged = snapshot(sent)
    response = patch(client, sent, {"shipment": {"carrier": "Maersk Line"}}, de)
    assert response.status_code == 409
    assert snapshot(sent) == unchanged


def test_patch_with_an_idempotency_key_is_done_once(cast, client, de):
    draft = file(cast, now=timezone.now(), draft=True)
    headers = {**de, "Idempotency-Key": "patch-1", "If-Match": draft.etag}
    first = client.patch(url(draft), {"end_use": "Syrup"}, content_type="application/json", headers=headers)
    again = client.patch(url(draft), {"end_use": "Syrup"}, content_type="application/json", headers=headers)
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert Event.objects.filter(notification=draft, kind=EventKind.EDITED).count() == 1
    other = client.patch(url(draft), {"end_use": "Tablets"}, content_type="application/json", headers=headers)
    assert other.status_code == 422


# --- DELETE of a draft ------------------------------------------------------------------


def test_delete_discards_a_draft(cast, client, de):
    draft = file(cast, now=timezone.now(), draft=True)
    response = client.delete(url(draft), headers={**de, "If-Match": draft.etag})
    assert response.status_code == 204 and response.content == b""
    assert not Notification.objects.filter(pk=draft.pk).exists()
    assert client.get(url(draft), headers=de).status_code == 404


def test_delete_refuses_a_sent_notification_and_a_stale_version(cast, client, de):
    sent = file(cast, now=timezone.now())
    assert client.delete(url(sent), headers=de).status_code == 409
    draft = file(cast, now=timezone.now(), draft=True)
    stale = draft.etag
    assert patch(client, draft, {"end_use": "Changed since"}, de).status_code == 200
    assert client.delete(url(draft), headers={**de, "If-Match": stale}).status_code == 412
    assert Notification.objects.filter(pk__in=[sent.pk, draft.pk]).count() == 2


# --- shares -----------------------------------------------------------------------------


def test_share_lets_another_authority_read_until_revoked(cast, client, de):
    sent = file(cast, now=timezone.now())
    fr = bearer(token_for(client, cast.outsider, name="FR system"))
    assert client.get(url(sent), headers=fr).status_code == 404

    response = client.post(
        url(sent, "shares/"), {"authority": cast.outsider.code}, content_type="application/json", headers=de
    )
    assert response.status_code == 201
    assert response.json() == [{"authority": cast.outsider.code, "name": cast.outsider.name, "country": "FR"}]
    assert client.get(url(sent, "shares/"), headers=de).json() == response.json()
    assert client.get(url(sent), headers=fr).status_code == 200

    assert client.delete(url(sent, f"shares/{cast.outsider.code}/"), headers=de).status_code == 204
    assert client.get(url(sent), headers=fr).status_code == 404
    assert client.get(url(sent, "shares/"), headers=de).json() == []
    assert client.delete(url(sent, f"shares/{cast.outsider.code}/"), headers=de).status_code == 404
    kinds = list(
        sent.events.filter(kind__in=[EventKind.SHARED, EventKind.SHARE_REVOKED]).values_list("kind", flat=True)
    )
    assert kinds == [EventKind.SHARED, EventKind.SHARE_REVOKED]


@pytest.mark.parametrize(
    ("authority", "status", "field"),
    [
        ("no-such-authority", 400, "authority"),
        ("incb", 400, "authority"),
        ("exporter", 400, "authority"),
        ("shared", 409, None),  # already shared with it
        ("", 400, "authority"),
    ],
)
def test_share_refusals(cast, client, de, authority, status, field):
    sent = file(cast, now=timezone.now())
    client.post(url(sent, "shares/"), {"authority": cast.shared.code}, content_type="application/json", headers=de)
    code = {"incb": cast.incb.code, "exporter": cast.exporter.code, "shared": cast.shared.code}.get(
        authority, authority
    )
    events = sent.events.count()
    response = client.post(url(sent, "shares/"), {"authority": code}, content_type="application/json", headers=de)
    assert response.status_code == status, response.content
    if field:
        assert field in response.json()
    assert sent.events.count() == events


def test_sharing_a_draft_is_409(cast, client, de):
    draft = file(cast, now=timezone.now(), draft=True)
    response = client.post(
        url(draft, "shares/"), {"authority": cast.shared.code}, content_type="application/json", headers=de
    )
    assert response.status_code == 409
    assert client.get(url(draft, "shares/"), headers=de).json() == []


# --- attachments ------------------------------------------------------------------------


def upload(client, notification, headers, content=PDF, name="permit.pdf"):
    return client.post(url(notification, "attachments/"), {"file": SimpleUploadedFile(name, content)}, headers=headers)


def test_attach_list_and_download(cast, client, de, gh):
    sent = file(cast, now=timezone.now())
    response = upload(client, sent, de, name="Import permit.html")
    assert response.status_code == 201, response.content
    body = response.json()
    # The name gets the extension of the type sniffed from the content.
    assert (body["name"], body["content_type"], body["size"]) == ("Import permit.pdf", "application/pdf", len(PDF))
    assert response["Location"] == body["url"]
    assert client.get(url(sent, "attachments/"), headers=gh).json() == [body]
    download = client.get(body["url"], headers=gh)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff" and "no-store" in download["Cache-Control"]
    assert 'filename="Import permit.pdf"' in download["Content-Disposition"]
    assert client.get(url(sent, "attachments/0123abcd/"), headers=gh).status_code == 404


def test_attachment_refusals_store_nothing(cast, client, de, settings):
    sent = file(cast, now=timezone.now())
    not_a_document = upload(client, sent, de, content=b"<html><script>alert(1)</script>", name="x.pdf")
    assert not_a_document.status_code == 400 and "file" in not_a_document.json()
    no_file = client.post(url(sent, "attachments/"), {}, headers=de)
    assert no_file.status_code == 400 and "file" in no_file.json()
    as_json = client.post(url(sent, "attachments/"), {"file": "x"}, content_type="application/json", headers=de)
    assert as_json.status_code == 415
    settings.ATTACHMENT_MAX_BYTES = 10
    too_large = upload(client, sent, de)
    assert too_large.status_code == 413 and "larger" in too_large.json()["detail"]
    assert not Attachment.objects.filter(notification=sent).exists()


def test_attaching_to_a_withdrawn_notification_is_409(cast, client, de):
    sent = file(cast, now=timezone.now())
    client.post(url(sent, "withdraw/"), {"reason": "Cancelled"}, content_type="application/json", headers=de)
    sent.refresh_from_db()
    assert sent.status == Status.WITHDRAWN
    assert upload(client, sent, de).status_code == 409
    assert not Attachment.objects.filter(notification=sent).exists()


def test_an_idempotency_key_covers_the_files_content(cast, client, de):
    sent = file(cast, now=timezone.now())
    key = {**de, "Idempotency-Key": "upload-1"}
    first = upload(client, sent, key)
    again = upload(client, sent, key)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    # The same name with other content is another request, never a replay of the first.
    other = upload(client, sent, key, content=b"%PDF-1.4 another permit")
    assert other.status_code == 422
    assert Attachment.objects.filter(notification=sent).count() == 1


# --- the schema says how to call them -------------------------------------------------------


def test_the_schema_documents_the_new_operations(client):
    schema = client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    detail = paths["/api/v1/notifications/{reference}/"]
    assert list(detail["patch"]["requestBody"]["content"]) == ["application/json"]
    assert {"200", "400", "409", "412", "428"} <= set(detail["patch"]["responses"])
    assert "204" in detail["delete"]["responses"]
    upload_op = paths["/api/v1/notifications/{reference}/attachments/"]["post"]
    assert list(upload_op["requestBody"]["content"]) == ["multipart/form-data"]
    assert {"201", "413", "415"} <= set(upload_op["responses"])
    share_op = paths["/api/v1/notifications/{reference}/shares/"]["post"]
    assert list(share_op["requestBody"]["content"]) == ["application/json"]
    assert "delete" in paths["/api/v1/notifications/{reference}/shares/{code}/"]
    download = paths["/api/v1/notifications/{reference}/attachments/{token}/"]["get"]
    assert "application/octet-stream" in download["responses"]["200"]["content"]
