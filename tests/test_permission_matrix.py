"""The permission matrix: every principal × every notification endpoint × every state,
checked against ``allowed``, an oracle written from the rules in
docs/reliability-security.md and docs/domain.md — not from the code.

A new notification endpoint (web route or API action) without a row here fails
``test_every_endpoint_has_a_row_in_the_matrix``."""

from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import get_resolver, reverse
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import create_api_client
from authorities.services import create_authority
from notifications import services
from notifications.api import NotificationViewSet
from tests.api_helpers import bearer, token_for
from tests.conftest import make_user
from tests.factories import file
from tests.routes import page_without_csrf

STATES = ["draft", "awaiting_reply", "information_requested", "no_objection", "dispatched", "suspended", "withdrawn"]
FINAL = {"no_objection"}
# "suspended": awaiting its reply, with a suspension in force (by the transit authority).
OPEN = {"awaiting_reply", "information_requested", "suspended"}

# principal -> (authority side, may act (officer), kind). "importing" is the authority the
# notification is addressed to (the importing country's focal point when it was sent);
# "importing_country" another authority of that country (GH), which is not.
PRINCIPALS = {
    "exporter_officer": ("exporting", True, "person"),
    "exporter_viewer": ("exporting", False, "person"),
    "importer_officer": ("importing", True, "person"),
    "importer_viewer": ("importing", False, "person"),
    "importing_country_officer": ("importing_country", True, "person"),
    "transit_officer": ("transit", True, "person"),
    "outsider_officer": ("outsider", True, "person"),
    "shared_officer": ("shared", True, "person"),  # an outsider the exporter shared it with
    "incb_reviewer": ("incb", False, "person"),
    "deactivated": ("exporting", True, "deactivated"),
    "anonymous": (None, False, "anonymous"),
    "exporter_client": ("exporting", True, "client"),
    "importer_client": ("importing", True, "client"),
    "importing_country_client": ("importing_country", True, "client"),
    "transit_client": ("transit", True, "client"),
    "outsider_client": ("outsider", True, "client"),
    "incb_client": ("incb", False, "client"),
}

SHIPMENT_SIDES = {"exporting", "importing", "transit"}

# action -> (the side that may take it, the states it may be taken in)
ACTIONS = {
    "submit": ("exporting", {"draft"}),
    "acknowledge": (
        "importing",
        {"awaiting_reply", "information_requested", "no_objection", "dispatched", "suspended"},
    ),
    "respond": ("importing", OPEN),
    "provide_information": ("exporting", {"information_requested"}),
    "withdraw": ("exporting", OPEN),
    # What an officer does on the page, through the API too (issue 19).
    "update": ("exporting", {"draft", *OPEN}),  # PATCH: a draft edited, an open notification amended (issue 14)
    "destroy": ("exporting", {"draft"}),  # DELETE of a draft
    "add_share": ("exporting", set(STATES) - {"draft"}),  # a draft is nobody else's yet
    "revoke_share": ("exporting", set(STATES) - {"draft"}),
    "upload_attachment": ("exporting", set(STATES) - {"withdrawn"}),
    # The shipment after the reply (issue 14): "dispatched" is no objection with the dispatch recorded.
    "record_dispatch": ("exporting", {"no_objection"}),
    "confirm_arrival": ("importing", {"dispatched"}),
    "explain_discrepancy": ({"exporting", "importing"}, set()),  # no difference to explain in these states
    # Suspension (issue 12): any party to the shipment; lifted by the suspending authority only.
    "suspend": (SHIPMENT_SIDES, {"awaiting_reply", "information_requested", "no_objection", "dispatched"}),
    "lift_suspension": ({"transit"}, {"suspended"}),
}
# read -> the sides that may read it among those that see the notification (None: all).
READS = {
    "detail": None,
    "attachments": None,
    "attachment": None,
    # Whom it is shared with is the exporter's decision and INCB's to review, as the
    # share events of the timeline are (docs/reliability-security.md).
    "shares": {"exporting", "incb"},
}


