"""Issue 16, findings 1-2 across the whole schema: every operation of /api/schema/ is sent
what a hostile or careless client sends — a body nested 1,200 deep, a body over the size
limit, and the extreme dates on every date field of its body and every date query
parameter. None may be a 5xx, and every refusal is the API's JSON error.

The operations and fields are read from the schema itself, so a new endpoint or a new date
field is covered the day it is added."""

import copy
import json
import re

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

from tests.api_helpers import bearer, notification_body, token_for
from tests.factories import file

pytestmark = pytest.mark.django_db

EXTREME_DATES = ["9999-12-31", "0001-01-01"]
EXTREME_INSTANTS = ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59Z"]

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)


def deref(node):
    """Follow ``$ref``s (and single-member allOf/oneOf wrappers) to the schema object."""
    seen = 0
    while isinstance(node, dict) and seen < 20:
        seen += 1
        if "$ref" in node:
            target = SCHEMA
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        elif len(node.get("allOf", [])) == 1:
            node = node["allOf"][0]
        else:
            break
    return node


def date_paths(node, prefix=()):
    """Every (path, format) of a date or date-time field inside a request body schema."""
    node = deref(node)
    if not isinstance(node, dict):
        return
    if node.get("format") in ("date", "date-time"):
        yield prefix, node["format"]
        return
    for name, child in (node.get("properties") or {}).items():
        yield from date_paths(child, (*prefix, name))
    if node.get("type") == "array" and "items" in node:
        yield from date_paths(node["items"], (*prefix, 0))


def operations():
    for path, methods in SCHEMA["paths"].items():
        for method, operation in methods.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


OPERATIONS = list(operations())
WRITES = [(p, m) for p, m, _op in OPERATIONS if m in ("post", "put", "patch")]
DATE_QUERY = [
    (p, m, param["name"], param["schema"].get("format"))
    for p, m, op in OPERATIONS
    for param in op.get("parameters", [])
    if param.get("in") == "query" and param.get("schema", {}).get("format") in ("date", "date-time")
]
DATE_BODY = [
    (p, m, field, fmt)
    for p, m, op in OPERATIONS
    for field, fmt in date_paths(
        ((op.get("requestBody") or {}).get("content") or {}).get("application/json", {}).get("schema", {})
    )
]


@pytest.fixture
def http():
    return Client(raise_request_exception=False)


@pytest.fixture
def world(http, cast):
    """Something to act on, and a token of every kind of party."""
    from django.utils import timezone

    from incidents import services as incidents
    from tests.test_incidents import incident_data

    sent = file(cast, now=timezone.now())
    incident = incidents.report(actor=cast.exporter_officer, data=incident_data(), now=timezone.now())
    headers = {name: bearer(token_for(http, getattr(cast, name))) for name in ("exporter", "importer", "incb")}
    return {"reference": sent.reference, "incident": incident.reference, "headers": headers}


def concrete(path, world) -> str:
    reference = world["incident"] if path.startswith("/api/v1/incidents/") else world["reference"]
    return re.sub(r"\{reference\}", reference, re.sub(r"\{id\}", "1", path))


def assert_no_server_error(response, what):
    assert response.status_code < 500, f"{what}: {response.status_code} {response.content[:200]!r}"
    if response.status_code >= 400 and response.content:
        assert response["Content-Type"].startswith("application/json"), f"{what}: {response['Content-Type']}"


def test_the_schema_walk_finds_the_fields_it_is_meant_to_cover():
    """A guard on the walk itself: if the schema changed shape and the walk found nothing,
    the tests below would pass vacuously."""
    assert ("/api/v1/notifications/", "post") in WRITES
    assert any(field == ("reply_due",) for _p, _m, field, _f in DATE_BODY)
    assert any(field == ("shipment", "expected_dispatch") for _p, _m, field, _f in DATE_BODY)
    assert any(name == "updated_since" for _p, _m, name, _f in DATE_QUERY)
    assert any(name in ("from", "to") for _p, _m, name, _f in DATE_QUERY)


@pytest.mark.parametrize(("path", "method"), WRITES)
def test_every_write_refuses_deep_nesting_and_huge_bodies_as_json(http, world, path, method):
    url = concrete(path, world)
    for who in ("exporter", "importer"):
        for body in ("[" * 1200 + "]" * 1200, json.dumps({"x": "a" * 3_000_000})):
            response = getattr(http, method)(url, body, content_type="application/json", headers=world["headers"][who])
            assert_no_server_error(response, f"{method.upper()} {path} as {who}")
            assert 400 <= response.status_code < 500


@pytest.mark.parametrize(("path", "method", "name", "fmt"), DATE_QUERY)
def test_every_date_query_parameter_refuses_extremes(http, world, path, method, name, fmt):
    for value in EXTREME_DATES if fmt == "date" else EXTREME_INSTANTS:
        for who in ("exporter", "incb"):
            response = http.get(concrete(path, world), {name: value}, headers=world["headers"][who])
            assert_no_server_error(response, f"{path}?{name}={value}")


@pytest.mark.parametrize(("path", "method", "field", "fmt"), DATE_BODY)
def test_every_date_field_of_every_body_refuses_extremes(http, world, path, method, field, fmt):
    for value in EXTREME_DATES if fmt == "date" else EXTREME_INSTANTS:
        body = copy.deepcopy(notification_body())
        target = body
        for part in field[:-1]:
            target = target.setdefault(part, {})
        target[field[-1]] = value
        # The party whose action it is, so that the date is what is judged: the importing
        # authority confirms an arrival; a PATCH names the version it changes.
        # INCB keeps the estimates.
        who = "importer" if path.endswith("/confirm_arrival/") else "exporter"
        who = "incb" if path.startswith("/api/v1/estimates/") else who
        headers = {**world["headers"][who], **({"If-Match": "*"} if method == "patch" else {})}
        response = getattr(http, method)(concrete(path, world), body, content_type="application/json", headers=headers)
        assert_no_server_error(response, f"{method.upper()} {path} {'.'.join(map(str, field))}={value}")
        assert response.status_code == 400, response.content[:200]
