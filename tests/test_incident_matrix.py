"""The incidents' permission matrix: every principal × every incident route (API and
pages) × both visibilities, checked against ``allowed``, an oracle written from the rules
(the contract's "Incidents", docs/domain.md) — not from the code.

The incident is reported by NL (the transit authority of the cast), with DE on its route,
a related notification DE -> GH (so GH is concerned) and BE as shared with; FR is an
outsider. A new incident route (a page or an API action) without a row here fails
``test_every_incident_route_has_a_row_in_the_matrix``."""

from datetime import timedelta

import pytest
from django.urls import get_resolver, reverse
from django.utils import timezone

from accounts.models import Role
from incidents import services
from incidents.api import IncidentViewSet
from incidents.services import IncidentData, PartyData
from tests.api_helpers import bearer, token_for
from tests.conftest import make_user
from tests.factories import file

VISIBILITIES = ["concerned", "all"]

# principal -> (side, may act (officer), kind)
PRINCIPALS = {
    "reporter_officer": ("reporter", True, "person"),
    "reporter_viewer": ("reporter", False, "person"),
    "route_officer": ("route", True, "person"),
    "related_officer": ("related", True, "person"),
    "shared_officer": ("shared", True, "person"),
    "outsider_officer": ("outsider", True, "person"),
    "incb_reviewer": ("incb", False, "person"),
    "deactivated": ("reporter", True, "deactivated"),
    "anonymous": (None, False, "anonymous"),
    "reporter_client": ("reporter", True, "client"),
    "route_client": ("route", True, "client"),
    "outsider_client": ("outsider", True, "client"),
    "incb_client": ("incb", False, "client"),
    "reporter_reader_client": ("reporter", True, "reader"),  # a client with incidents:read only
}

SCOPE_NEEDED = {
    "list": "incidents:read",
    "detail": "incidents:read",
    "matches": "incidents:read",
    "update": "incidents:write",
    "create": "incidents:write",
    "overview": None,  # pages only
}


def scopes_held(side, kind) -> set[str]:
    if kind == "reader":
        return {"incidents:read"}
    if side == "incb":
        return {"incidents:read"}  # INCB reads; national authorities report
    return {"incidents:read", "incidents:write"}


def visible(side, visibility) -> bool:
    """A ``concerned`` incident: the reporting country, the route's countries, the
    shared-with countries, the related notifications' countries and INCB; ``all``: every
    competent authority."""
    if side in {"reporter", "route", "related", "shared", "incb"}:
        return True
    return visibility == "all" and side == "outsider"


def allowed(principal, endpoint, visibility) -> str:
    """'unauthenticated' (401 / the login page), 'hidden' (404), 'denied' (403) or 'ok'."""
    side, can_act, kind = PRINCIPALS[principal]
    if kind in {"anonymous", "deactivated"}:
        return "unauthenticated"
    if kind in {"client", "reader"} and SCOPE_NEEDED[endpoint] not in scopes_held(side, kind):
        return "denied"  # before the incident is looked up: it reveals nothing
    if endpoint == "create":
        return "ok" if can_act and side != "incb" else "denied"
    if endpoint == "overview":
        return "ok" if side == "incb" else "hidden"  # INCB's own page: nobody else's, as if none
    if not visible(side, visibility):
        return "hidden"
    if endpoint == "update":
        return "ok" if side == "reporter" and can_act else "denied"
    return "ok"


API_STATUS = {"unauthenticated": 401, "hidden": 404, "denied": 403}
OK_STATUS = {"create": 201}
API_CALLS = {
    "detail": ("get", "", None),
    "matches": ("get", "matches/", None),
    "update": ("patch", "", {"modus_operandi": "Transhipped."}),
}
# page route -> (the oracle's endpoint, whether it is about the incident)
PAGE_ROUTES = {
    "detail": ("detail", True),
    "amend": ("update", True),
    "create": ("create", False),
    "overview": ("overview", False),
    "overview_csv": ("overview", False),
}
# Page routes covered elsewhere, with the reason.
PAGES_COVERED_ELSEWHERE = {"list": "lists visible_incidents only: test_list_matrix (below)"}


def incident_for(cast, visibility):
    now = timezone.now()
    related = file(cast, now=now)  # DE -> NL -> GH
    return services.report(
        actor=cast.transit_officer,
        data=IncidentData(
            kind="seizure",
            occurred_on=now.date() - timedelta(days=1),
            description="Drums of ephedrine declared as salt.",
            parties=[PartyData(role="importer", name="Accra Pharma Ltd")],
            route=["DE", "NL"],
            related_notifications=[related.reference],
            shared_with=["BE"],
            visibility=visibility,
        ),
        now=now,
    )