SCOPE_NEEDED = {
    "detail": "notifications:read",
    "attachments": "notifications:read",
    "attachment": "notifications:read",
    "shares": "notifications:read",
    "submit": "notifications:write",
    "provide_information": "notifications:write",
    "withdraw": "notifications:write",
    "update": "notifications:write",
    "destroy": "notifications:write",
    "add_share": "notifications:write",
    "revoke_share": "notifications:write",
    "upload_attachment": "notifications:write",
    "acknowledge": "notifications:respond",
    "respond": "notifications:respond",
    "suspend": "notifications:write",
    "lift_suspension": "notifications:write",
    "record_dispatch": "notifications:write",
    "confirm_arrival": "notifications:respond",
    "explain_discrepancy": "notifications:write",
}


def scopes_held(side) -> set[str]:
    """By default a client holds every scope its authority may: INCB reads only."""
    if side == "incb":
        return {"notifications:read", "statistics:read"}
    return set(SCOPE_NEEDED.values()) | {"statistics:read"}


def visible(side, state) -> bool:
    """The rules: the exporter sees its own, drafts included; once sent, every authority
    of the importing country, the transit countries' authorities, the authorities it was
    shared with and INCB see it; nobody else ever does."""
    if side == "exporting":
        return True
    return side in {"importing", "importing_country", "transit", "shared", "incb"} and state != "draft"


def allowed(principal, endpoint, state) -> str:
    """'unauthenticated', 'hidden' (404), 'denied' (403), 'conflict' (409) or 'ok'."""
    side, can_act, kind = PRINCIPALS[principal]
    if kind in {"anonymous", "deactivated"}:
        return "unauthenticated"
    if kind == "client" and SCOPE_NEEDED[endpoint] not in scopes_held(side):
        # Checked before the notification is looked up, so it reveals nothing about it.
        return "denied"
    if not visible(side, state):
        return "hidden"
    if endpoint in READS:
        return "ok" if READS[endpoint] is None or side in READS[endpoint] else "denied"
    action_side, states = ACTIONS[endpoint]
    # Only the authority the notification is addressed to acts for the importing country:
    # "importing_country" is not "importing", so its officers and clients read, never act.
    if endpoint == "lift_suspension" and state != "suspended" and side in SHIPMENT_SIDES and can_act:
        return "conflict"  # a party, but no suspension in force to lift
    if side not in ({action_side} if isinstance(action_side, str) else action_side) or not can_act:
        return "denied"
    if endpoint == "revoke_share" and state == "draft":
        return "absent"  # a draft is shared with nobody: no such share
    if endpoint == "confirm_arrival" and state in {"awaiting_reply", "no_objection", "suspended"}:
        return "bad_request"  # an arrival before the dispatch is bad input (issue 14)
    return "ok" if state in states else "conflict"


API_STATUS = {
    "unauthenticated": {401},
    "hidden": {404},
    "absent": {404},
    "denied": {403},
    "conflict": {409},
    "bad_request": {400},
}
OK_STATUS = {"destroy": 204, "revoke_share": 204, "add_share": 201, "upload_attachment": 201}

# endpoint -> (method, path after the notification's URL, body); {token} is its attachment,
# {shared} the authority it is shared with.
API_CALLS = {
    "detail": ("get", "", None),
    "submit": ("post", "submit/", {}),
    "acknowledge": ("post", "acknowledge/", {}),
    "respond": ("post", "respond/", {"decision": "no_objection", "comment": ""}),
    "provide_information": ("post", "provide_information/", {"comment": "The plant is in Tema."}),
    "withdraw": ("post", "withdraw/", {"reason": "Order cancelled."}),
    "update": ("patch", "", {"shipment": {"carrier": "Maersk Line"}}),  # amendable once sent too
    "destroy": ("delete", "", None),
    "shares": ("get", "shares/", None),
    "add_share": ("post", "shares/", {"authority": "outsider"}),
    "revoke_share": ("delete", "shares/{shared}/", None),
    "attachments": ("get", "attachments/", None),
    "upload_attachment": ("post", "attachments/", "file"),
    "attachment": ("get", "attachments/{token}/", None),
    "record_dispatch": ("post", "dispatch/", {"dispatched_on": "today", "items": [{"position": 1, "quantity": "250"}]}),
    "confirm_arrival": (
        "post",
        "confirm_arrival/",
        {"arrived_on": "today", "items": [{"position": 1, "quantity": "250"}]},
    ),
    "explain_discrepancy": ("post", "explain_discrepancy/", {"comment": "A customs sample."}),
    "suspend": ("post", "suspend/", {"reason": "The consignee's address is a residential flat."}),
    "lift_suspension": ("post", "lift_suspension/", {"comment": "The consignee's licence was confirmed."}),
}


