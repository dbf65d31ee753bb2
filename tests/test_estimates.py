"""The estimates (issue 13) through the API and the pages: who reads and who keeps them,
bad input (a message per field or row, nothing written), the import's preview and its
confirmation, INCB's risk page, and where people decide: the filing page warns before
sending, the importing officer sees what to check."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from monitoring import services as estimate_services
from monitoring.models import Estimate
from monitoring.services import EstimateData
from notifications.models import RiskKind, RiskSignal
from notifications.services import ItemData
from tests.api_helpers import bearer, token_for
from tests.conftest import Cast, build_cast
from tests.factories import file

pytestmark = pytest.mark.django_db


@pytest.fixture
def cast(db) -> Cast:
    """Without the standing estimates: these tests record their own."""
    return build_cast(estimates=False)


def _now():
    return timezone.now()


def record(cast, kg, *, substance="ephedrine", country="GH", year=None):
    now = _now()
    return estimate_services.record_estimate(
        actor=cast.incb_reviewer,
        data=EstimateData(country=country, substance=substance, year=year or now.year, quantity=Decimal(kg)),
        now=now,
    )


def ephedrine(kg):
    return [ItemData(substance="ephedrine", quantity=Decimal(kg), unit="kg", packages="drums")]


# --- the API ------------------------------------------------------------------------


def test_any_authenticated_client_reads_the_estimates_with_what_is_notified(cast, client):
    record(cast, 1000)
    file(cast, now=_now(), items=ephedrine("300"))
    token = token_for(client, cast.outsider, scopes=["notifications:read"])
    response = client.get(f"/api/v1/estimates/?country=GH&year={_now().year}", headers=bearer(token))
    assert response.status_code == 200
    assert response.json() == [
        {
            "country": "GH",
            "substance": "ephedrine",
            "year": _now().year,
            "quantity": "1000.000",
            "valid_from": _now().date().isoformat(),
            "notified": "300.000",
            "remaining": "700.000",
        }
    ]
    assert client.get("/api/v1/estimates/").status_code == 401


def test_only_incb_records_an_estimate_and_replacing_keeps_the_history(cast, client):
    record(cast, 1000)
    incb = token_for(client, cast.incb)
    body = {"country": "GH", "substance": "ephedrine", "year": _now().year, "quantity": "1500.5"}
    created = client.post("/api/v1/estimates/", body, content_type="application/json", headers=bearer(incb))
    assert created.status_code == 201, created.content
    assert created.json()["quantity"] == "1500.500" and created.json()["remaining"] == "1500.500"
    rows = Estimate.objects.filter(country_id="GH").order_by("recorded_at", "pk")
    assert [(str(e.quantity), e.replaced_at is None, e.source) for e in rows] == [
        ("1000.000", False, "page"),
        ("1500.500", True, "api"),
    ]
    national = token_for(client, cast.importer, name="Ghana")  # every scope a national authority may hold
    denied = client.post("/api/v1/estimates/", body, content_type="application/json", headers=bearer(national))
    assert denied.status_code == 403
    client.force_login(cast.importer_officer)
    assert client.post("/api/v1/estimates/", body, content_type="application/json").status_code == 403
    assert Estimate.objects.filter(country_id="GH").count() == 2


def test_a_national_authority_cannot_hold_the_estimates_scope(cast):
    from accounts.oauth import scopes_authority_may_hold

    assert "estimates:write" in scopes_authority_may_hold(cast.incb)
    assert "estimates:write" not in scopes_authority_may_hold(cast.importer)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"substance": "acetone"}, "substance"),  # not an ALR substance (Table II, no estimate)
        ({"substance": "no-such"}, "substance"),
        ({"quantity": "-1"}, "quantity"),
        ({"quantity": "5000000"}, "quantity"),  # absurd: grams typed as kilograms
        ({"quantity": "lots"}, "quantity"),
        ({"country": "XX"}, "country"),
        ({"year": 1850}, "year"),
    ],
)
def test_bad_input_is_a_message_on_its_field_and_nothing_is_written(cast, client, body, field):
    incb = token_for(client, cast.incb)
    sent = {"country": "GH", "substance": "ephedrine", "year": _now().year, "quantity": "100", **body}
    response = client.post("/api/v1/estimates/", sent, content_type="application/json", headers=bearer(incb))
    assert response.status_code == 400
    assert list(response.json()) == [field] and response.json()[field][0]
    assert not Estimate.objects.exists()


def test_a_repeated_post_with_the_same_idempotency_key_records_once(cast, client):
    incb = token_for(client, cast.incb)
    body = {"country": "GH", "substance": "ephedrine", "year": _now().year, "quantity": "100"}
    headers = {**bearer(incb), "Idempotency-Key": "estimate-1"}
    first = client.post("/api/v1/estimates/", body, content_type="application/json", headers=headers)
    again = client.post("/api/v1/estimates/", body, content_type="application/json", headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert Estimate.objects.count() == 1


def test_the_list_filters_by_substance_and_refuses_a_non_alr_one(cast, client):
    record(cast, 1000)
    record(cast, 50, substance="pseudoephedrine")
    token = token_for(client, cast.importer)
    year = _now().year
    rows = client.get(f"/api/v1/estimates/?year={year}&substance=pseudoephedrine", headers=bearer(token)).json()
    assert [(r["country"], r["substance"], r["quantity"]) for r in rows] == [("GH", "pseudoephedrine", "50.000")]
    bad = client.get("/api/v1/estimates/?substance=acetone&year=soon", headers=bearer(token))
    assert bad.status_code == 400 and set(bad.json()) == {"substance", "year"}


# --- the pages ----------------------------------------------------------------------


def test_every_authority_reads_the_page_and_only_incb_may_keep_it(cast, client):
    record(cast, 1000)
    client.force_login(cast.outsider_officer)
    page = client.get(reverse("monitoring:list"))
    assert page.status_code == 200
    text = page.content.decode()
    assert ">1,000<" in text and "How the notified quantity is counted" in text
    assert reverse("monitoring:create") not in text
    assert client.get(reverse("monitoring:create")).status_code == 403
    assert client.get(reverse("monitoring:import")).status_code == 403
    client.force_login(cast.incb_reviewer)
    assert reverse("monitoring:create") in client.get(reverse("monitoring:list")).content.decode()


def test_the_form_shows_each_error_beside_its_field_and_writes_nothing(cast, client):
    client.force_login(cast.incb_reviewer)
    response = client.post(
        reverse("monitoring:create"),
        {"country": "GH", "substance": "ephedrine", "year": _now().year, "quantity": "-5"},
    )
    assert response.status_code == 200
    assert "cannot be negative" in response.content.decode()
    assert response.content.decode().count('href="#id_quantity"') == 1
    assert not Estimate.objects.exists()
    done = client.post(
        reverse("monitoring:create"),
        {"country": "GH", "substance": "ephedrine", "year": _now().year, "quantity": "750"},
    )
    assert done.status_code == 302 and Estimate.objects.get().quantity == Decimal("750")


def test_the_history_keeps_every_estimate(cast, client):
    record(cast, 1000)
    record(cast, 1200)
    client.force_login(cast.importer_officer)
    text = client.get(reverse("monitoring:history", args=["GH", "ephedrine"])).content.decode()
    assert ">1,000<" in text and ">1,200<" in text and "replaced" in text and "current" in text


def test_the_country_page_shows_its_own_estimates(cast, client):
    record(cast, 1000)
    client.force_login(cast.importer_officer)
    text = client.get(reverse("authorities:country", args=["GH"])).content.decode()
    assert 'id="estimates"' in text and ">1,000<" in text and "no estimate" in text  # the other three


@pytest.mark.parametrize(
    ("value", "shown"),
    [("1000000.000", "1,000,000"), ("12.500", "12.5"), ("-100.000", "-100"), ("0.000", "0"), ("0.125", "0.125")],
)
def test_a_quantity_reads_as_people_write_it(value, shown):
    from monitoring.templatetags.estimates import kg

    assert kg(Decimal(value)) == shown


def _csv(rows):
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def _upload(client, name, content, **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(reverse("monitoring:import"), {"file": SimpleUploadedFile(name, content), **extra})


def test_an_import_with_a_bad_row_among_good_ones_lists_it_and_writes_nothing(cast, client):
    client.force_login(cast.incb_reviewer)
    day = _now().date().isoformat()
    content = _csv(
        [
            ["country", "substance", "quantity", "date"],
            ["GH", "ephedrine", "1000", day],
            ["GH", "acetone", "10", day],
            ["XX", "pseudoephedrine", "-3", "soon"],
        ]
    )
    response = _upload(client, "alr.csv", content)
    text = response.content.decode()
    assert response.status_code == 200 and "nothing has been imported" in text
    assert 'href="#line-3"' in text and 'href="#line-4"' in text and 'href="#line-2"' not in text
    assert "not an ALR substance" in text and "YYYY-MM-DD" in text and "not a known country" in text
    assert 'name="confirm"' not in text
    assert not Estimate.objects.exists()


def test_a_file_with_the_wrong_columns_is_refused_as_a_whole(cast, client):
    client.force_login(cast.incb_reviewer)
    response = _upload(client, "alr.csv", _csv([["land", "stof", "kg"], ["GH", "ephedrine", "1"]]))
    assert "The columns must be exactly country, substance, quantity, date" in response.content.decode()
    assert not Estimate.objects.exists()


def test_a_good_xlsx_is_previewed_then_written_only_when_confirmed(cast, client):
    client.force_login(cast.incb_reviewer)
    book = Workbook()
    sheet = book.active
    sheet.append(["Country", "Substance", "Quantity", "Date"])
    sheet.append(["GH", "Ephedrine", 1200, _now().date()])
    sheet.append(["NL", "p-2-p", "0", _now().date().isoformat()])
    content = io.BytesIO()
    book.save(content)
    preview = _upload(client, "alr.xlsx", content.getvalue())
    text = preview.content.decode()
    assert "Every row is correct" in text and "Import 2 estimates" in text
    assert not Estimate.objects.exists()
    signed = preview.context["signed"]
    tampered = client.post(reverse("monitoring:import"), {"rows": signed[:-2] + "xx", "confirm": "1"})
    assert tampered.status_code == 302 and not Estimate.objects.exists()
    done = client.post(reverse("monitoring:import"), {"rows": signed, "confirm": "1"})
    assert done.status_code == 302
    assert sorted((e.country_id, e.substance.code, str(e.quantity), e.source) for e in Estimate.objects.all()) == [
        ("GH", "ephedrine", "1200.000", "import"),
        ("NL", "p-2-p", "0.000", "import"),
    ]


# --- where people decide ------------------------------------------------------------


def test_the_filing_page_warns_of_an_exceeded_estimate_before_sending(cast, client):
    record(cast, 300)
    file(cast, now=_now(), items=ephedrine("250"))
    draft = file(cast, now=_now(), draft=True, items=ephedrine("100"))
    client.force_login(cast.exporter_officer)
    for url in (draft.get_absolute_url(), reverse("notifications:send", args=[draft.reference])):
        text = client.get(url).content.decode()
        assert 'id="risk-preview"' in text, url
        assert "50 kg above its estimate of 300 kg" in text and "You can still send it" in text
    assert not RiskSignal.objects.filter(notification=draft).exists()  # the preview writes nothing
    within = file(cast, now=_now(), draft=True, items=ephedrine("10"))
    assert 'id="risk-preview"' not in client.get(within.get_absolute_url()).content.decode()


def test_the_importing_officer_sees_the_flag_and_what_to_check_at_the_top(cast, client):
    record(cast, 100)
    flagged = file(cast, now=_now(), items=ephedrine("250"))
    client.force_login(cast.importer_officer)
    text = client.get(flagged.get_absolute_url()).content.decode()
    top = text[: text.index('id="risk"')]
    assert "What to check:" in top and "annual legitimate requirement" in top
    client.force_login(cast.exporter_officer)
    assert "What to check:" not in client.get(flagged.get_absolute_url()).content.decode()


def test_every_flag_kind_has_something_to_check():
    from notifications.risk import WHAT_TO_CHECK

    assert set(WHAT_TO_CHECK) == set(RiskKind.values)


# --- INCB's risk page ---------------------------------------------------------------


def _flagged(cast):
    record(cast, 100)
    over = file(cast, now=_now() - timedelta(hours=2), items=ephedrine("250"))
    pseudo = file(
        cast,
        now=_now() - timedelta(hours=1),
        items=[ItemData(substance="pseudoephedrine", quantity=Decimal("5"), unit="kg", packages="box")],
    )  # no estimate of pseudoephedrine: flagged differently
    return over, pseudo


def test_the_risk_page_is_incbs_filterable_and_sortable(cast, client):
    over, pseudo = _flagged(cast)
    client.force_login(cast.importer_officer)
    assert client.get(reverse("monitoring:risk")).status_code == 404
    client.force_login(cast.incb_reviewer)
    page = client.get(reverse("monitoring:risk"))
    rows = [s.notification.reference for s in page.context["page"].object_list]
    assert rows == [pseudo.reference, over.reference]  # newest flag first by default
    rows = [s.notification.reference for s in client.get(reverse("monitoring:risk") + "?sort=raised").context["page"]]
    assert rows == [over.reference, pseudo.reference]
    by_substance = client.get(reverse("monitoring:risk") + "?substance=pseudoephedrine").context["page"]
    assert [s.notification.reference for s in by_substance] == [pseudo.reference]
    assert not client.get(reverse("monitoring:risk") + "?country=FR").context["page"].object_list
    assert 'aria-sort="descending"' in page.content.decode()


def test_the_risk_export_is_exactly_the_filtered_rows(cast, client):
    over, pseudo = _flagged(cast)
    client.force_login(cast.incb_reviewer)
    response = client.get(reverse("monitoring:risk_csv") + "?substance=ephedrine")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:2] == ["notification", "flag"]
    assert [(r[0], r[1]) for r in rows[1:]] == [(over.reference, "alr_exceeded")]
    assert "150 kg above its estimate of 100 kg" in rows[1][-1]
    client.force_login(cast.exporter_officer)
    assert client.get(reverse("monitoring:risk_csv")).status_code == 404


def test_the_items_copy_of_their_notifications_destination_time_and_status_follows_every_transition(cast):
    """What the estimates and the flags read from the items alone (Item.importing_country,
    submitted_at, notification_status) is the notification's, after each kind of change."""
    from django.db.models import F, Q

    from notifications import services
    from notifications.models import Item

    def copies_hold():
        stale = Item.objects.exclude(notification_status=F("notification__status")) | Item.objects.filter(
            Q(notification__submitted_at__isnull=False)
            & (
                ~Q(submitted_at=F("notification__submitted_at"))
                | ~Q(importing_country=F("notification__importing_country"))
            )
        )
        return not stale.exists()

    draft = file(cast, now=_now(), draft=True)
    assert copies_hold() and draft.items.get().submitted_at is None
    services.submit(actor=cast.exporter_officer, notification=draft, now=_now())
    objected, withdrawn, asked = (file(cast, now=_now()) for _ in range(3))
    services.respond(
        actor=cast.importer_officer, notification=objected, decision="objection", comment="No.", now=_now()
    )
    services.withdraw(actor=cast.exporter_officer, notification=withdrawn, reason="Cancelled.", now=_now())
    services.respond(
        actor=cast.importer_officer, notification=asked, decision="information_requested", comment="Who?", now=_now()
    )
    services.amend(
        actor=cast.exporter_officer,
        notification=draft,
        data=services.replace(services.stored_data(draft), carrier="Maersk Line"),
        now=_now(),
    )
    assert copies_hold()
    assert sorted(Item.objects.values_list("notification_status", flat=True)) == sorted(
        ["awaiting_reply", "objection", "withdrawn", "information_requested"]
    )