def caller_headers(principal, cast, client) -> dict:
    side, _can_act, kind = PRINCIPALS[principal]
    authority = {
        "reporter": cast.transit,
        "route": cast.exporter,
        "related": cast.importer,
        "shared": cast.shared,
        "outsider": cast.outsider,
        "incb": cast.incb,
    }.get(side)
    if kind == "client":
        return bearer(token_for(client, authority))
    if kind == "reader":
        return bearer(token_for(client, authority, scopes=["incidents:read"], name="Reader"))
    if kind == "anonymous":
        return {}
    if kind == "deactivated":
        person = cast.transit_officer
        client.force_login(person)
        person.is_active = False
        person.save(update_fields=["is_active"])
        return {}
    person = {
        "reporter_officer": cast.transit_officer,
        "reporter_viewer": make_user("nl_viewer", cast.transit, Role.VIEWER),
        "route_officer": cast.exporter_officer,
        "related_officer": cast.importer_officer,
        "shared_officer": cast.shared_officer,
        "outsider_officer": cast.outsider_officer,
        "incb_reviewer": cast.incb_reviewer,
    }[principal]
    client.force_login(person)
    return {}


def body():
    return {
        "kind": "other",
        "occurred_on": timezone.now().date().isoformat(),
        "description": "A suspicious order.",
        "route": [],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize("principal", list(PRINCIPALS))
def test_api_matrix(cast, client, principal, visibility):
    incident = incident_for(cast, visibility)
    headers = caller_headers(principal, cast, client)
    base = f"/api/v1/incidents/{incident.reference}/"
    for endpoint, (method, suffix, data) in API_CALLS.items():
        if data is None:
            response = getattr(client, method)(base + suffix, headers=headers)
        else:
            response = getattr(client, method)(
                base + suffix, data, content_type="application/json", headers={**headers, "If-Match": "*"}
            )
        expected = allowed(principal, endpoint, visibility)
        status = OK_STATUS.get(endpoint, 200) if expected == "ok" else API_STATUS[expected]
        assert response.status_code == status, (endpoint, response.status_code, expected, response.content)
        if expected == "hidden":
            missing = client.get("/api/v1/incidents/INC-2026-999999/", headers=headers)
            assert response.json() == missing.json(), "a hidden incident must look exactly like a missing one"

    listed = client.get("/api/v1/incidents/", headers=headers)
    expected = allowed(principal, "list", visibility)
    if expected in {"unauthenticated", "denied"}:
        assert listed.status_code == API_STATUS[expected]
    else:
        references = {row["reference"] for row in listed.json()["results"]}
        assert (incident.reference in references) == (allowed(principal, "detail", visibility) == "ok")

    created = client.post("/api/v1/incidents/", body(), content_type="application/json", headers=headers)
    expected = allowed(principal, "create", visibility)
    assert created.status_code == (201 if expected == "ok" else API_STATUS[expected]), created.content


@pytest.mark.django_db
@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize(
    "principal", [p for p, (_s, _a, kind) in PRINCIPALS.items() if kind not in {"client", "reader"}]
)
def test_page_matrix(cast, client, principal, visibility):
    incident = incident_for(cast, visibility)
    caller_headers(principal, cast, client)
    for route, (rule, about_it) in PAGE_ROUTES.items():
        response = client.get(reverse(f"incidents:{route}", args=[incident.reference] if about_it else []))
        expected = allowed(principal, rule, visibility)
        if expected == "unauthenticated":
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        elif expected == "hidden":
            assert response.status_code == 404, route
        elif expected == "denied":
            assert response.status_code == 403, route
        else:
            assert response.status_code == 200, (route, response.status_code)


@pytest.mark.django_db
@pytest.mark.parametrize("visibility", VISIBILITIES)
@pytest.mark.parametrize(
    "principal", [p for p, (_s, _a, kind) in PRINCIPALS.items() if kind not in {"client", "reader"}]
)
def test_list_matrix(cast, client, principal, visibility):
    incident = incident_for(cast, visibility)
    caller_headers(principal, cast, client)
    response = client.get(reverse("incidents:list"))
    expected = allowed(principal, "detail", visibility)
    if expected == "unauthenticated":
        assert response.status_code == 302
    else:
        assert response.status_code == 200
        assert (incident.reference in response.content.decode()) == (expected == "ok")


def test_every_incident_route_has_a_row_in_the_matrix():
    resolver = get_resolver()
    namespace = resolver.namespace_dict["incidents"][1]
    names = {name for name in namespace.reverse_dict if isinstance(name, str)}
    assert names == set(PAGE_ROUTES) | set(PAGES_COVERED_ELSEWHERE)
    actions = {
        "list",
        "create",
        "retrieve",
        "partial_update",
        *(a.__name__ for a in IncidentViewSet.get_extra_actions()),
    }
    covered = {
        "list",
        "create",
        "retrieve" if "detail" in API_CALLS else None,
        "partial_update" if "update" in API_CALLS else None,
    }
    covered |= {name for name in API_CALLS if name in actions}
    assert actions == covered - {None}
