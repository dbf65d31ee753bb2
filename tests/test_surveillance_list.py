"""INCB's special surveillance list (issue 12; the contract's "Kinds of notification, and
chemicals outside the catalogue"): the service's rules (authorities.surveillance), the API
(``GET``/``POST /api/v1/substances/``, ``PATCH /api/v1/substances/{code}/``), the pages,
and a permission matrix of every principal × every route and API action, checked against
``allowed``, an oracle written from the rules — not from the code: every authority reads
the list; INCB alone maintains it, with scope ``estimates:write`` through the API. A new
route of the list without a row here fails ``test_every_surveillance_route_has_a_row``."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import get_resolver, reverse
from django.utils import timezone

from authorities import surveillance
from authorities.api import SubstanceViewSet
from authorities.models import Schedule, Substance, SubstanceChange, SubstanceChangeAction
from tests.api_helpers import bearer, token_for

pytestmark = pytest.mark.django_db

BENZYL_CYANIDE = {
    "name": "Benzyl cyanide",
    "cas_number": "140-29-4",
    "hs_code": "2926.90",
    "recommended_actions": "Verify the end use of any order above 25 kg.",
}


def add(cast, **overrides):
    return surveillance.add_entry(actor=cast.incb_reviewer, data={**BENZYL_CYANIDE, **overrides}, now=timezone.now())


def errors_of(raised) -> dict:
    return raised.value.message_dict


# --- the service ----------------------------------------------------------------------------


def test_an_added_entry_is_on_the_list_with_its_history(cast):
    now = timezone.now()
    entry = surveillance.add_entry(actor=cast.incb_reviewer, data=BENZYL_CYANIDE, now=now)

    entry.refresh_from_db()
    assert (entry.code, entry.name, entry.schedule, entry.active) == (
        "benzyl-cyanide",
        "Benzyl cyanide",
        Schedule.SPECIAL_SURVEILLANCE,
        True,
    )
    assert (entry.cas_number, entry.hs_code, entry.alr_applicable) == ("140-29-4", "2926.90", False)
    assert entry.recommended_actions == "Verify the end use of any order above 25 kg."
    [change] = SubstanceChange.objects.filter(substance=entry)
    assert (change.action, change.by, change.at, change.before) == (
        SubstanceChangeAction.ADDED,
        cast.incb_reviewer,
        now,
        {},
    )
    assert change.after == {**BENZYL_CYANIDE, "active": True}


def test_cas_and_hs_code_are_optional(cast):
    entry = surveillance.add_entry(actor=cast.incb_admin, data={"name": "Sodium cyanoborohydride"}, now=timezone.now())
    assert (entry.code, entry.cas_number, entry.hs_code, entry.recommended_actions) == (
        "sodium-cyanoborohydride",
        "",
        "",
        "",
    )


@pytest.mark.parametrize("number", ["140-29-5", "140-92-4", "140294", "14O-29-4", "cas 140-29-4"])
def test_a_bad_cas_number_is_refused_naming_the_field_and_nothing_is_written(cast, number):
    before = (Substance.objects.count(), SubstanceChange.objects.count())
    with pytest.raises(ValidationError) as raised:
        add(cast, cas_number=number)
    assert list(errors_of(raised)) == ["cas_number"]
    assert "not a valid CAS number" in errors_of(raised)["cas_number"][0]
    assert (Substance.objects.count(), SubstanceChange.objects.count()) == before


def test_a_cas_number_of_another_substance_is_refused(cast):
    # 100-52-7 is benzaldehyde's, already on the list; 299-42-3 ephedrine's, in Table I.
    for number, name in [("100-52-7", "Benzaldehyde"), ("299-42-3", "Ephedrine")]:
        with pytest.raises(ValidationError) as raised:
            add(cast, cas_number=number)
        assert errors_of(raised) == {"cas_number": [f"CAS number {number} is already that of {name}."]}
    assert not Substance.objects.filter(code="benzyl-cyanide").exists()


def test_a_name_in_the_catalogue_is_refused(cast):
    for name in ["Benzaldehyde", "EPHEDRINE", "  Nitroethane "]:
        with pytest.raises(ValidationError) as raised:
            add(cast, name=name, cas_number="")
        assert list(errors_of(raised)) == ["name"]
    add(cast)
    with pytest.raises(ValidationError) as raised:
        add(cast, name="Benzyl-cyanide", cas_number="")  # another name, the same code
    assert "benzyl-cyanide" in errors_of(raised)["name"][0]
    assert Substance.objects.filter(schedule=Schedule.SPECIAL_SURVEILLANCE).count() == 6


def test_every_bad_field_is_named_at_once(cast):
    with pytest.raises(ValidationError) as raised:
        surveillance.add_entry(
            actor=cast.incb_reviewer,
            data={"name": "  ", "cas_number": "1-2-3", "hs_code": "29a6", "recommended_actions": "x" * 5001},
            now=timezone.now(),
        )
    assert set(errors_of(raised)) == {"name", "cas_number", "hs_code", "recommended_actions"}
    with pytest.raises(ValidationError) as raised:
        add(cast, name="!!!")
    assert list(errors_of(raised)) == ["name"]


@pytest.mark.parametrize("actor", ["exporter_officer", "importer_admin", "importer_viewer"])
def test_only_incb_maintains_the_list(cast, actor):
    person = getattr(cast, actor)
    benzaldehyde = Substance.objects.get(code="benzaldehyde")
    assert not surveillance.may_maintain(person)
    with pytest.raises(PermissionDenied):
        surveillance.add_entry(actor=person, data=BENZYL_CYANIDE, now=timezone.now())
    with pytest.raises(PermissionDenied):
        surveillance.retire_entry(actor=person, substance=benzaldehyde, now=timezone.now())
    with pytest.raises(PermissionDenied):
        surveillance.change_entry(actor=person, substance=benzaldehyde, data={"name": "x"}, now=timezone.now())
    assert not SubstanceChange.objects.exists()


def test_a_deactivated_incb_member_may_not_maintain(cast):
    cast.incb_admin.is_active = False
    assert not surveillance.may_maintain(cast.incb_admin)
    assert surveillance.may_maintain(cast.incb_reviewer)


def test_retiring_keeps_the_row_and_its_history_and_reinstating_brings_it_back(cast):
    entry = add(cast)
    surveillance.retire_entry(actor=cast.incb_admin, substance=entry, now=timezone.now(), reason="Now in Table I.")

    entry.refresh_from_db()
    assert entry.active is False
    assert Substance.objects.filter(code="benzyl-cyanide", schedule=Schedule.SPECIAL_SURVEILLANCE).exists()
    with pytest.raises(ValidationError) as raised:
        surveillance.retire_entry(actor=cast.incb_admin, substance=entry, now=timezone.now())
    assert list(errors_of(raised)) == ["active"]

    surveillance.reinstate_entry(actor=cast.incb_reviewer, substance=entry, now=timezone.now())
    entry.refresh_from_db()
    assert entry.active is True
    history = list(surveillance.history(entry))
    assert [c.action for c in history] == ["added", "retired", "reinstated"]
    assert (history[1].by, history[1].reason) == (cast.incb_admin, "Now in Table I.")
    assert (history[1].before["active"], history[1].after["active"]) == (True, False)
    assert (history[2].before["active"], history[2].after["active"]) == (False, True)
    with pytest.raises(ValidationError):
        surveillance.reinstate_entry(actor=cast.incb_reviewer, substance=entry, now=timezone.now())


def test_a_change_records_before_and_after_and_keeps_the_code(cast):
    entry = add(cast)
    surveillance.change_entry(
        actor=cast.incb_reviewer,
        substance=entry,
        data={"name": "Benzyl cyanide (phenylacetonitrile)", "hs_code": "2926.90.10"},
        now=timezone.now(),
    )
    entry.refresh_from_db()
    assert (entry.code, entry.name, entry.hs_code) == (
        "benzyl-cyanide",
        "Benzyl cyanide (phenylacetonitrile)",
        "2926.90.10",
    )
    change = entry.changes.get(action=SubstanceChangeAction.CHANGED)
    assert (change.before["name"], change.after["name"]) == ("Benzyl cyanide", "Benzyl cyanide (phenylacetonitrile)")
    assert surveillance.differences(change) == [
        ("name", "Benzyl cyanide", "Benzyl cyanide (phenylacetonitrile)"),
        ("HS code", "2926.90", "2926.90.10"),
    ]
    # The same values again: nothing changes, nothing is recorded.
    surveillance.change_entry(
        actor=cast.incb_reviewer, substance=entry, data={"hs_code": "2926.90.10"}, now=timezone.now()
    )
    assert entry.changes.count() == 2


def test_a_bad_change_writes_nothing(cast):
    entry = add(cast)
    with pytest.raises(ValidationError) as raised:
        surveillance.change_entry(
            actor=cast.incb_reviewer,
            substance=entry,
            data={"name": "Safe", "cas_number": "100-52-7"},
            now=timezone.now(),
        )
    assert list(errors_of(raised)) == ["cas_number"]
    entry.refresh_from_db()
    assert entry.name == "Benzyl cyanide" and entry.changes.count() == 1


@pytest.mark.parametrize("code", ["ephedrine", "potassium-permanganate"])
def test_the_conventions_tables_are_not_editable(cast, code):
    substance = Substance.objects.get(code=code)
    for call in [
        lambda: surveillance.retire_entry(actor=cast.incb_admin, substance=substance, now=timezone.now()),
        lambda: surveillance.change_entry(
            actor=cast.incb_admin, substance=substance, data={"name": "Changed"}, now=timezone.now()
        ),
    ]:
        with pytest.raises(ValidationError) as raised:
            call()
        assert list(errors_of(raised)) == ["schedule"]
        assert "of the 1988 Convention" in errors_of(raised)["schedule"][0]
    substance.refresh_from_db()
    assert substance.active is True and substance.name != "Changed"
    assert not SubstanceChange.objects.exists()


def test_history_is_protected_from_deleting_the_substance(cast):
    from django.db.models import ProtectedError

    entry = add(cast)
    with pytest.raises(ProtectedError):
        entry.delete()


# --- the API ------------------------------------------------------------------------------


@pytest.fixture
def incb_api(client, cast):
    return bearer(token_for(client, cast.incb))


def test_the_list_by_schedule_with_retired_entries_marked(client, cast, incb_api):
    surveillance.retire_entry(
        actor=cast.incb_reviewer, substance=Substance.objects.get(code="nitroethane"), now=timezone.now()
    )
    headers = bearer(token_for(client, cast.importer, scopes=["notifications:read"]))

    body = client.get("/api/v1/substances/", {"schedule": "special_surveillance"}, headers=headers).json()
    rows = {row["code"]: row for row in body["results"]}
    assert set(rows) == {"benzaldehyde", "nitroethane", "methylamine", "red-phosphorus", "hydriodic-acid"}
    assert rows["nitroethane"]["active"] is False and rows["benzaldehyde"]["active"] is True
    assert set(rows["benzaldehyde"]) == {
        "code", "name", "schedule", "cas_number", "hs_code", "alr_applicable", "active", "recommended_actions"
    }  # fmt: skip
    current = client.get("/api/v1/substances/?schedule=special_surveillance&active=true", headers=headers).json()
    assert "nitroethane" not in {row["code"] for row in current["results"]} and current["count"] == 4
    retired = client.get("/api/v1/substances/?active=false", headers=headers).json()
    assert [row["code"] for row in retired["results"]] == ["nitroethane"]


def test_post_adds_an_entry(client, cast, incb_api):
    response = client.post("/api/v1/substances/", BENZYL_CYANIDE, content_type="application/json", headers=incb_api)

    assert response.status_code == 201, response.content
    assert response.json() == {
        "code": "benzyl-cyanide",
        "name": "Benzyl cyanide",
        "schedule": "special_surveillance",
        "cas_number": "140-29-4",
        "hs_code": "2926.90",
        "alr_applicable": False,
        "active": True,
        "recommended_actions": "Verify the end use of any order above 25 kg.",
    }
    assert client.get("/api/v1/substances/benzyl-cyanide/", headers=incb_api).json()["name"] == "Benzyl cyanide"
    assert Substance.objects.get(code="benzyl-cyanide").changes.get().by.authority == cast.incb


def test_post_is_idempotent_with_a_key(client, cast, incb_api):
    headers = {**incb_api, "Idempotency-Key": "9d1c7a36-surveillance"}
    first = client.post("/api/v1/substances/", BENZYL_CYANIDE, content_type="application/json", headers=headers)
    again = client.post("/api/v1/substances/", BENZYL_CYANIDE, content_type="application/json", headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert Substance.objects.filter(code="benzyl-cyanide").count() == 1
    assert SubstanceChange.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({**BENZYL_CYANIDE, "cas_number": "140-29-5"}, {"cas_number"}),
        ({**BENZYL_CYANIDE, "cas_number": "100-52-7"}, {"cas_number"}),
        ({**BENZYL_CYANIDE, "name": ""}, {"name"}),
        ({"cas_number": "140-29-4"}, {"name"}),
        ({**BENZYL_CYANIDE, "hs_code": "HS 2926"}, {"hs_code"}),
        ({**BENZYL_CYANIDE, "name": None}, {"name"}),
        ({**BENZYL_CYANIDE, "name": "Benzyl\x00cyanide"}, {"name"}),
    ],
)
def test_post_refuses_bad_fields_with_a_400_per_field(client, cast, incb_api, body, fields):
    response = client.post("/api/v1/substances/", body, content_type="application/json", headers=incb_api)
    assert response.status_code == 400, response.content
    assert set(response.json()) == fields
    assert not SubstanceChange.objects.exists()


def test_post_a_body_that_is_not_an_object_is_a_400(client, cast, incb_api):
    response = client.post("/api/v1/substances/", [1, 2], content_type="application/json", headers=incb_api)
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_patch_retires_and_reinstates(client, cast, incb_api):
    url = "/api/v1/substances/methylamine/"
    retired = client.patch(url, {"active": False}, content_type="application/json", headers=incb_api)
    assert retired.status_code == 200, retired.content
    assert retired.json()["active"] is False
    again = client.patch(url, {"active": False}, content_type="application/json", headers=incb_api)
    assert again.status_code == 200 and again.json()["active"] is False  # already so: nothing changes
    back = client.patch(
        url, {"active": True, "reason": "Retired by mistake."}, content_type="application/json", headers=incb_api
    )
    assert back.json()["active"] is True
    methylamine = Substance.objects.get(code="methylamine")
    assert [(c.action, c.reason) for c in surveillance.history(methylamine)] == [
        ("retired", ""),
        ("reinstated", "Retired by mistake."),
    ]


def test_patch_changes_the_editable_fields(client, cast, incb_api):
    response = client.patch(
        "/api/v1/substances/red-phosphorus/",
        {"recommended_actions": "Verify every import above 10 kg.", "hs_code": "2804.70"},
        content_type="application/json",
        headers=incb_api,
    )
    assert response.status_code == 200, response.content
    assert response.json()["recommended_actions"] == "Verify every import above 10 kg."
    assert response.json()["code"] == "red-phosphorus"
    [change] = Substance.objects.get(code="red-phosphorus").changes.all()
    assert change.action == "changed" and change.after["recommended_actions"] == "Verify every import above 10 kg."


def test_patch_a_bad_value_is_a_400_and_changes_nothing(client, cast, incb_api):
    response = client.patch(
        "/api/v1/substances/red-phosphorus/",
        {"cas_number": "7723-14-1", "active": False},
        content_type="application/json",
        headers=incb_api,
    )
    assert response.status_code == 400
    assert set(response.json()) == {"cas_number"}
    red = Substance.objects.get(code="red-phosphorus")
    assert (red.cas_number, red.active, red.changes.count()) == ("7723-14-0", True, 0)


def test_patch_of_a_table_i_substance_is_a_400_on_schedule(client, cast, incb_api):
    response = client.patch(
        "/api/v1/substances/ephedrine/", {"active": False}, content_type="application/json", headers=incb_api
    )
    assert response.status_code == 400
    assert list(response.json()) == ["schedule"]
    assert Substance.objects.get(code="ephedrine").active is True


def test_patch_of_an_unknown_code_is_404(client, cast, incb_api):
    response = client.patch(
        "/api/v1/substances/nothing/", {"active": False}, content_type="application/json", headers=incb_api
    )
    assert response.status_code == 404


def test_the_schema_documents_the_write_operations(client, cast):
    client.force_login(cast.importer_viewer)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    create = schema["paths"]["/api/v1/substances/"]["post"]
    patch = schema["paths"]["/api/v1/substances/{code}/"]["patch"]
    for operation in (create, patch):
        assert operation["description"] and operation["summary"]
        assert {"oauth2": ["estimates:write"]} in operation["security"]
        assert {"200" if operation is patch else "201", "400", "401", "403"} <= set(operation["responses"])
    assert "Idempotency-Key" in {p["name"] for p in create["parameters"] if p["in"] == "header"}
    listed = {p["name"] for p in schema["paths"]["/api/v1/substances/"]["get"]["parameters"]}
    assert {"schedule", "active"} <= listed
    properties = schema["components"]["schemas"]["Substance"]["properties"]
    assert properties["active"]["description"] and properties["recommended_actions"]["description"]
    assert "put" not in schema["paths"]["/api/v1/substances/{code}/"]
    assert "delete" not in schema["paths"]["/api/v1/substances/{code}/"]


# --- the pages ----------------------------------------------------------------------------


def test_the_list_page_shows_active_and_retired_entries(client, cast):
    surveillance.retire_entry(
        actor=cast.incb_reviewer,
        substance=Substance.objects.get(code="hydriodic-acid"),
        now=timezone.now(),
        reason="Scheduled nationally everywhere it is traded.",
    )
    client.force_login(cast.exporter_officer)
    page = client.get(reverse("authorities:surveillance")).content.decode()

    active, retired = page.split('id="retired-heading"')
    assert "Benzaldehyde" in active and "Hydriodic acid" not in active
    assert "Hydriodic acid" in retired and "Scheduled nationally everywhere it is traded." in retired
    assert "Add an entry" not in page and "/retire/" not in page and "/history/" not in page
    assert 'aria-current="page">Surveillance list' in page


def test_incb_sees_the_maintenance_links(client, cast):
    client.force_login(cast.incb_reviewer)
    page = client.get(reverse("authorities:surveillance")).content.decode()
    assert "Add an entry" in page
    assert reverse("authorities:surveillance_retire", args=["benzaldehyde"]) in page
    assert reverse("authorities:surveillance_history", args=["benzaldehyde"]) in page
    assert reverse("authorities:surveillance_edit", args=["benzaldehyde"]) in page


def test_the_add_form_adds_and_shows_errors_beside_their_fields(client, cast):
    client.force_login(cast.incb_admin)
    url = reverse("authorities:surveillance_add")
    refused = client.post(url, {**BENZYL_CYANIDE, "cas_number": "140-29-5"})
    assert refused.status_code == 200
    page = refused.content.decode()
    assert 'class="error-summary"' in page and 'href="#id_cas_number"' in page
    assert "not a valid CAS number" in page
    assert not Substance.objects.filter(code="benzyl-cyanide").exists()

    empty = client.post(url, {"name": ""}).content.decode()
    assert "Give the chemical&#x27;s name" in empty and 'href="#id_name"' in empty

    added = client.post(url, BENZYL_CYANIDE)
    assert added.status_code == 302 and added["Location"].endswith("#entry-benzyl-cyanide")
    assert Substance.objects.get(code="benzyl-cyanide").changes.get().by == cast.incb_admin


def test_the_edit_page_changes_an_entry(client, cast):
    client.force_login(cast.incb_reviewer)
    url = reverse("authorities:surveillance_edit", args=["nitroethane"])
    assert 'value="79-24-3"' in client.get(url).content.decode()
    response = client.post(
        url, {"name": "Nitroethane", "cas_number": "79-24-3", "hs_code": "2904.20", "recommended_actions": "Check."}
    )
    assert response.status_code == 302
    assert Substance.objects.get(code="nitroethane").recommended_actions == "Check."


def test_retiring_on_the_page_needs_a_reason(client, cast):
    client.force_login(cast.incb_reviewer)
    url = reverse("authorities:surveillance_retire", args=["benzaldehyde"])
    assert "Yes, retire the entry" in client.get(url).content.decode()

    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 200 and 'href="#id_reason"' in refused.content.decode()
    assert Substance.objects.get(code="benzaldehyde").active is True

    done = client.post(url, {"reason": "Replaced by a national control."})
    assert done.status_code == 302
    benzaldehyde = Substance.objects.get(code="benzaldehyde")
    assert benzaldehyde.active is False
    assert benzaldehyde.changes.get().reason == "Replaced by a national control."
    # Retired already: the page sends back to the list.
    assert client.get(url).status_code == 302

    history = client.get(reverse("authorities:surveillance_history", args=["benzaldehyde"])).content.decode()
    assert "Retired" in history and "Replaced by a national control." in history

    back = client.post(reverse("authorities:surveillance_reinstate", args=["benzaldehyde"]), {"reason": ""})
    assert back.status_code == 302 and Substance.objects.get(code="benzaldehyde").active is True


def test_a_table_i_substance_has_no_surveillance_pages(client, cast):
    client.force_login(cast.incb_reviewer)
    for route in ["surveillance_retire", "surveillance_edit", "surveillance_history", "surveillance_reinstate"]:
        assert client.get(reverse(f"authorities:{route}", args=["ephedrine"])).status_code == 404, route


# --- the permission matrix ----------------------------------------------------------------

# principal -> (side, kind)
PRINCIPALS = {
    "national_officer": ("national", "person"),
    "national_viewer": ("national", "person"),
    "incb_reviewer": ("incb", "person"),
    "incb_admin": ("incb", "person"),
    "anonymous": (None, "anonymous"),
    "national_client": ("national", "client"),
    "incb_client": ("incb", "client"),
    "incb_reader_client": ("incb", "reader"),  # an INCB client without estimates:write
}

# page route -> (the oracle's endpoint, a code for its URL or None)
PAGE_ROUTES = {
    "surveillance": ("read", None),
    "surveillance_add": ("maintain", None),
    "surveillance_edit": ("maintain", "benzaldehyde"),
    "surveillance_retire": ("maintain", "benzaldehyde"),
    "surveillance_reinstate": ("maintain", "nitroethane"),  # retired by the fixture
    "surveillance_history": ("maintain", "benzaldehyde"),
}
GET_ONLY = {"surveillance", "surveillance_history"}  # a POST is 405 for everyone
# Every route of the authorities app that is not the list's, with the test that covers it.
OTHER_ROUTES = {"directory", "country", "closure_declare", "closure_withdraw", "policies", "policy_edit"}
API_ACTIONS = {"list": "read_api", "retrieve": "read_api", "create": "write_api", "partial_update": "write_api"}


def allowed(principal, endpoint) -> str:
    """'unauthenticated', 'denied' (403) or 'ok'."""
    side, kind = PRINCIPALS[principal]
    if kind == "anonymous":
        return "unauthenticated"
    if endpoint in {"read", "read_api"}:
        return "ok"  # every authority, national or INCB, and any client reads the list
    if endpoint == "write_api":
        if kind == "reader":
            return "denied"  # the scope is missing
        return "ok" if side == "incb" else "denied"
    if endpoint == "maintain":
        return "ok" if side == "incb" else "denied"
    raise AssertionError(endpoint)


def headers_for(principal, cast, client) -> dict:
    side, kind = PRINCIPALS[principal]
    authority = cast.incb if side == "incb" else cast.exporter
    if kind == "client":
        return bearer(token_for(client, authority))
    if kind == "reader":
        return bearer(token_for(client, authority, scopes=["notifications:read"], name="Reader"))
    if kind == "anonymous":
        return {}
    person = {
        "national_officer": cast.exporter_officer,
        "national_viewer": cast.importer_viewer,
        "incb_reviewer": cast.incb_reviewer,
        "incb_admin": cast.incb_admin,
    }[principal]
    client.force_login(person)
    return {}


API_STATUS = {"unauthenticated": 401, "denied": 403}


@pytest.fixture
def retired_nitroethane(cast):
    return surveillance.retire_entry(
        actor=cast.incb_reviewer, substance=Substance.objects.get(code="nitroethane"), now=timezone.now()
    )


@pytest.mark.parametrize("principal", list(PRINCIPALS))
def test_api_matrix(cast, client, principal, retired_nitroethane):
    headers = headers_for(principal, cast, client)

    def expect(response, endpoint, ok):
        expected = allowed(principal, endpoint)
        assert response.status_code == (ok if expected == "ok" else API_STATUS[expected]), response.content
        return expected == "ok"

    expect(client.get("/api/v1/substances/?schedule=special_surveillance", headers=headers), "read_api", 200)
    expect(client.get("/api/v1/substances/nitroethane/", headers=headers), "read_api", 200)
    created = client.post("/api/v1/substances/", BENZYL_CYANIDE, content_type="application/json", headers=headers)
    assert expect(created, "write_api", 201) == Substance.objects.filter(code="benzyl-cyanide").exists()
    patched = client.patch(
        "/api/v1/substances/methylamine/", {"active": False}, content_type="application/json", headers=headers
    )
    assert expect(patched, "write_api", 200) == (not Substance.objects.get(code="methylamine").active)


@pytest.mark.parametrize(
    "principal", [p for p, (_s, kind) in PRINCIPALS.items() if kind == "person" or kind == "anonymous"]
)
def test_page_matrix(cast, client, principal, retired_nitroethane):
    headers_for(principal, cast, client)
    for route, (rule, code) in PAGE_ROUTES.items():
        url = reverse(f"authorities:{route}", args=[code] if code else [])
        expected = allowed(principal, rule)
        for method in ("get", "post"):
            if method == "post" and route in GET_ONLY:
                continue
            response = getattr(client, method)(url, {})
            if expected == "unauthenticated":
                assert response.status_code == 302 and "/accounts/login/" in response["Location"], (route, method)
            else:
                # A POST of an empty form by INCB is refused beside its fields (200); others are 403.
                assert response.status_code == {"ok": 200, **API_STATUS}[expected], (
                    route,
                    method,
                    response.status_code,
                )
    # Nothing was written by anyone: the empty forms were all refused.
    assert SubstanceChange.objects.exclude(pk__in=retired_nitroethane.changes.values("pk")).count() == 0


def test_a_user_without_an_authority_may_not_read_the_list(client, cast):
    from accounts.models import User

    operator = User.objects.create_superuser("operator", "operator@example.org", "x-very-long-password-1")
    client.force_login(operator)
    assert client.get(reverse("authorities:surveillance")).status_code == 403


def test_every_surveillance_route_has_a_row():
    namespace = get_resolver().namespace_dict["authorities"][1]
    names = {name for name in namespace.reverse_dict if isinstance(name, str)}
    assert names == set(PAGE_ROUTES) | OTHER_ROUTES
    assert {name for name in names if name.startswith("surveillance")} == set(PAGE_ROUTES)
    actions = {
        name
        for name in ("list", "retrieve", "create", "update", "partial_update", "destroy")
        if hasattr(SubstanceViewSet, name)
    }
    assert actions == set(API_ACTIONS)
    assert not SubstanceViewSet.get_extra_actions()


def test_reloading_the_catalogue_keeps_what_incb_changed_on_the_portal(cast):
    from authorities.services import load_reference_data

    benzaldehyde = Substance.objects.get(code="benzaldehyde")
    surveillance.change_entry(
        actor=cast.incb_reviewer, substance=benzaldehyde, data={"hs_code": "2912.21.00"}, now=timezone.now()
    )
    load_reference_data()
    assert Substance.objects.get(code="benzaldehyde").hs_code == "2912.21.00"
    # An entry INCB never touched still follows the catalogue.
    Substance.objects.filter(code="nitroethane").update(hs_code="0000")
    load_reference_data()
    assert Substance.objects.get(code="nitroethane").hs_code != "0000"
