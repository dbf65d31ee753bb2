"""Incidents (issue 11): reporting, visibility, amendment with history, alerts once,
backtracking to the notifications behind them, and the ``incident_party`` flag.

The fixed cast: DE exports to GH through NL; FR is an outsider, BE the one shared with."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from incidents import access, backtracking, flags, services
from incidents.matching import normalise, same_company, score
from incidents.models import Incident, IncidentEvent, IncidentParty, NotificationPartyName
from incidents.services import IncidentData, PartyData, SubstanceData, cas_is_valid
from messaging import outbox, webhooks
from messaging.models import OutboxMessage, WebhookDelivery
from notifications.models import RiskSignal
from tests.api_helpers import bearer, token_for
from tests.factories import file, notification_data

# --- matching: a fixed table ------------------------------------------------------------

SAME = [
    ("Accra Pharma Ltd", "ACCRA PHARMA LIMITED"),
    ("Accra Pharma Ltd", "Accra-Pharma Ltd."),
    ("Accra Pharma Ltd", "accra pharma"),
    ("Accra Pharma Ltd", "Pharma Accra Ltd"),  # word order
    ("Accra Pharma Ltd", "Acra Pharma Ltd"),  # a slip of the pen
    ("Chemie Export GmbH", "CHEMIE-EXPORT G.m.b.H."),
    ("Química Andina S.A. de C.V.", "Quimica Andina SA de CV"),  # accents, legal form
    ("Société Générale de Chimie SARL", "Societe Generale de Chimie"),
    ("Rotterdam Chemicals B.V.", "Rotterdam Chemicals BV"),
]
DIFFERENT = [
    ("Accra Pharma Ltd", "Accra Pharmaceuticals Holdings"),
    ("Accra Pharma Ltd", "Kumasi Pharma Ltd"),
    ("Accra Pharma Ltd", "Accra Chemicals Ltd"),
    ("Chemie Export GmbH", "Chemie Import GmbH"),
    ("Rotterdam Chemicals B.V.", "Amsterdam Chemicals B.V."),
    ("Accra Pharma Ltd", "Ltd"),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_spellings_of_one_company_match(a, b):
    assert same_company(a, b), (normalise(a), normalise(b), score(normalise(a), normalise(b)))


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_other_companies_do_not_match(a, b):
    assert not same_company(a, b), (normalise(a), normalise(b), score(normalise(a), normalise(b)))


def test_normalised_names_fold_case_punctuation_accents_legal_forms_and_word_order():
    assert normalise("Accra-Pharma Ltd.") == normalise("ACCRA PHARMA LIMITED") == "accra pharma"
    assert normalise("Pharma Accra Ltd") == "accra pharma"
    assert normalise("Química Andina S.A. de C.V.") == "andina quimica"


@pytest.mark.parametrize(
    ("number", "valid"),
    [("299-42-3", True), ("50-00-0", True), ("7732-18-5", True), ("299-42-4", False), ("12-3", False), ("", False)],
)
def test_cas_check_digits_are_verified(number, valid):
    assert cas_is_valid(number) is valid


# --- reporting --------------------------------------------------------------------------


def incident_data(**overrides) -> IncidentData:
    values = dict(
        kind="seizure",
        occurred_on=timezone.now().date() - timedelta(days=2),
        description="120 kg of ephedrine in drums declared as sodium chloride.",
        modus_operandi="Mis-declared goods.",
        substances=[SubstanceData(substance="ephedrine", quantity=Decimal("120.000"), unit="kg")],
        parties=[PartyData(role="importer", name="ACCRA PHARMA LIMITED", address="Accra", country="GH")],
        route=["DE", "NL"],
    )
    values.update(overrides)
    return IncidentData(**values)


def body(**overrides) -> dict:
    values = {
        "kind": "seizure",
        "occurred_on": (timezone.now().date() - timedelta(days=2)).isoformat(),
        "description": "120 kg of ephedrine in drums declared as sodium chloride.",
        "modus_operandi": "Mis-declared goods.",
        "substances": [{"substance": "ephedrine", "quantity": "120.000", "unit": "kg"}],
        "parties": [{"role": "importer", "name": "Accra-Pharma Ltd.", "address": "Accra", "country": "GH"}],
        "route": ["DE", "NL"],
    }
    values.update(overrides)
    return values


def test_a_national_authority_reports_an_incident_through_the_api(client, cast):
    token = token_for(client, cast.transit)
    response = client.post(
        "/api/v1/incidents/", body(shared_with=["BE"]), content_type="application/json", headers=bearer(token)
    )

    assert response.status_code == 201, response.content
    data = response.json()
    year = timezone.now().year
    assert data["reference"] == f"INC-{year}-000001"
    assert response["ETag"] and response["Location"].endswith(f"/api/v1/incidents/INC-{year}-000001/")
    incident = Incident.objects.get(reference=data["reference"])
    assert incident.country_id == "NL" and incident.authority == cast.transit
    assert [s.country_id for s in incident.route_stops.all()] == ["DE", "NL"]
    assert incident.parties.get().normalised_name == "accra pharma"
    assert data["route"] == ["DE", "NL"] and data["shared_with"] == ["BE"] and data["visibility"] == "concerned"
    assert [e["kind"] for e in data["history"]] == ["reported"]


def test_the_second_incident_of_the_year_gets_the_next_number(cast):
    now = timezone.now()
    first = services.report(actor=cast.transit_officer, data=incident_data(), now=now)
    second = services.report(actor=cast.exporter_officer, data=incident_data(), now=now)
    assert (first.reference, second.reference) == (f"INC-{now.year}-000001", f"INC-{now.year}-000002")


def test_bad_input_is_400_with_one_message_per_field_and_nothing_stored(client, cast):
    token = token_for(client, cast.transit)
    tomorrow = (timezone.now().date() + timedelta(days=1)).isoformat()
    response = client.post(
        "/api/v1/incidents/",
        body(
            occurred_on=tomorrow,
            route=["CN", "NL", "NL", "MX"],
            substances=[
                {"substance": "unobtainium", "quantity": "1", "unit": "kg"},
                {
                    "substance": None,
                    "chemical_name": "Safrole oil",
                    "cas_number": "94-59-8",
                    "quantity": "5",
                    "unit": "l",
                },
            ],
            parties=[{"role": "importer", "name": "  ", "country": "XX"}],
        ),
        content_type="application/json",
        headers=bearer(token),
    )

    assert response.status_code == 400, response.content
    errors = response.json()
    assert set(errors) == {
        "occurred_on",
        "route",
        "substances.0.substance",
        "substances.1.cas_number",
        "parties.0.name",
        "parties.0.country",
    }
    assert all(len(messages) == 1 for messages in errors.values())
    assert "NL" in errors["route"][0]
    assert Incident.objects.count() == 0 and OutboxMessage.objects.count() == 0


def test_a_notification_the_reporter_cannot_see_is_the_same_error_as_a_missing_one(cast):
    now = timezone.now()
    notification = file(cast, now=now)  # DE to GH through NL: FR is no party
    errors = {}
    for reference in (notification.reference, "DE-2026-999999"):
        with pytest.raises(services.ValidationError) as raised:
            services.report(actor=cast.outsider_officer, data=incident_data(related_notifications=[reference]), now=now)
        errors[reference] = raised.value.message_dict["related_notifications"][0].replace(reference, "REF")
    assert errors[notification.reference] == errors["DE-2026-999999"]
    assert Incident.objects.count() == 0


def test_incb_and_viewers_may_not_report(client, cast):
    for user in (cast.incb_reviewer, cast.exporter_viewer):
        client.force_login(user)
        response = client.post("/api/v1/incidents/", body(), content_type="application/json")
        assert response.status_code == 403
    assert Incident.objects.count() == 0


# --- visibility -------------------------------------------------------------------------


def test_a_concerned_incident_is_seen_by_the_countries_concerned_and_incb_only(client, cast):
    now = timezone.now()
    notification = file(cast, now=now)  # DE -> NL -> GH
    incident = services.report(
        actor=cast.transit_officer,
        data=incident_data(route=["NL"], related_notifications=[notification.reference], shared_with=["BE"]),
        now=now,
    )
    seen = {}
    for name in (
        "exporter_officer",
        "importer_viewer",
        "transit_officer",
        "shared_officer",
        "incb_reviewer",
        "outsider_officer",
    ):
        client.force_login(getattr(cast, name))
        seen[name] = client.get(f"/api/v1/incidents/{incident.reference}/").status_code
    # DE and GH through the related notification, NL reports, BE is shared with, INCB sees all.
    assert seen == {
        "exporter_officer": 200,
        "importer_viewer": 200,
        "transit_officer": 200,
        "shared_officer": 200,
        "incb_reviewer": 200,
        "outsider_officer": 404,
    }
    client.force_login(cast.outsider_officer)
    missing = client.get("/api/v1/incidents/INC-2026-999999/")
    hidden = client.get(f"/api/v1/incidents/{incident.reference}/")
    assert missing.status_code == hidden.status_code == 404 and missing.json() == hidden.json()
    assert client.get("/api/v1/incidents/").json()["count"] == 0


def test_an_incident_for_all_is_seen_by_every_authority(client, cast):
    incident = services.report(actor=cast.transit_officer, data=incident_data(visibility="all"), now=timezone.now())
    client.force_login(cast.outsider_officer)
    assert client.get(f"/api/v1/incidents/{incident.reference}/").status_code == 200
    assert access.visible_incidents(cast.outsider_officer).count() == 1


def test_the_list_filters_by_kind_country_substance_and_date(client, cast):
    now = timezone.now()
    services.report(actor=cast.transit_officer, data=incident_data(visibility="all"), now=now)
    services.report(
        actor=cast.transit_officer,
        data=incident_data(
            visibility="all",
            kind="diversion_attempt",
            route=["GH"],
            substances=[SubstanceData(substance="pseudoephedrine", quantity=Decimal("1"), unit="kg")],
            occurred_on=now.date() - timedelta(days=40),
        ),
        now=now,
    )
    client.force_login(cast.outsider_officer)

    def refs(query):
        response = client.get(f"/api/v1/incidents/{query}")
        assert response.status_code == 200, response.content
        return [row["kind"] for row in response.json()["results"]]

    assert refs("") == ["seizure", "diversion_attempt"]
    assert refs("?kind=diversion_attempt") == ["diversion_attempt"]
    assert refs("?country=GH") == ["diversion_attempt"]
    assert refs("?country=NL") == ["seizure", "diversion_attempt"]
    assert refs("?substance=ephedrine") == ["seizure"]
    assert refs(f"?occurred_since={(now.date() - timedelta(days=10)).isoformat()}") == ["seizure"]


def test_scopes_read_and_write_are_needed(client, cast):
    read_only = token_for(client, cast.transit, scopes=["incidents:read"], name="Reader")
    response = client.post("/api/v1/incidents/", body(), content_type="application/json", headers=bearer(read_only))
    assert response.status_code == 403
    no_incidents = token_for(client, cast.transit, scopes=["notifications:read"], name="Notifications only")
    assert client.get("/api/v1/incidents/", headers=bearer(no_incidents)).status_code == 403
    assert client.get("/api/v1/incidents/", headers=bearer(read_only)).status_code == 200


# --- amendment ----------------------------------------------------------------------------


def test_the_reporter_amends_with_if_match_and_the_history_keeps_the_change(client, cast):
    incident = services.report(actor=cast.transit_officer, data=incident_data(), now=timezone.now())
    client.force_login(cast.transit_officer)
    url = f"/api/v1/incidents/{incident.reference}/"
    etag = client.get(url)["ETag"]

    assert client.patch(url, {"modus_operandi": "Transhipped."}, content_type="application/json").status_code == 428
    stale = client.patch(url, {"modus_operandi": "x"}, content_type="application/json", headers={"If-Match": '"i0-9"'})
    assert stale.status_code == 412
    response = client.patch(
        url,
        {"modus_operandi": "Transhipped in Rotterdam.", "route": ["CN", "NL"]},
        content_type="application/json",
        headers={"If-Match": etag},
    )

    assert response.status_code == 200, response.content
    incident.refresh_from_db()
    assert incident.modus_operandi == "Transhipped in Rotterdam." and incident.version == 2
    assert response.json()["route"] == ["CN", "NL"]
    amended = IncidentEvent.objects.get(incident=incident, kind="amended")
    assert amended.data["changes"]["route"] == [["DE", "NL"], ["CN", "NL"]]
    assert set(amended.data["changes"]) == {"modus_operandi", "route"}


def test_only_the_reporting_authority_amends(client, cast):
    incident = services.report(actor=cast.transit_officer, data=incident_data(shared_with=["BE"]), now=timezone.now())
    url = f"/api/v1/incidents/{incident.reference}/"
    for user, code in ((cast.shared_officer, 403), (cast.incb_reviewer, 403), (cast.outsider_officer, 404)):
        client.force_login(user)
        response = client.patch(url, {"description": "x"}, content_type="application/json", headers={"If-Match": "*"})
        assert response.status_code == code
    client.force_login(cast.transit_officer)
    assert client.delete(url).status_code == 405
    incident.refresh_from_db()
    assert incident.version == 1


def test_an_amendment_with_bad_input_stores_nothing(cast):
    incident = services.report(actor=cast.transit_officer, data=incident_data(), now=timezone.now())
    with pytest.raises(services.ValidationError) as raised:
        services.amend(
            actor=cast.transit_officer, incident=incident, data=incident_data(route=["NL", "NL"]), now=timezone.now()
        )
    assert set(raised.value.message_dict) == {"route"}
    assert [s.country_id for s in incident.route_stops.all()] == ["DE", "NL"]


# --- alerts -----------------------------------------------------------------------------


def test_the_concerned_focal_points_are_alerted_once_by_mail_and_webhook(cast):
    now = timezone.now()
    endpoint, _secret = webhooks.register_endpoint(
        actor=cast.exporter_admin, url="https://de.example/hook", events=["incident.reported"], now=now
    )
    outsider_endpoint, _ = webhooks.register_endpoint(actor=cast.outsider_admin, url="https://fr.example/hook", now=now)
    incident = services.report(actor=cast.transit_officer, data=incident_data(route=["DE", "NL", "GH"]), now=now)

    message = OutboxMessage.objects.get(topic="incident.reported")
    assert message.notification is None and message.payload["reference"] == incident.reference
    for _ in range(2):
        outbox.dispatch(message.pk, now=now)

    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sorted(sent.to) == ["de-bopst@example.org", "gh-fda@example.org", "incb@example.org"]
    assert incident.reference in sent.subject and f"/incidents/{incident.reference}/" in sent.body
    assert "ephedrine" not in sent.body and "ACCRA" not in sent.body  # a link, never the content
    delivery = WebhookDelivery.objects.get()
    assert delivery.endpoint == endpoint and delivery.event == "incident.reported"
    payload = webhooks.payload_for(delivery.message)
    assert payload["reference"] == incident.reference and payload["url"].endswith(
        f"/api/v1/incidents/{incident.reference}/"
    )
    assert not WebhookDelivery.objects.filter(endpoint=outsider_endpoint).exists()
    assert OutboxMessage.objects.filter(topic="incident.reported").count() == 1


# --- backtracking and the flag ----------------------------------------------------------------


def test_matches_find_the_notifications_that_name_a_party_however_spelled(client, cast):
    now = timezone.now()
    named = file(cast, now=now)  # importer "Accra Pharma Ltd"
    other = file(
        cast,
        now=now,
        importer=notification_data().importer.__class__("Accra Pharmaceuticals Holdings", "Accra", "GH-9"),
    )
    incident = services.report(
        actor=cast.transit_officer,
        data=incident_data(
            visibility="all",
            route=["CN", "BR"],
            parties=[PartyData(role="consignee", name="ACCRA-PHARMA LIMITED", country="GH")],
        ),
        now=now,
    )
    client.force_login(cast.exporter_officer)
    response = client.get(f"/api/v1/incidents/{incident.reference}/matches/")

    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    assert [row["notification"] for row in rows] == [named.reference]
    assert rows[0]["reason"] == "party" and rows[0]["party_role"] == "importer"
    assert rows[0]["matched_name"] == "Accra Pharma Ltd" and rows[0]["score"] == 1.0
    assert other.reference not in {row["notification"] for row in rows}


def test_matches_only_show_notifications_the_caller_can_see(client, cast):
    now = timezone.now()
    file(cast, now=now)
    incident = services.report(actor=cast.transit_officer, data=incident_data(visibility="all"), now=now)
    client.force_login(cast.outsider_officer)
    assert client.get(f"/api/v1/incidents/{incident.reference}/matches/").json()["results"] == []


def test_matches_by_route_and_substance(client, cast):
    now = timezone.now()
    notification = file(cast, now=now, importer=notification_data().importer.__class__("Tema Trading", "Tema", ""))
    incident = services.report(
        actor=cast.transit_officer,
        data=incident_data(route=["DE", "NL", "GH"], parties=[PartyData(role="other", name="Unknown Smuggler")]),
        now=now,
    )
    client.force_login(cast.importer_officer)
    rows = client.get(f"/api/v1/incidents/{incident.reference}/matches/").json()["results"]
    assert [(r["notification"], r["reason"]) for r in rows] == [(notification.reference, "route_and_substance")]
    assert 0 < rows[0]["score"] < 1


def test_a_notification_sent_after_the_incident_carries_the_flag(cast):
    now = timezone.now()
    incident = services.report(actor=cast.transit_officer, data=incident_data(), now=now)
    notification = file(cast, now=now)  # names "Accra Pharma Ltd", routed through NL

    signal = RiskSignal.objects.get(notification=notification, kind="incident_party")
    assert incident.reference in signal.detail and signal.resolved_at is None
    assert NotificationPartyName.objects.filter(notification=notification).count() == 2


def test_a_notification_whose_parties_cannot_see_the_incident_is_not_flagged(cast):
    now = timezone.now()
    services.report(actor=cast.outsider_officer, data=incident_data(route=["FR"]), now=now)  # FR only
    notification = file(cast, now=now)
    assert not RiskSignal.objects.filter(notification=notification, kind="incident_party").exists()


def test_a_new_incident_flags_the_open_notifications_it_matches_once(cast):
    now = timezone.now()
    open_one = file(cast, now=now)
    draft = file(cast, now=now, draft=True)
    incident = services.report(actor=cast.transit_officer, data=incident_data(), now=now)
    assert not RiskSignal.objects.filter(kind="incident_party").exists()  # in the background

    assert flags.flag_open_notifications(incident.pk, now=now) == 1
    assert flags.flag_open_notifications(incident.pk, now=now) is None  # once

    assert RiskSignal.objects.filter(kind="incident_party").count() == 1
    assert incident.reference in RiskSignal.objects.get(notification=open_one).detail
    assert not RiskSignal.objects.filter(notification=draft).exists()
    incident.refresh_from_db()
    assert incident.notifications_flagged_at == now
    assert IncidentEvent.objects.get(incident=incident, kind="notifications_flagged").data == {
        "notifications": [open_one.reference]
    }


def test_parties_are_stored_with_their_normalised_name(cast):
    services.report(actor=cast.transit_officer, data=incident_data(), now=timezone.now())
    assert IncidentParty.objects.get().normalised_name == "accra pharma"


@pytest.mark.django_db
def test_the_demo_has_incidents_and_one_matches_a_demo_notification():
    from demo.management.commands.seed_demo import seed_demo

    seed_demo()
    seed_demo()  # idempotent
    assert Incident.objects.count() == 2
    seizure = Incident.objects.get(kind="seizure")
    from notifications.models import Notification

    # Every demo notification names the same importer; the sent ones are found (a draft is
    # known to its author only, and its names are recorded when it is sent).
    named = Notification.objects.filter(importer_name="Coastal Pharmaceuticals Ltd").exclude(status="draft")
    rows = backtracking.matches(seizure, Notification.objects.all())
    assert {row["notification"] for row in rows if row["reason"] == "party"} == set(
        named.values_list("reference", flat=True)
    )
    assert RiskSignal.objects.filter(kind="incident_party", notification__status="awaiting_reply").exists()


@pytest.mark.postgres
def test_on_postgresql_the_party_names_are_searched_through_the_trigram_index(cast, on_postgres):
    """EXPLAIN shows the GIN trigram index answering ``normalised_name % query`` (the
    planner is told to avoid a sequential scan: the test's tables are tiny)."""
    from django.db import connection

    from incidents.backtracking import _similar_to_any

    file(cast, now=timezone.now())
    query = NotificationPartyName.objects.filter(_similar_to_any("normalised_name", ["accra pharma"]))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = query.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "notif_party_name_trgm" in plan, plan
    assert [row.name for row in query] == ["Accra Pharma Ltd"]


def test_reporting_enqueues_the_flagging_after_commit_and_the_relay_runs_a_lost_one(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    now = timezone.now()
    open_one = file(cast, now=now)
    enqueued = []
    monkeypatch.setattr(flags.flag_open_notifications_task, "delay", lambda pk: enqueued.append(pk))
    monkeypatch.setattr(outbox.dispatch_outbox_message, "delay", lambda pk: None)
    with django_capture_on_commit_callbacks(execute=True):
        incident = services.report(actor=cast.transit_officer, data=incident_data(), now=now)
    assert enqueued == [incident.pk]
    # The enqueue was lost: the periodic relay does the work, once.
    assert flags.flag_pending() == 1
    assert flags.flag_pending() == 0
    assert RiskSignal.objects.filter(notification=open_one, kind="incident_party").exists()
