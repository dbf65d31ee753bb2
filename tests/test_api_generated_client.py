"""A Python client generated from the live schema with openapi-python-client does the whole
exchange a licensing system does (issue 19): the schema, not prose, is what most
integrators' contractors build on. The client is told to raise on any status the schema
does not list, and every response is parsed into the generated models, so a body or a
status the schema misdescribes fails here."""

import base64
import importlib
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
def generated(tmp_path_factory, live_server):
    """The client package, generated from what the running portal serves at /api/schema/."""
    import httpx

    out = tmp_path_factory.mktemp("client")
    schema = out / "schema.json"
    schema.write_bytes(httpx.get(f"{live_server.url}/api/schema/?format=json").raise_for_status().content)
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
