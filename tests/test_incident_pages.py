"""The incidents' pages (issue 11): the form with inline errors, amendment, the incident
page with the notifications behind it, the notification page's panel, INCB's overview."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from incidents import services
from incidents.models import Incident, IncidentEvent
from incidents.services import IncidentData, PartyData, SubstanceData
from tests.factories import file


def form_body(**overrides):
    body = {
        "kind": "seizure",
        "occurred_on": (timezone.now().date() - timedelta(days=1)).isoformat(),
        "description": "Drums of ephedrine declared as salt.",
        "modus_operandi": "",
        "route": "DE, NL",
        "related_notifications": "",
        "visibility": "concerned",
        "shared_with": "",
        "substances.0.substance": "ephedrine",
        "substances.0.quantity": "120",
        "substances.0.unit": "kg",
        "parties.0.role": "importer",
        "parties.0.name": "Accra Pharma Limited",
        "parties.0.country": "GH",
    }
    body.update(overrides)
    return body


def report(cast, **overrides):
    values = dict(
        kind="seizure",
        occurred_on=timezone.now().date() - timedelta(days=1),
        description="Drums of ephedrine declared as salt.",
        substances=[SubstanceData(substance="ephedrine")],
        parties=[PartyData(role="importer", name="ACCRA PHARMA LTD.")],
        route=["DE", "NL"],
    )
    values.update(overrides)
    return services.report(actor=cast.transit_officer, data=IncidentData(**values), now=timezone.now())


def test_an_officer_reports_an_incident_on_the_page(client, cast):
    client.force_login(cast.transit_officer)
    assert client.get(reverse("incidents:create")).status_code == 200
    response = client.post(reverse("incidents:create"), form_body())

    incident = Incident.objects.get()
    assert response.status_code == 302 and response["Location"] == incident.get_absolute_url()
    assert incident.parties.get().name == "Accra Pharma Limited"
    assert [s.country_id for s in incident.route_stops.all()] == ["DE", "NL"]


def test_the_form_shows_each_error_beside_its_field_and_stores_nothing(client, cast):
    client.force_login(cast.transit_officer)
    tomorrow = (timezone.now().date() + timedelta(days=1)).isoformat()
    response = client.post(
        reverse("incidents:create"),
        form_body(
            occurred_on=tomorrow,
            route="CN, NL, NL",
            **{
                "substances.1.chemical_name": "Safrole oil",
                "substances.1.cas_number": "94-59-8",
                # The second party row has an address but no name (the first row is filled).
                "parties.2.address": "Somewhere",
                "parties.2.role": "broker",
            },
        ),
    )

    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {"occurred_on", "route", "substances.1.cas_number", "parties.2.name"}
    page = response.content.decode()
    assert "There is a problem" in page and 'href="#id_parties.2.name"' in page
    assert Incident.objects.count() == 0


def test_the_reporter_amends_on_the_page_and_the_history_shows_it(client, cast):
    incident = report(cast)
    client.force_login(cast.transit_officer)
    page = client.get(reverse("incidents:amend", args=[incident.reference]))
    assert page.status_code == 200 and "ACCRA PHARMA LTD." in page.content.decode()
    body = form_body(**{"parties.0.name": "ACCRA PHARMA LTD.", "version": "1", "modus_operandi": "Transhipped."})
    response = client.post(reverse("incidents:amend", args=[incident.reference]), body)

    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.modus_operandi == "Transhipped." and incident.version == 2
    assert IncidentEvent.objects.filter(incident=incident, kind="amended").exists()
    detail = client.get(incident.get_absolute_url()).content.decode()
    assert "Amended" in detail


def test_others_may_not_amend_on_the_page(client, cast):
    incident = report(cast, visibility="all")
    for user, code in ((cast.exporter_officer, 403), (cast.incb_reviewer, 403)):
        client.force_login(user)
        assert client.get(reverse("incidents:amend", args=[incident.reference])).status_code == code
    client.force_login(cast.incb_reviewer)
    assert client.get(reverse("incidents:create")).status_code == 403


def test_the_incident_page_lists_the_notifications_behind_it(client, cast):
    notification = file(cast, now=timezone.now())  # importer "Accra Pharma Ltd"
    incident = report(cast)
    client.force_login(cast.exporter_officer)
    page = client.get(incident.get_absolute_url()).content.decode()
    assert notification.reference in page and "Names Accra Pharma Ltd as importer" in page


def test_the_notification_page_shows_the_incidents_that_name_its_parties(client, cast):
    notification = file(cast, now=timezone.now())  # DE -> NL -> GH
    incident = report(cast)  # NL reports, DE and NL on its route: GH is not concerned
    client.force_login(cast.exporter_officer)
    page = client.get(notification.get_absolute_url()).content.decode()
    assert "Incidents naming its parties" in page and incident.reference in page
    client.force_login(cast.importer_officer)  # may read the notification, not the incident
    page = client.get(notification.get_absolute_url()).content.decode()
    assert "Incidents naming its parties" in page and incident.reference not in page


def test_the_list_filters_on_the_page(client, cast):
    report(cast)
    report(cast, kind="diversion_attempt", route=["GH"])
    client.force_login(cast.transit_officer)
    page = client.get(reverse("incidents:list"), {"kind": "diversion_attempt"}).content.decode()
    assert "Diversion attempt" in page and "1 incident" in page


def test_incbs_overview_counts_by_substance_and_kind_and_exports_csv(client, cast):
    report(cast)
    report(
        cast, kind="diversion_attempt", substances=[SubstanceData(chemical_name="Safrole oil", cas_number="94-59-7")]
    )
    client.force_login(cast.incb_reviewer)
    page = client.get(reverse("incidents:overview"))
    assert page.status_code == 200 and "Safrole oil" in page.content.decode()
    csv = client.get(reverse("incidents:overview_csv")).content.decode().splitlines()
    assert csv[0].startswith("section,key,seizure,stopped_shipment")
    month = timezone.now().date().strftime("%Y-%m")
    assert any(line.startswith(f"month,{month},1,0,0,1,0,0,2") for line in csv), csv
    assert "substance,Ephedrine,1,0,0,0,0,0,1" in csv
    client.force_login(cast.exporter_officer)
    assert client.get(reverse("incidents:overview")).status_code == 404
    assert client.get(reverse("incidents:overview_csv")).status_code == 404