def call_api(client, cast, n, endpoint, headers):
    method, suffix, body = API_CALLS[endpoint]
    attachment = n.attachments.first()
    url = f"/api/v1/notifications/{n.reference}/" + suffix.format(token=attachment.token, shared=cast.shared.code)
    if body == "file":
        upload = SimpleUploadedFile("certificate.pdf", b"%PDF-1.4 end-user certificate", content_type="application/pdf")
        return client.post(url, {"file": upload}, headers=headers)
    if body is not None and body.get("authority") == "outsider":
        body = {"authority": cast.outsider.code}
    if body is not None:
        today = timezone.now().date().isoformat()
        body = {key: today if value == "today" else value for key, value in body.items()}
    if body is None:
        return getattr(client, method)(url, headers=headers)
    # If-Match: * (any version) where a change requires one: the matrix is about who, not when.
    return getattr(client, method)(url, body, content_type="application/json", headers={**headers, "If-Match": "*"})


def in_state(cast, state):
    now = timezone.now()
    n = file(cast, now=now, draft=state == "draft")
    # One document, attached while that was still possible (not once withdrawn).
    upload = SimpleUploadedFile("permit.pdf", b"%PDF-1.4 import permit", content_type="application/pdf")
    services.add_attachment(actor=cast.exporter_officer, notification=n, upload=upload, now=now, max_bytes=10**6)
    if state == "information_requested":
        services.respond(
            actor=cast.importer_officer, notification=n, decision="information_requested", comment="?", now=now
        )
    elif state == "no_objection":
        services.respond(actor=cast.importer_officer, notification=n, decision="no_objection", now=now)
    elif state == "dispatched":
        services.respond(actor=cast.importer_officer, notification=n, decision="no_objection", now=now)
        services.dispatch(
            actor=cast.exporter_officer,
            notification=n,
            dispatched_on=now.date(),
            quantities=[services.ShippedQuantity(1, n.items.get().quantity)],
            now=now,
        )
    elif state == "suspended":
        services.suspend(actor=cast.transit_officer, notification=n, reason="Verify the consignee.", now=now)
    elif state == "withdrawn":
        services.withdraw(actor=cast.exporter_officer, notification=n, reason="x", now=now)
    if state != "draft":
        # Shared with one authority (the "shared" principal's); drafts cannot be shared.
        services.share(actor=cast.exporter_officer, notification=n, authority=cast.shared, now=now)
    n.refresh_from_db()
    assert n.status == {"dispatched": "no_objection", "suspended": "awaiting_reply"}.get(state, state)
    return n


@dataclass
class Caller:
    headers: dict
    person: object = None


def second_importing_authority():
    """Another authority of the importing country (GH), not its focal point (the cast's
    gh-fda is), with an officer: the matrix's own, the shared cast has none."""
    authority, _created = create_authority(
        code="gh-nacoc", name="Narcotics Control Commission (GH)", email="gh-nacoc@example.org", country_code="GH"
    )
    assert not authority.is_focal_point
    officer = User.objects.filter(username="nacoc_officer").first() or make_user(
        "nacoc_officer", authority, Role.OFFICER
    )
    return authority, officer


def caller_for(principal, cast, client) -> Caller:
    side, _can_act, kind = PRINCIPALS[principal]
    second_authority, second_officer = second_importing_authority() if side == "importing_country" else (None, None)
    authority = {
        "exporting": cast.exporter,
        "importing": cast.importer,
        "importing_country": second_authority,
        "transit": cast.transit,
        "outsider": cast.outsider,
        "shared": cast.shared,
        "incb": cast.incb,
    }.get(side)
    if kind == "client":
        return Caller(headers=bearer(token_for(client, authority)))
    if kind == "anonymous":
        return Caller(headers={})
    if kind == "deactivated":
        person = cast.exporter_officer
        client.force_login(person)
        person.is_active = False
        person.save(update_fields=["is_active"])
        return Caller(headers={}, person=person)
    person = {
        "exporter_officer": cast.exporter_officer,
        "exporter_viewer": cast.exporter_viewer,
        "importer_officer": cast.importer_officer,
        "importer_viewer": cast.importer_viewer,
        "importing_country_officer": second_officer,
        "transit_officer": cast.transit_officer,
        "outsider_officer": cast.outsider_officer,
        "shared_officer": cast.shared_officer,
        "incb_reviewer": cast.incb_reviewer,
    }[principal]
    client.force_login(person)
    return Caller(headers={}, person=person)


