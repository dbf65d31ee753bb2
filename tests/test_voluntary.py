"""Voluntary notifications of non-scheduled chemicals (issue 12; the contract's "Kinds of
notification, and chemicals outside the catalogue"): what each kind may hold, the bad
input of the issue (a message on the field it names, nothing stored), no deadline unless
the exporter sets one (never chased, never counted in timeliness), a deadline counted
apart, and the kinds told apart by the API, the list and the pages."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from chasing.sweep import sweep
from notifications import services
from notifications.models import Notification
from notifications.services import ItemData
from tests.api_helpers import bearer, notification_body, token_for
from tests.factories import file
from timeliness.stats import timeliness

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
SUSPICION = "A new buyer pays cash for ten times its usual order, shipped through a free zone."


def safrole_like(**extra):
    """A chemical outside the catalogue, with its real CAS number (isosafrole, 120-58-1)."""
    return ItemData(chemical_name="Isosafrole", cas_number="120-58-1", quantity=Decimal("500"), unit="kg", **extra)


def voluntary(cast, *, now=NOW, **overrides):
    values = {"kind": "voluntary", "suspicion": SUSPICION, "items": [safrole_like()], "end_use": "", **overrides}
    return file(cast, now=now, **values)


def refused(cast, **overrides) -> dict:
    before = Notification.objects.count()
    with pytest.raises(ValidationError) as error:
        file(cast, now=NOW, **overrides)
    assert Notification.objects.count() == before  # nothing stored
    return error.value.message_dict


# --- what each kind may hold ---------------------------------------------------------


def test_a_voluntary_notification_names_a_chemical_outside_the_catalogue_and_has_no_deadline(cast):
    n = voluntary(cast)
    assert (n.kind, n.status, n.reply_due, n.next_chase_at) == ("voluntary", "awaiting_reply", None, None)
    item = n.items.get()
    assert (item.substance_id, item.chemical_name, item.cas_number, item.name) == (
        None,
        "Isosafrole",
        "120-58-1",
        "Isosafrole",
    )
    assert n.suspicion == SUSPICION
    assert "not chased" in n.events.get(kind="submitted").detail


def test_a_special_surveillance_substance_goes_in_a_voluntary_notification_only(cast):
    n = voluntary(cast, items=[ItemData(substance="benzaldehyde", quantity=Decimal("20"), unit="kg")])
    assert n.items.get().substance.code == "benzaldehyde"
    errors = refused(cast, items=[ItemData(substance="benzaldehyde", quantity=Decimal("20"), unit="kg")])
    assert (
        "special surveillance list" in errors["items.0.substance"][0] and "voluntary" in errors["items.0.substance"][0]
    )


def test_an_entry_retired_from_the_list_is_neither_offered_nor_accepted(cast, client):
    from authorities import surveillance
    from authorities.models import Substance

    nitroethane = Substance.objects.get(code="nitroethane")
    surveillance.retire_entry(actor=cast.incb_reviewer, substance=nitroethane, now=NOW, reason="Scheduled now.")
    errors = refused(
        cast,
        kind="voluntary",
        suspicion=SUSPICION,
        items=[ItemData(substance="nitroethane", quantity=Decimal("5"), unit="kg")],
    )
    assert "retired" in errors["items.0.substance"][0]
    client.force_login(cast.exporter_officer)
    page = client.get(reverse("notifications:create")).content.decode()
    assert 'value="nitroethane"' not in page and 'value="benzaldehyde"' in page


def test_a_table_i_item_in_a_voluntary_notification_is_refused_naming_it(cast):
    errors = refused(
        cast,
        kind="voluntary",
        suspicion=SUSPICION,
        items=[safrole_like(), ItemData(substance="ephedrine", quantity=Decimal("5"), unit="kg")],
    )
    assert list(errors) == ["items.1.substance"]
    assert errors["items.1.substance"][0].startswith("Ephedrine is in Table I")


def test_a_scheduled_notification_with_an_off_list_chemical_is_refused(cast):
    errors = refused(cast, items=[safrole_like()])
    assert "Isosafrole is not in Table I or II" in errors["items.0.chemical_name"][0]


def test_a_voluntary_notification_needs_its_suspicion(cast):
    errors = refused(cast, kind="voluntary", suspicion="  ", items=[safrole_like()])
    assert list(errors) == ["suspicion"]


@pytest.mark.parametrize("number", ["120-58-2", "12-058-1", "120581", "12O-58-1"])
def test_a_wrong_cas_number_is_refused_on_its_field(cast, number):
    errors = refused(
        cast,
        kind="voluntary",
        suspicion=SUSPICION,
        items=[ItemData(chemical_name="Isosafrole", cas_number=number, quantity=Decimal("5"), unit="kg")],
    )
    assert list(errors) == ["items.0.cas_number"] and number in errors["items.0.cas_number"][0]


def test_what_national_law_requires_only_for_scheduled_chemicals_is_optional_for_a_voluntary_one(cast):
    n = voluntary(cast, point_of_exit="", point_of_entry="", end_use="")
    assert n.status == "awaiting_reply"
    errors = refused(cast, point_of_exit="", point_of_entry="", end_use="")
    assert {"point_of_exit", "point_of_entry", "end_use"} <= set(errors)


# --- the deadline, the chase and the figures -----------------------------------------


def test_without_a_deadline_it_is_never_chased_and_never_counted(cast):
    n = voluntary(cast)
    later = NOW + timedelta(days=90)
    sweep(now=later)
    n.refresh_from_db()
    assert (n.chase_step, n.next_chase_at) == (0, None)
    assert not n.risk_signals.filter(kind="silence").exists()
    services.respond(actor=cast.importer_officer, notification=n, decision="no_objection", now=later)
    n.refresh_from_db()
    assert n.status == "no_objection" and n.answered_on_time is None
    figures = timeliness(period_from=date(2000, 1, 1), period_to=date(2099, 12, 31), today=later.date())
    assert figures == []


def test_with_a_deadline_it_is_chased_and_counted_apart_from_the_scheduled_rate(cast):
    due = NOW.date() + timedelta(days=10)
    n = voluntary(cast, reply_due=due)
    scheduled = file(cast, now=NOW)
    assert n.reply_due == due and n.next_chase_at is not None
    later = NOW + timedelta(days=40)
    sweep(now=later)
    n.refresh_from_db()
    assert n.chase_step > 0 and n.risk_signals.filter(kind="silence").exists()
    services.respond(actor=cast.importer_officer, notification=scheduled, decision="no_objection", now=NOW)
    [ghana] = timeliness(period_from=date(2026, 1, 1), period_to=date(2026, 12, 31), today=later.date())
    # The scheduled rate counts the scheduled notification alone; the voluntary one apart.
    assert (ghana.received, ghana.due, ghana.replied_on_time, ghana.on_time_rate) == (1, 1, 1, 1.0)
    assert (ghana.voluntary_due, ghana.voluntary_replied_on_time) == (1, 0)


def test_a_voluntary_deadline_is_after_today(cast):
    errors = refused(cast, kind="voluntary", suspicion=SUSPICION, items=[safrole_like()], reply_due=NOW.date())
    assert list(errors) == ["reply_due"]


# --- the API --------------------------------------------------------------------------


def _voluntary_body(**overrides):
    body = notification_body()
    body.update(
        kind="voluntary",
        suspicion=SUSPICION,
        items=[
            {
                "substance": None,
                "chemical_name": "Isosafrole",
                "cas_number": "120-58-1",
                "quantity": "500",
                "unit": "kg",
            }
        ],
        end_use="",
    )
    body.update(overrides)
    return body


def test_the_api_files_a_voluntary_notification_and_filters_by_kind(cast, client):
    token = bearer(token_for(client, cast.exporter))
    created = client.post("/api/v1/notifications/", _voluntary_body(), content_type="application/json", headers=token)
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["kind"], body["suspicion"], body["reply_due"]) == ("voluntary", SUSPICION, None)
    item = body["items"][0]
    assert (item["substance"], item["substance_name"], item["chemical_name"], item["cas_number"]) == (
        None,
        None,
        "Isosafrole",
        "120-58-1",
    )
    scheduled = client.post(
        "/api/v1/notifications/", notification_body(), content_type="application/json", headers=token
    )
    assert scheduled.json()["kind"] == "scheduled"
    listed = client.get("/api/v1/notifications/?kind=voluntary", headers=token).json()["results"]
    assert [row["reference"] for row in listed] == [body["reference"]]
    assert client.get("/api/v1/notifications/?kind=other", headers=token).status_code == 400


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"items": [{"substance": "ephedrine", "quantity": "5", "unit": "kg"}]}, "items.0.substance"),
        ({"suspicion": ""}, "suspicion"),
        (
            {
                "items": [
                    {"substance": None, "chemical_name": "X", "cas_number": "120-58-2", "quantity": "5", "unit": "kg"}
                ]
            },
            "items.0.cas_number",
        ),
        ({"kind": "scheduled", "suspicion": ""}, "items.0.chemical_name"),
    ],
)
def test_the_api_names_the_field_of_each_mistake_and_stores_nothing(cast, client, overrides, field):
    token = bearer(token_for(client, cast.exporter))
    response = client.post(
        "/api/v1/notifications/", _voluntary_body(**overrides), content_type="application/json", headers=token
    )
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Notification.objects.exists()


# --- the pages ------------------------------------------------------------------------


def test_the_filing_form_offers_the_kind_first_and_a_chemical_outside_the_catalogue(cast, client):
    client.force_login(cast.exporter_officer)
    page = client.get(reverse("notifications:create")).content.decode()
    assert page.index('name="kind"') < page.index('name="importing_country"')
    assert 'name="suspicion"' in page and 'name="items-0-chemical_name"' in page and 'name="items-0-cas_number"' in page


def test_the_list_and_the_page_tell_the_kinds_apart(cast, client):
    n = voluntary(cast, now=datetime.now(UTC))
    file(cast, now=datetime.now(UTC))
    client.force_login(cast.importer_officer)
    listed = client.get(reverse("notifications:list"), {"kind": "voluntary"})
    assert [row.reference for row in listed.context["page"].object_list] == [n.reference]
    page = client.get(n.get_absolute_url()).content.decode()
    assert "Voluntary: non-scheduled chemical" in page and SUSPICION in page and "CAS 120-58-1" in page
    assert "No deadline" in page
