"""A Python client generated from the live schema with openapi-python-client does the whole
exchange a licensing system does (issue 19): the schema, not prose, is what most
integrators' contractors build on. The client is told to raise on any status the schema
does not list, and every response is parsed into the generated models, so a body or a
status the schema misdescribes fails here."""

import base64
import importlib
import io
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.services import create_api_client

GENERATOR = Path(sys.executable).with_name("openapi-python-client")
pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def generated(tmp_path_factory, live_server, django_db_blocker):
    """The client package, generated from what the running portal serves at /api/schema/."""
    import httpx

    out = tmp_path_factory.mktemp("client")
    schema = out / "schema.json"
    # A module fixture runs outside any test's database access, and the live server's
    # thread shares the blocker: serving the schema may read the database (a session, the
    # throttle's user), which would be a 500 whenever this runs first in its worker.
    with django_db_blocker.unblock():
        response = httpx.get(f"{live_server.url}/api/schema/?format=json").raise_for_status()
    schema.write_bytes(response.content)
    config = out / "config.yaml"
    config.write_text("package_name_override: pen_client\nproject_name_override: pen-client\n")
    done = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(schema), "--output-path", str(out / "pen_client"),
         "--meta", "none", "--config", str(config)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    # "Warning(s) encountered" means a piece of the schema could not become code.
    assert "Warning" not in done.stdout, done.stdout
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("pen_client")
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m == "pen_client" or m.startswith("pen_client.")]:
            del sys.modules[name]


def _module(name):
    return importlib.import_module(f"pen_client.{name}")


def _token(pen, url, authority, scopes=None):
    """POST /oauth/token/ through the generated operation, client secret by HTTP Basic."""
    _client, client_id, secret = create_api_client(authority=authority, name="Generated client", scopes=scopes)
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    auth = pen.AuthenticatedClient(base_url=url, token=basic, prefix="Basic", raise_on_unexpected_status=True)
    token_api = _module("api.authentication.oauth_token_create")
    models = _module("models")
    answer = token_api.sync_detailed(
        client=auth,
        body=models.OauthTokenCreateBody(grant_type=models.OauthTokenCreateBodyGrantType.CLIENT_CREDENTIALS),
    )
    assert answer.status_code == 200, answer.content
    assert isinstance(answer.parsed, models.OauthTokenCreateResponse200)
    return pen.AuthenticatedClient(base_url=url, token=answer.parsed.access_token, raise_on_unexpected_status=True)


def _body(models, national_reference):
    dispatch = timezone.now().date() + timedelta(days=20)
    return models.NotificationInputRequest(
        national_reference=national_reference,
        importing_country="GH",
        transit_countries=["NL"],
        exporter=models.PartyInputRequest(name="Chemie Export GmbH", address="Industriestr. 1, Hamburg"),
        importer=models.PartyInputRequest(name="Accra Pharma Ltd", address="12 Ring Road, Accra"),
        items=[
            models.ItemInputRequest(
                substance="ephedrine", quantity="250.000", unit=models.UnitEnum.KG, packages="10 drums"
            )
        ],
        shipment=models.ShipmentInputRequest(
            mode_of_transport=models.ModeOfTransportEnum.SEA,
            point_of_exit="Hamburg",
            point_of_entry="Tema",
            expected_dispatch=dispatch,
        ),
        end_use="Manufacture of cough syrup",
    )