API_ENDPOINTS = list(API_CALLS)


@pytest.mark.django_db
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("principal", list(PRINCIPALS))
def test_api_matrix(cast, client, principal, state):
    n = in_state(cast, state)
    caller = caller_for(principal, cast, client)
    for endpoint in API_ENDPOINTS:
        response = call_api(client, cast, n, endpoint, caller.headers)
        expected = allowed(principal, endpoint, state)
        statuses = {OK_STATUS.get(endpoint, 200)} if expected == "ok" else API_STATUS[expected]
        assert response.status_code in statuses, (endpoint, response.status_code, expected, response.content)
        if expected == "hidden":
            missing = client.get("/api/v1/notifications/XX-2026-999999/", headers=caller.headers)
            assert response.json() == missing.json(), "a hidden notification must look exactly like a missing one"
        if expected == "ok" and endpoint not in READS:
            n = in_state(cast, state)  # the action changed it: the next endpoint starts from the same state
    # The list shows exactly what the detail shows.
    listed = client.get("/api/v1/notifications/", headers=caller.headers)
    if allowed(principal, "detail", state) == "unauthenticated":
        assert listed.status_code == 401
    else:
        references = {row["reference"] for row in listed.json()["results"]}
        assert (n.reference in references) == (allowed(principal, "detail", state) == "ok")


# Web routes of the notifications app that act on one notification, with how to call them.
PAGE_CALLS = {
    "detail": ("get", "detail", {}),
    "edit": ("get", "submit", {}),  # editing a draft: the exporting officer's, drafts only
    "amend": ("get", "update", {}),  # amending: the exporting officer's, while awaiting the reply
    "dispatch": ("get", "record_dispatch", {}),
    "confirm_arrival": ("get", "confirm_arrival", {}),
    "explain_discrepancy": ("post", "explain_discrepancy", {"comment": "A customs sample."}),
    "suspend": ("get", "suspend", {}),
    "lift_suspension": ("get", "lift_suspension", {}),
    "send": ("get", "submit", {}),
    "delete": ("get", "submit", {}),
    "acknowledge": ("post", "acknowledge", {}),
    "reply": ("get", "respond", {}),
    "answer": ("post", "provide_information", {"comment": ""}),
    "withdraw": ("get", "withdraw", {}),
    "share": ("post", "add_share", {"authority": ""}),  # sharing: the exporting officer, once sent
    "attachment": ("get", "detail", {}),
    "timeline_export": ("get", "detail", {}),  # whoever reads the timeline may export it
    "print": ("get", "detail", {}),  # the printable page: whoever reads the detail
}
PAGE_EXTRA_ARGS = {"attachment": ["nonexistent"]}
# Page routes covered elsewhere, with the reason (a route missing from both lists fails).
PAGES_COVERED_ELSEWHERE = {
    "dashboard": "lists only visible notifications: tests/test_notification_pages.py",
    "list": "filters visible_notifications: tests/test_notification_pages.py",
    "list_csv": "the list's visible rows, no more: tests/test_notification_list.py",
    "list_xlsx": "the list's visible rows, no more: tests/test_notification_list.py",
    "create": "files for the user's own authority: tests/test_notification_pages.py",
    "search": "finds by reference among visible rows only: test_search_matrix (below)",
    "country_signal": "aggregate figures about a country, no notification: tests/test_silence.py",
    "revoke_share": "exporter only: tests/test_notification_pages.py (share and revoke)",
    "upload_attachment": "exporter only: tests/test_notification_pages.py (attachments)",
}


