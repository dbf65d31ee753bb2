"""The OpenAPI schema is the documentation: generated without a warning, served, and
describing every notification operation with its security, headers and errors."""

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_generation_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"
    # --fail-on-warn raises on the first warning or error; --validate checks it against OpenAPI 3.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert "/api/v1/notifications/{reference}/respond/" in yaml.safe_load(target.read_text())["paths"]


def test_schema_and_docs_are_served(client, cast):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


# What the framework around every view can answer (api.schema.complete_schema, issue 19):
# credentials, scope, Accept and rate everywhere; size and media type wherever a body is sent.
EVERYWHERE = {"401", "403", "406", "429"}
WITH_BODY = {"400", "413", "415"}

OPERATIONS = {
    # A bad filter is a 400 and a cursor the API did not give a 404.
    ("/api/v1/notifications/", "get"): ("notifications:read", {"200", "400", "401", "403", "404"}),
    ("/api/v1/notifications/", "post"): ("notifications:write", {"201", "400", "401", "403", "409", "422"}),
    ("/api/v1/notifications/{reference}/", "get"): ("notifications:read", {"200", "401", "403", "404"}),
    ("/api/v1/notifications/{reference}/submit/", "post"): (
        "notifications:write",
        {"200", "400", "401", "403", "404", "409", "412", "422"},
    ),
    ("/api/v1/notifications/{reference}/acknowledge/", "post"): (
        "notifications:respond",
        {"200", "400", "401", "403", "404", "409", "412", "422"},  # 400: a bad Idempotency-Key
    ),
    ("/api/v1/notifications/{reference}/respond/", "post"): (
        "notifications:respond",
        {"200", "400", "401", "403", "404", "409", "412", "422"},
    ),
    ("/api/v1/notifications/{reference}/provide_information/", "post"): (
        "notifications:write",
        {"200", "400", "401", "403", "404", "409", "412", "422"},
    ),
    ("/api/v1/notifications/{reference}/withdraw/", "post"): (
        "notifications:write",
        {"200", "400", "401", "403", "404", "409", "412", "422"},
    ),
}


@pytest.mark.parametrize(("path", "method"), list(OPERATIONS))
def test_every_notification_operation_is_documented(schema, path, method):
    scope, codes = OPERATIONS[(path, method)]
    operation = schema["paths"][path][method]
    assert operation["description"].strip() and operation["summary"].strip()
    assert {"oauth2": [scope]} in operation["security"]
    expected = codes | EVERYWHERE | (WITH_BODY if "requestBody" in operation else set())
    assert set(operation["responses"]) == expected
    headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
    if method == "post":
        assert "Idempotency-Key" in headers
    if "{reference}/" in path and method == "post":
        assert "If-Match" in headers
    if "200" in codes and "{reference}" in path:
        assert "ETag" in operation["responses"]["200"]["headers"]


def test_the_oauth2_client_credentials_scheme_is_defined(schema):
    scheme = schema["components"]["securitySchemes"]["oauth2"]
    flow = scheme["flows"]["clientCredentials"]
    assert flow["tokenUrl"].endswith("/oauth/token/")
    assert set(flow["scopes"]) == {
        "notifications:read",
        "notifications:write",
        "notifications:respond",
        "statistics:read",
        "incidents:read",
        "incidents:write",
        "estimates:write",
    }


def test_every_field_of_the_notification_is_described_in_the_contract_names(schema):
    notification = schema["components"]["schemas"]["Notification"]["properties"]
    contract = {
        "reference",
        "status",
        "exporting_authority",
        "exporting_country",
        "importing_country",
        "importing_authority",
        "submitted_at",
        "reply_due",
        "acknowledged_at",
        "replied_at",
        "overdue",
        "risk_flags",
        "responses",
        "events",
        "national_reference",
        "transit_countries",
        "exporter",
        "importer",
        "consignee",
        "items",
        "shipment",
        "import_authorization_number",
        "end_use",
        "draft",
    }
    assert contract <= set(notification)