def test_a_generated_client_does_the_whole_exchange(generated, live_server, cast):
    pen, url = generated, live_server.url
    models = _module("models")
    notifications = "api.notifications."
    create = _module(notifications + "v1_notifications_create")
    listing = _module(notifications + "v1_notifications_list")
    retrieve = _module(notifications + "v1_notifications_retrieve")
    acknowledge = _module(notifications + "v1_notifications_acknowledge_create")
    respond = _module(notifications + "v1_notifications_respond_create")
    provide = _module(notifications + "v1_notifications_provide_information_create")
    withdraw = _module(notifications + "v1_notifications_withdraw_create")
    register = _module("api.webhooks.v1_webhooks_create")
    hooks = _module("api.webhooks.v1_webhooks_list")

    exporter = _token(pen, url, cast.exporter)
    importer = _token(pen, url, cast.importer)

    # File three (a nested body, sent as JSON), so that the list has pages to follow.
    filed = []
    for number in range(3):
        answer = create.sync_detailed(
            client=exporter, body=_body(models, f"GEN-{number}"), idempotency_key=f"k{number}"
        )
        assert answer.status_code == 201, answer.content
        assert isinstance(answer.parsed, models.Notification)
        assert answer.parsed.status == models.StatusEnum.AWAITING_REPLY
        filed.append(answer.parsed.reference)
    # The same key again: the first answer, nothing filed twice.
    again = create.sync_detailed(client=exporter, body=_body(models, "GEN-0"), idempotency_key="k0")
    assert (again.status_code, again.parsed.reference, again.headers.get("Idempotent-Replayed")) == (
        201,
        filed[0],
        "true",
    )

    # The importer's list, two per page, by following the cursor in `next`.
    seen, cursor = [], None
    for _ in range(5):
        page = listing.sync_detailed(client=importer, page_size=2, cursor=cursor or pen.types.UNSET)
        assert isinstance(page.parsed, models.PaginatedNotificationSummaryList)
        seen += [row.reference for row in page.parsed.results]
        if not page.parsed.next_:
            break
        cursor = page.parsed.next_.split("cursor=")[1].split("&")[0]
    assert sorted(seen) == sorted(filed)
    assert len(seen) == 3

    # A cursor the API never gave is a documented 404, parsed as the error body.
    bad = listing.sync_detailed(client=importer, cursor="not-a-cursor")
    assert bad.status_code == 404
    assert bad.parsed.detail == "Invalid cursor"

    reference = filed[0]
    detail = retrieve.sync_detailed(reference, client=importer)
    assert isinstance(detail.parsed, models.Notification)
    etag = detail.headers["ETag"]

    # A stale ETag is refused (412), the current one accepted.
    stale = acknowledge.sync_detailed(reference, client=importer, if_match='"0-0"')
    assert stale.status_code == 412
    acknowledged = acknowledge.sync_detailed(reference, client=importer, if_match=etag)
    assert acknowledged.status_code == 200, acknowledged.content
    assert acknowledged.parsed.acknowledged_at is not None

    asked = respond.sync_detailed(
        reference,
        client=importer,
        body=models.RespondInputRequest(
            decision=models.DecisionEnum.INFORMATION_REQUESTED, comment="Send the end-user certificate."
        ),
        idempotency_key="ask-1",
    )
    assert asked.parsed.status == models.StatusEnum.INFORMATION_REQUESTED, asked.content

    answered = provide.sync_detailed(
        reference,
        client=exporter,
        body=models.ProvideInformationInputRequest(comment="Certificate no. 42 attached to our file."),
        idempotency_key="answer-1",
    )
    assert answered.parsed.status == models.StatusEnum.AWAITING_REPLY, answered.content

    replied = respond.sync_detailed(
        reference,
        client=importer,
        body=models.RespondInputRequest(decision=models.DecisionEnum.NO_OBJECTION),
        idempotency_key="reply-1",
    )
    assert replied.parsed.status == models.StatusEnum.NO_OBJECTION, replied.content
    # A second final reply is a documented 409.
    twice = respond.sync_detailed(
        reference,
        client=importer,
        body=models.RespondInputRequest(decision=models.DecisionEnum.OBJECTION, comment="Too late."),
    )
    assert twice.status_code == 409
    assert isinstance(twice.parsed, models.ErrorBody)

    withdrawn = withdraw.sync_detailed(
        filed[1],
        client=exporter,
        body=models.WithdrawInputRequest(reason="The buyer cancelled the order."),
        idempotency_key="withdraw-1",
    )
    assert withdrawn.parsed.status == models.StatusEnum.WITHDRAWN, withdrawn.content

    # A webhook endpoint at a public address (an IP literal: no DNS in the tests).
    created = register.sync_detailed(
        client=importer,
        body=models.WebhookEndpointInputRequest(url="https://93.184.215.14/pen-hooks", description="Generated"),
        idempotency_key="hook-1",
    )
    assert created.status_code == 201, created.content
    assert isinstance(created.parsed, models.WebhookEndpointCreated)
    assert created.parsed.secret
    listed = hooks.sync_detailed(client=importer)
    assert [hook.id for hook in listed.parsed] == [created.parsed.id]


def test_a_body_the_schema_does_not_offer_is_refused_not_guessed(generated, live_server, cast):
    """The schema offers JSON only; a form-encoded body (what the generator used to send) is
    a 415 that names the media type, and nothing is filed."""
    import httpx

    from notifications.models import Notification

    pen = generated
    exporter = _token(pen, live_server.url, cast.exporter)
    answer = httpx.post(
        f"{live_server.url}/api/v1/notifications/",
        data={"importing_country": "GH"},
        headers={"Authorization": f"Bearer {exporter.token}"},
    )
    assert answer.status_code == 415
    assert "application/x-www-form-urlencoded" in answer.json()["detail"]
    assert not Notification.objects.exists()