def page_expectation(principal, rule_endpoint, state, route):
    expected = allowed(principal, rule_endpoint, state)
    if route in {"edit", "delete", "send"} and expected == "ok" and state != "draft":
        return "conflict"
    if route == "amend" and expected == "ok" and state == "draft":
        return "conflict"  # a draft is edited, not amended
    if expected == "bad_request":
        return "conflict"  # a page says why with a message, on the notification's page
    return expected


@pytest.mark.django_db
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("principal", [p for p, (_s, _a, kind) in PRINCIPALS.items() if kind != "client"])
def test_page_matrix(cast, client, principal, state):
    n = in_state(cast, state)
    caller_for(principal, cast, client)
    for route, (method, rule_endpoint, data) in PAGE_CALLS.items():
        url = reverse(f"notifications:{route}", args=[n.reference, *PAGE_EXTRA_ARGS.get(route, [])])
        response = getattr(client, method)(url, data)
        expected = page_expectation(principal, rule_endpoint, state, route)
        status = response.status_code
        if expected == "unauthenticated":
            assert status == 302 and "/accounts/login/" in response["Location"], (route, status)
        elif expected == "hidden":
            assert status == 404, (route, status)
        elif expected == "denied":
            assert status == 403, (route, status)
        elif route == "attachment":
            assert status == 404, (route, status)  # visible, but no such attachment
        else:
            # Allowed, or refused for its state with a message: a page, never an error.
            assert status in {200, 302}, (route, status, expected)


def _search_page(response, term):
    """The search page with what differs between two renders taken out: the term typed,
    and the CSRF token of the header's log-out form (masked afresh on every page)."""
    return page_without_csrf(response).replace(term, "TERM")


@pytest.mark.django_db
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("principal", [p for p, (_s, _a, kind) in PRINCIPALS.items() if kind != "client"])
def test_search_matrix(cast, client, principal, state):
    """The header's search by reference (issue 18, defect 4): a reference the principal may
    read opens it, however it is typed; one it may not read gives exactly the page of a
    reference that does not exist."""
    n = in_state(cast, state)
    caller_for(principal, cast, client)
    term = f"{n.reference.lower()}"
    response = client.get(reverse("notifications:search"), {"reference": f"  {term} "})
    expected = allowed(principal, "detail", state)
    if expected == "unauthenticated":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif expected == "ok":
        assert response.status_code == 302 and response["Location"] == n.get_absolute_url()
    else:
        assert expected == "hidden"
        missing_term = "xx-2026-999999"
        missing = client.get(reverse("notifications:search"), {"reference": f"  {missing_term} "})
        assert response.status_code == missing.status_code == 200
        assert n.reference not in response.content.decode()
        assert _search_page(response, term) == _search_page(missing, missing_term)


def test_every_endpoint_has_a_row_in_the_matrix():
    resolver = get_resolver()
    names = set()
    for pattern in resolver.url_patterns:
        if getattr(pattern, "namespace", None) == "notifications":
            names |= {p.name for p in pattern.url_patterns}
    assert names == set(PAGE_CALLS) | set(PAGES_COVERED_ELSEWHERE), names ^ (
        set(PAGE_CALLS) | set(PAGES_COVERED_ELSEWHERE)
    )
    # Every (method, action) the router serves for notifications, from its URL patterns.
    served = set()
    for pattern in get_resolver().url_patterns:
        for inner in getattr(pattern, "url_patterns", []):
            callback = inner.callback
            if getattr(callback, "cls", None) is NotificationViewSet:
                served |= {action for method, action in callback.actions.items() if method != "head"}
    served = {"detail" if a == "retrieve" else "update" if a == "partial_update" else a for a in served}
    covered_elsewhere = {
        "list": "visible rows only: test_api_matrix's list check",
        "create": "tests/test_api_notifications.py",
    }
    assert served == set(API_CALLS) | set(covered_elsewhere), served ^ (set(API_CALLS) | set(covered_elsewhere))
    assert set(API_CALLS) == set(READS) | set(ACTIONS) == set(SCOPE_NEEDED)


def test_api_clients_are_bound_to_their_authority(cast, db):
    """The matrix's clients act for their authority only: a client of the outsider never
    sees the exporter's notification, whatever scopes it holds."""
    client_row, _id, _secret = create_api_client(authority=cast.outsider, name="FR system")
    assert client_row.service_user.authority == cast.outsider
