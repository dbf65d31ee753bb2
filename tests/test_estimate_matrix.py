"""The estimates' and risk page's permission matrix (issue 13): every principal × every
route of the monitoring app (pages and API), checked against ``allowed``, an oracle
written from the rules (the contract's "Annual legitimate requirements": any
authenticated client reads; INCB alone writes, with scope ``estimates:write``; the risk
page is INCB's own) — not from the code. A new route without a row here fails
``test_every_monitoring_route_has_a_row_in_the_matrix``."""

import pytest
from django.urls import get_resolver, reverse
from django.utils import timezone

from accounts.models import Role
from monitoring.api import EstimateViewSet
from tests.api_helpers import bearer, token_for
from tests.conftest import make_user

# principal -> (side, kind)
PRINCIPALS = {
    "exporter_officer": ("national", "person"),
    "importer_officer": ("national", "person"),
    "importer_viewer": ("national", "person"),
    "outsider_officer": ("national", "person"),
    "incb_reviewer": ("incb", "person"),
    "incb_admin": ("incb", "person"),
    "deactivated_incb": ("incb", "deactivated"),
    "anonymous": (None, "anonymous"),
    "national_client": ("national", "client"),
    "incb_client": ("incb", "client"),
    "incb_reader_client": ("incb", "reader"),  # an INCB client without estimates:write
}

# page route -> the oracle's endpoint
PAGE_ROUTES = {
    "list": "read",
    "history": "read",
    "create": "write_page",
    "import": "write_page",
    "risk": "risk",
    "risk_csv": "risk",
}
PAGE_ARGS = {"history": ["GH", "ephedrine"]}


def allowed(principal, endpoint) -> str:
    """'unauthenticated', 'denied' (403), 'hidden' (404) or 'ok'."""
    side, kind = PRINCIPALS[principal]
    if kind in {"anonymous", "deactivated"}:
        return "unauthenticated"
    if endpoint == "read":
        return "ok"
    if endpoint == "write_api":
        if kind == "reader":
            return "denied"  # the scope is missing
        return "ok" if side == "incb" else "denied"
    if endpoint == "write_page":
        return "ok" if side == "incb" else "denied"
    if endpoint == "risk":
        return "ok" if side == "incb" else "hidden"  # INCB's own page: to others as if there were none
    raise AssertionError(endpoint)


def headers_for(principal, cast, client) -> dict:
    side, kind = PRINCIPALS[principal]
    authority = cast.incb if side == "incb" else cast.importer
    if kind == "client":
        return bearer(token_for(client, authority))
    if kind == "reader":
        return bearer(token_for(client, authority, scopes=["notifications:read"], name="Reader"))
    if kind == "anonymous":
        return {}
    if kind == "deactivated":
        person = cast.incb_reviewer
        client.force_login(person)
        person.is_active = False
        person.save(update_fields=["is_active"])
        return {}
    person = {
        "exporter_officer": cast.exporter_officer,
        "importer_officer": cast.importer_officer,
        "importer_viewer": cast.importer_viewer,
        "outsider_officer": cast.outsider_officer,
        "incb_reviewer": cast.incb_reviewer,
        "incb_admin": cast.incb_admin,
    }[principal]
    client.force_login(person)
    return {}


API_STATUS = {"unauthenticated": 401, "denied": 403, "hidden": 404}


@pytest.mark.django_db
@pytest.mark.parametrize("principal", list(PRINCIPALS))
def test_api_matrix(cast, client, principal):
    headers = headers_for(principal, cast, client)
    listed = client.get("/api/v1/estimates/?country=GH", headers=headers)
    expected = allowed(principal, "read")
    assert listed.status_code == (200 if expected == "ok" else API_STATUS[expected]), listed.content
    body = {"country": "GH", "substance": "ephedrine", "year": timezone.now().year, "quantity": "10"}
    created = client.post("/api/v1/estimates/", body, content_type="application/json", headers=headers)
    expected = allowed(principal, "write_api")
    assert created.status_code == (201 if expected == "ok" else API_STATUS[expected]), created.content


@pytest.mark.django_db
@pytest.mark.parametrize("principal", [p for p, (_s, kind) in PRINCIPALS.items() if kind not in {"client", "reader"}])
def test_page_matrix(cast, client, principal):
    make_user("gh_second_viewer", cast.importer, Role.VIEWER)
    headers_for(principal, cast, client)
    for route, rule in PAGE_ROUTES.items():
        response = client.get(reverse(f"monitoring:{route}", args=PAGE_ARGS.get(route, [])))
        expected = allowed(principal, rule)
        if expected == "unauthenticated":
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], route
        else:
            assert response.status_code == {"ok": 200, **API_STATUS}[expected], (route, response.status_code)


def test_every_monitoring_route_has_a_row_in_the_matrix():
    namespace = get_resolver().namespace_dict["monitoring"][1]
    assert {name for name in namespace.reverse_dict if isinstance(name, str)} == set(PAGE_ROUTES)
    assert {"list", "create"} == {name for name in ("list", "create", "retrieve") if hasattr(EstimateViewSet, name)}
    assert not EstimateViewSet.get_extra_actions()