def test_a_wrong_secret_is_the_documented_oauth_error(generated, live_server, cast):
    pen = generated
    models = _module("models")
    token_api = _module("api.authentication.oauth_token_create")
    _client, client_id, _secret = create_api_client(authority=cast.exporter, name="Generated client")
    basic = base64.b64encode(f"{client_id}:not-the-secret".encode()).decode()
    auth = pen.AuthenticatedClient(
        base_url=live_server.url, token=basic, prefix="Basic", raise_on_unexpected_status=True
    )
    answer = token_api.sync_detailed(
        client=auth,
        body=models.OauthTokenCreateBody(grant_type=models.OauthTokenCreateBodyGrantType.CLIENT_CREDENTIALS),
    )
    assert answer.status_code == 401
    assert isinstance(answer.parsed, models.TokenError)
    assert answer.parsed.error == models.TokenErrorError.INVALID_CLIENT


def test_a_generated_client_does_what_an_officer_does(generated, live_server, cast):
    """Change and delete a draft, share and stop sharing, attach and download a document:
    through the generated code and the live server (issue 19), the upload as the one
    multipart body the schema offers."""
    pen, url = generated, live_server.url
    models = _module("models")
    notifications = "api.notifications."
    create = _module(notifications + "v1_notifications_create")
    patch = _module(notifications + "v1_notifications_partial_update")
    delete = _module(notifications + "v1_notifications_destroy")
    retrieve = _module(notifications + "v1_notifications_retrieve")
    submit = _module(notifications + "v1_notifications_submit_create")
    shares = _module(notifications + "v1_notifications_shares_list")
    share = _module(notifications + "v1_notifications_shares_create")
    unshare = _module(notifications + "v1_notifications_shares_destroy")
    attachments = _module(notifications + "v1_notifications_attachments_list")
    attach = _module(notifications + "v1_notifications_attachments_create")
    download = _module(notifications + "v1_notifications_attachments_retrieve")
    exporter = _token(pen, url, cast.exporter)
    importer = _token(pen, url, cast.importer)

    draft_body = _body(models, "GEN-DRAFT")
    draft_body.draft = True
    drafted = create.sync_detailed(client=exporter, body=draft_body)
    assert drafted.status_code == 201 and drafted.parsed.draft is True
    reference = drafted.parsed.reference

    # Without If-Match: the documented 428; with it, only the fields sent change.
    change = models.PatchedDraftPatchInputRequest(
        importer=models.PartyPatchRequest(address="14 Ring Road, Accra"), end_use="Manufacture of syrup"
    )
    assert patch.sync_detailed(reference, client=exporter, body=change).status_code == 428
    changed = patch.sync_detailed(reference, client=exporter, body=change, if_match=drafted.headers["ETag"])
    assert changed.status_code == 200, changed.content
    assert isinstance(changed.parsed, models.Notification)
    assert (changed.parsed.importer.name, changed.parsed.importer.address) == (
        "Accra Pharma Ltd",
        "14 Ring Road, Accra",
    )
    assert changed.parsed.end_use == "Manufacture of syrup"
    sent = submit.sync_detailed(reference, client=exporter, if_match=changed.headers["ETag"])
    assert sent.parsed.status == models.StatusEnum.AWAITING_REPLY, sent.content

    shared = share.sync_detailed(
        reference, client=exporter, body=models.ShareInputRequest(authority=cast.shared.code), idempotency_key="s-1"
    )
    assert shared.status_code == 201, shared.content
    assert [row.authority for row in shared.parsed] == [cast.shared.code]
    assert [row.country for row in shares.sync_detailed(reference, client=exporter).parsed] == ["BE"]
    assert shares.sync_detailed(reference, client=importer).status_code == 403
    assert unshare.sync_detailed(reference, cast.shared.code, client=exporter).status_code == 204
    assert shares.sync_detailed(reference, client=exporter).parsed == []

    content = b"%PDF-1.4 end-user certificate no. 42"
    upload = models.AttachmentUploadRequest(
        file=pen.types.File(payload=io.BytesIO(content), file_name="certificate.pdf", mime_type="application/pdf")
    )
    attached = attach.sync_detailed(reference, client=exporter, body=upload, idempotency_key="a-1")
    assert attached.status_code == 201, attached.content
    assert isinstance(attached.parsed, models.Attachment)
    assert (attached.parsed.name, attached.parsed.size) == ("certificate.pdf", len(content))
    listed = attachments.sync_detailed(reference, client=importer)
    assert [row.token for row in listed.parsed] == [attached.parsed.token]
    fetched = download.sync_detailed(reference, attached.parsed.token, client=importer)
    assert fetched.status_code == 200 and fetched.content == content

    discard = _body(models, "GEN-DISCARD")
    discard.draft = True
    other = create.sync_detailed(client=exporter, body=discard)
    assert other.status_code == 201
    assert delete.sync_detailed(other.parsed.reference, client=exporter).status_code == 204
    assert retrieve.sync_detailed(other.parsed.reference, client=exporter).status_code == 404


def test_a_generated_client_follows_the_shipment_through_the_live_server(generated, live_server, cast):
    """Issue 14's and 12's new operations through the live server and the generated code:
    amend (If-Match), suspend and lift, dispatch, confirm an arrival short, and read the
    flags, the amendments, the dispatch and the arrival back as models."""
    pen, url = generated, live_server.url
    models = _module("models")
    notifications = "api.notifications."
    create = _module(notifications + "v1_notifications_create")
    retrieve = _module(notifications + "v1_notifications_retrieve")
    patch = _module(notifications + "v1_notifications_partial_update")
    respond = _module(notifications + "v1_notifications_respond_create")
    suspend = _module(notifications + "v1_notifications_suspend_create")
    lift = _module(notifications + "v1_notifications_lift_suspension_create")
    dispatch = _module(notifications + "v1_notifications_dispatch_create")
    arrive = _module(notifications + "v1_notifications_confirm_arrival_create")
    exporter = _token(pen, url, cast.exporter)
    importer = _token(pen, url, cast.importer)
    transit = _token(pen, url, cast.transit)

    filed = create.sync_detailed(client=exporter, body=_body(models, "GEN-SHIP"))
    reference = filed.parsed.reference
    assert filed.parsed.dispatch is None and filed.parsed.arrival is None and filed.parsed.suspension is None

    change = models.PatchedDraftPatchInputRequest(shipment=models.ShipmentPatchRequest(point_of_entry="Takoradi"))
    assert patch.sync_detailed(reference, client=exporter, body=change).status_code == 428
    amended = patch.sync_detailed(reference, client=exporter, body=change, if_match=filed.headers["ETag"])
    assert amended.status_code == 200, amended.content
    [amendment] = amended.parsed.amendments
    assert amendment.changes["shipment.point_of_entry"] == ["Tema", "Takoradi"]

    suspended = suspend.sync_detailed(
        reference, client=transit, body=models.SuspendInputRequest(reason="Verify the consignee.")
    )
    assert suspended.status_code == 200, suspended.content
    assert suspended.parsed.suspension.by_country == "NL"
    assert (
        respond.sync_detailed(
            reference, client=importer, body=models.RespondInputRequest(decision=models.DecisionEnum.NO_OBJECTION)
        ).parsed.status
        == models.StatusEnum.NO_OBJECTION
    )
    today = timezone.now().date()
    shipment = models.DispatchInputRequest(
        dispatched_on=today, items=[models.ShippedItemInputRequest(position=1, quantity="250")]
    )
    refused = dispatch.sync_detailed(reference, client=exporter, body=shipment)
    assert refused.status_code == 409 and "must not be shipped" in refused.parsed.detail
    lifted = lift.sync_detailed(reference, client=transit, body=models.LiftSuspensionInputRequest(comment="Verified."))
    assert lifted.parsed.suspension is None and len(lifted.parsed.suspensions) == 1

    dispatched = dispatch.sync_detailed(reference, client=exporter, body=shipment)
    assert dispatched.status_code == 200, dispatched.content
    assert dispatched.parsed.dispatch.items[0].quantity == "250.000"
    arrived = arrive.sync_detailed(
        reference,
        client=importer,
        body=models.ArrivalInputRequest(
            arrived_on=today, items=[models.ShippedItemInputRequest(position=1, quantity="220")]
        ),
    )
    assert arrived.status_code == 200, arrived.content
    assert [flag.kind for flag in arrived.parsed.risk_flags] == [models.RiskFlagKindEnum.QUANTITY_DISCREPANCY]
    again = retrieve.sync_detailed(reference, client=exporter)
    assert again.parsed.arrival.items[0].quantity == "220.000"
